"""Training captions of an attribute record: many phrasings, and the paper's template filled in.

CLIP-Head §2.3 captions its aligned texture scans with BLIP-2, and §2.1 pairs heads with text built
from its template (:data:`~cliphead.lab.world.vocabulary.PAPER_TEMPLATE`). Here a caption is written
from the exact record a texture was painted from (:mod:`.attributes`), its expression label and its
geometry words (:mod:`.geometry`), in the words of :mod:`.vocabulary`:

- :func:`captions` mixes sentence frames, synonyms ("red"/"ginger", "grey"/"gray", "stubble"/"a five
  o'clock shadow") and clause orders, with and without the paper's template, so a contrastive text
  encoder learns the attributes rather than one sentence. Colour-type attributes (hair colour, skin,
  lipstick, beard) appear in most captions; the others in some.
- :func:`paper_caption` is the paper's template, filled in exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.vocabulary import (
    AGE_MARKS,
    AGE_WORDS,
    BALD_ADJECTIVE,
    BALD_PAPER,
    BALD_PHRASES,
    BEARD_PHRASES,
    BLUSH,
    BROW_PHRASE,
    BROW_THICKNESS,
    EXPRESSION_PHRASES,
    EYE_PHRASE,
    EYE_WORDS,
    FRECKLES,
    GENDER_WORDS,
    HAIR_ADJECTIVE,
    HAIR_PHRASES,
    HAIR_WORDS,
    LIPSTICK_CLAUSES,
    LIPSTICK_PHRASES,
    LIPSTICK_WORDS,
    NO_BEARD,
    NO_LIPSTICK,
    OPENERS,
    PAPER_TEMPLATE,
    RECEDING_ONLY,
    SKIN_ADJECTIVES,
    SKIN_NOUNS,
    STYLE_PHRASES,
    fix_articles,
    with_article,
)
from cliphead.heads.expressions import EXPRESSION_LABELS, normalise_label

#: Probability that a caption uses the paper's template (the rest are free compositions).
P_PAPER_TEMPLATE = 0.25
#: Most optional details (eyes, brows, age marks, freckles, blush, geometry words) in one caption.
MAX_DETAILS = 4


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _expression_label(expression: str) -> str:
    label = normalise_label(expression)
    if label not in EXPRESSION_PHRASES:
        raise KeyError(f"Unknown expression '{expression}'. Labelled expressions: {', '.join(EXPRESSION_LABELS)}.")
    return label


def paper_caption(attributes: Attributes, expression: str) -> str:
    """The paper's template with canonical words; bald records get "with no hair" for the colour."""
    a = attributes
    colour = f"{HAIR_WORDS[a.hair_colour][0]} hair" if a.has_hair else BALD_PAPER
    text = PAPER_TEMPLATE.replace("{colour} hair", colour).format(
        age=a.age,
        skin=SKIN_ADJECTIVES[a.skin_bucket][0],
        gender=a.gender,
        expression=EXPRESSION_PHRASES[_expression_label(expression)][0],
    )
    return fix_articles(text)


class _Parts(NamedTuple):
    adjectives: list[str]  # before the subject noun
    core: dict[str, str]  # "with" phrases of the colour-type attributes: skin, hair, beard, lipstick
    details: list[str]  # optional "with" phrases
    clauses: list[str]  # comma clauses (lipstick worn, style, clean-shaven)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _parts(a: Attributes, geometry: dict[str, str | None], rng: np.random.Generator) -> _Parts:
    """Randomly chosen, phrased clauses of a record (not yet ordered)."""

    def pick(options: tuple[str, ...]) -> str:
        return _pick(rng, options)

    parts = _Parts([], {}, [], [])
    if rng.random() < 0.8:
        parts.adjectives.append(pick(AGE_WORDS[a.age]))
    skin = rng.random()
    if skin < 0.5:
        parts.adjectives.append(pick(SKIN_ADJECTIVES[a.skin_bucket]))
    elif skin < 0.9:
        parts.core["skin"] = pick(SKIN_NOUNS[a.skin_bucket])

    if not a.has_hair:
        if rng.random() < 0.5:
            parts.adjectives.append(BALD_ADJECTIVE)
        elif rng.random() < 0.8:
            parts.core["hair"] = pick(BALD_PHRASES)
    elif rng.random() < 0.9:
        colour = pick(HAIR_WORDS[a.hair_colour])
        if a.hair == "full" and not colour.startswith("dyed") and rng.random() < 0.25:
            parts.adjectives.append(HAIR_ADJECTIVE.format(c=colour))
        else:
            parts.core["hair"] = pick(HAIR_PHRASES[a.hair]).format(c=colour)
    elif a.hair == "receding":
        parts.core["hair"] = RECEDING_ONLY

    if a.beard != "none" and rng.random() < 0.85:
        colour = pick(HAIR_WORDS[a.beard_colour]) + " " if rng.random() < 0.8 else ""
        parts.core["beard"] = pick(BEARD_PHRASES[a.beard]).format(c=colour)
    elif a.beard == "none" and a.gender == "man" and rng.random() < 0.3:
        parts.clauses.append(NO_BEARD)

    if a.lipstick != "none" and rng.random() < 0.85:
        colour = pick(LIPSTICK_WORDS[a.lipstick])
        if rng.random() < 0.5:
            parts.core["lipstick"] = pick(LIPSTICK_PHRASES).format(c=colour)
        else:
            parts.clauses.append(pick(LIPSTICK_CLAUSES).format(c=colour))
    elif a.lipstick == "none" and a.gender == "woman" and rng.random() < 0.1:
        parts.clauses.append(NO_LIPSTICK)
    if a.style != "none" and rng.random() < 0.9:
        parts.clauses.append(pick(STYLE_PHRASES[a.style]))

    details = []
    if rng.random() < 0.5:
        details.append(EYE_PHRASE.format(c=pick(EYE_WORDS[a.eye_colour])))
    if rng.random() < 0.3:
        colour = pick(HAIR_WORDS[a.brow_colour]) if rng.random() < 0.5 else ""
        if a.brows != "medium" or colour:  # say how the brows look, not only that they exist
            details.append(" ".join(BROW_PHRASE.format(t=pick(BROW_THICKNESS[a.brows]), c=colour).split()))
    if AGE_MARKS[a.age] and rng.random() < 0.4:
        details.append(pick(AGE_MARKS[a.age]))
    if a.freckles and rng.random() < 0.7:
        details.append(pick(FRECKLES))
    if a.blush and rng.random() < 0.7:
        details.append(pick(BLUSH))
    shape = [with_article(word) for word in geometry.values() if word is not None]
    for k in rng.permutation(len(shape))[: int(rng.integers(0, min(3, len(shape)) + 1))]:
        details.append(shape[k])
    parts.details.extend(details[k] for k in rng.permutation(len(details))[:MAX_DETAILS])
    return parts


def _free_caption(a: Attributes, expression: str | None, parts: _Parts, rng: np.random.Generator) -> str:
    """Opener + subject + shuffled "with" groups, comma clauses and the expression."""
    adjectives = list(parts.adjectives)
    if len(adjectives) > 1 and rng.random() < 0.3:
        adjectives = [adjectives[k] for k in rng.permutation(len(adjectives))]
    subject = " ".join(["a", *adjectives, _pick(rng, GENDER_WORDS[a.gender])])
    core = list(parts.core.values())
    features = [core[k] for k in rng.permutation(len(core))] + parts.details
    split = int(rng.integers(1, len(features))) if len(features) > 1 and rng.random() < 0.3 else len(features)
    groups = [f"with {_join(group)}" for group in (features[:split], features[split:]) if group]
    tail = groups[1:] + parts.clauses + ([expression] if expression else [])
    tail = [tail[k] for k in rng.permutation(len(tail))]
    text = " ".join([subject, *groups[:1]]) + "".join(f", {clause}" for clause in tail)
    opener = _pick(rng, OPENERS)
    text = f"{opener} {text}" if opener else text[0].upper() + text[1:]
    return fix_articles(text)


def _paper_like_caption(a: Attributes, expression: str, parts: _Parts, rng: np.random.Generator) -> str:
    """The paper's template with synonyms, then the other clauses; only for records with hair.

    The template names skin and hair colour itself; a receding hairline follows as a clause.
    """
    text = PAPER_TEMPLATE.format(
        age=_pick(rng, AGE_WORDS[a.age]),
        skin=_pick(rng, SKIN_ADJECTIVES[a.skin_bucket]),
        gender=_pick(rng, GENDER_WORDS[a.gender]),
        colour=_pick(rng, HAIR_WORDS[a.hair_colour]),
        expression=expression,
    )
    extra = [RECEDING_ONLY] if a.hair == "receding" else []
    extra += [parts.core[kind] for kind in ("beard", "lipstick") if kind in parts.core] + parts.details
    extra = ([f"with {_join(extra)}"] if extra else []) + parts.clauses
    return fix_articles(text + "".join(f", {clause}" for clause in extra))


def captions(
    attributes: Attributes,
    expression: str,
    geometry: dict[str, str | None],
    rng: np.random.Generator,
    n: int,
) -> list[str]:
    """``n`` training captions of one record (distinct where the record allows), deterministic in ``rng``.

    ``geometry`` is :func:`cliphead.lab.world.geometry.geometry_words` of the head (None entries are
    never mentioned; up to three of the others per caption). About a quarter of the captions of a
    record with hair follow the paper's template (:data:`P_PAPER_TEMPLATE`), which always names the
    expression; free compositions name a "neutral" expression half the time, any other nine in ten.
    """
    label = _expression_label(expression)
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(20 * n):
        if len(out) == n:
            break
        text = _caption(attributes, label, geometry, rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    while len(out) < n:
        out.append(_caption(attributes, label, geometry, rng))
    return out


def _caption(a: Attributes, label: str, geometry: dict[str, str | None], rng: np.random.Generator) -> str:
    """One caption: the paper-like template (always names the expression) or a free composition."""
    expression = _pick(rng, EXPRESSION_PHRASES[label])
    parts = _parts(a, geometry, rng)
    if a.has_hair and rng.random() < P_PAPER_TEMPLATE:
        return _paper_like_caption(a, expression, parts, rng)
    mention = rng.random() < (0.5 if label == "neutral" else 0.9)
    return _free_caption(a, expression if mention else None, parts, rng)
