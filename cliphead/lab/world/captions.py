"""Captions of an attribute record: many phrasings for training, fixed prompts for evaluation.

CLIP-Head §2.3 captions its aligned texture scans with BLIP-2, and §2.1 pairs heads with text built
from the template "A face of a {age} {ethnicity} {man/woman/person} with {color} hair, {expression}".
Here a caption is written from the exact record a texture was painted from (:mod:`.attributes`), its
expression label and its geometry words (:mod:`.geometry`):

- :func:`captions` mixes sentence frames, synonyms ("red"/"ginger", "grey"/"gray", "stubble"/"a five
  o'clock shadow") and clause orders, with and without the paper's template, so a contrastive text
  encoder learns the attributes rather than one sentence. Colour-type attributes (hair colour, skin,
  lipstick, beard) appear in most captions; the others in some.
- :func:`paper_caption` is the paper's template, filled in exactly.
- :func:`zero_shot_prompts` gives one prompt per class value in the training wording.
- :data:`PARAPHRASES` / :func:`paraphrase_prompts` give held-out wording: apart from
  :data:`SHARED_WORDS`, none of their words occurs in any training caption
  (:func:`training_vocabulary` lists every word a caption can contain), and their frames put the
  attribute after the noun ("someone whose hair is copper") where training puts it before.

The paper fills the {ethnicity} slot with a word like "Asian". This synthetic world has no ethnicity,
only a Monk skin tone painted on a shared ICT head shape, so the slot holds a skin-tone word
("light-skinned", "medium-skinned", "dark-skinned", from the record's skin bucket): a caption must
not claim what the texture does not show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from cliphead.lab.world.attributes import BEARDS, EYE_COLOURS, HAIR_COLOURS, LIPSTICKS, SKIN_BUCKETS, Attributes
from cliphead.lab.world.geometry import GEOMETRY_MEASURES
from cliphead.heads.expressions import EXPRESSION_LABELS, normalise_label

#: The paper's §2.1 template, with a skin-tone word in the {skin} slot (see the module docstring).
PAPER_TEMPLATE = "A face of a {age} {skin} {gender} with {colour} hair, {expression}"

# Word tables: a value's synonyms, the first the canonical word (paper caption, zero-shot prompts).
# ``{c}`` in a phrase is a colour word.
AGE_WORDS = {"young": ("young", "youthful"), "middle-aged": ("middle-aged",), "old": ("old", "elderly", "older")}
GENDER_WORDS = {"man": ("man", "guy"), "woman": ("woman", "lady"), "person": ("person",)}
SKIN_ADJECTIVES = {
    "light": ("light-skinned", "fair-skinned", "pale-skinned"),
    "medium": ("medium-skinned", "olive-skinned", "tan-skinned"),
    "dark": ("dark-skinned",),
}
SKIN_NOUNS = {
    "light": ("light skin", "fair skin", "pale skin", "a light skin tone"),
    "medium": ("medium skin", "olive skin", "tan skin", "a medium skin tone"),
    "dark": ("dark skin", "a dark skin tone", "a deep skin tone"),
}
HAIR_WORDS = {
    "black": ("black",),
    "brown": ("brown", "brunette"),
    "blonde": ("blonde", "blond"),
    "red": ("red", "ginger"),
    "grey": ("grey", "gray"),
    "white": ("white",),
    "blue": ("blue", "dyed blue"),
    "pink": ("pink", "dyed pink"),
    "green": ("green", "dyed green"),
    "purple": ("purple", "dyed purple"),
}
HAIR_PHRASES = {
    "full": ("{c} hair",),
    "receding": ("receding {c} hair", "a receding hairline of {c} hair", "thinning {c} hair"),
}
HAIR_ADJECTIVE = "{c}-haired"
RECEDING_ONLY = "a receding hairline"
BALD_ADJECTIVE = "bald"
BALD_PHRASES = ("a bald head", "a hairless head")
#: What the paper's template says in place of "{colour} hair" for a bald record.
BALD_PAPER = "no hair"
BEARD_PHRASES = {
    "stubble": ("{c}stubble", "a five o'clock shadow", "short {c}stubble"),
    "moustache": ("a {c}moustache", "a {c}mustache"),
    "goatee": ("a {c}goatee", "a {c}goatee beard"),
    "full beard": ("a full {c}beard", "a thick {c}beard", "a big {c}beard"),
}
NO_BEARD = "clean-shaven"
LIPSTICK_WORDS = {
    "red": ("red", "scarlet"),
    "pink": ("pink", "hot pink"),
    "purple": ("purple", "deep purple"),
    "black": ("black",),
    "orange": ("orange", "bright orange"),
}
LIPSTICK_PHRASES = ("{c} lipstick",)
LIPSTICK_CLAUSES = ("wearing {c} lipstick",)
NO_LIPSTICK = "without lipstick"
EYE_WORDS = {"brown": ("brown",), "blue": ("blue",), "green": ("green",), "grey": ("grey", "gray"), "hazel": ("hazel",)}
EYE_PHRASE = "{c} eyes"
BROW_THICKNESS = {"thin": ("thin", "sparse"), "medium": ("",), "thick": ("thick", "heavy")}
BROW_PHRASE = "{t} {c} eyebrows"
AGE_MARKS = {
    "young": (),
    "middle-aged": ("wrinkles", "fine wrinkles", "laugh lines"),
    "old": ("deep wrinkles", "wrinkles and age spots", "age spots"),
}
FRECKLES = ("freckles", "freckled cheeks")
BLUSH = ("rosy cheeks", "flushed cheeks", "blushing cheeks")
STYLE_PHRASES = {
    "clown": ("wearing clown makeup", "in clown makeup", "with clown makeup"),
    "skull": ("with skull face paint", "wearing skull makeup", "with a sugar skull face"),
    "tiger": ("with tiger stripes", "with tiger face paint", "made up as a tiger"),
    "zombie": ("made up as a zombie", "as a zombie", "looking like a zombie"),
    "alien": ("as a blue-skinned alien", "as a blue alien", "made up as a blue-skinned alien"),
    "giant": ("as a green giant", "as a green-skinned giant", "looking like a green giant"),
    "gold statue": ("as a gold statue", "looking like a gold statue", "made of gold"),
    "silver statue": ("as a silver statue", "looking like a silver statue", "made of silver"),
    "war paint": ("with war paint", "wearing war paint", "with tribal war paint"),
    "tattoos": ("with face tattoos", "with tattoos", "covered in face tattoos"),
}
EXPRESSION_PHRASES = {
    "neutral": ("with a neutral expression", "with a relaxed face", "expressionless"),
    "happy": ("smiling", "with a happy smile", "looking happy"),
    "sad": ("looking sad", "with a sad expression", "with a sorrowful look"),
    "angry": ("looking angry", "with an angry expression", "scowling"),
    "surprised": ("looking surprised", "with a surprised expression", "with an astonished look"),
    "disgusted": ("looking disgusted", "with a disgusted expression", "wrinkling the nose in disgust"),
    "fearful": ("looking afraid", "with a fearful expression", "looking scared"),
    "pouting": ("pouting", "with a pout", "with pouting lips"),
    "laughing": ("laughing", "laughing out loud", "with a big laugh"),
    "smirk": ("smirking", "with a smirk", "with a lopsided smile"),
    "wink": ("winking", "with a wink", "winking one eye"),
    "eyes closed": ("with eyes closed", "with closed eyes", "with the eyes shut"),
    "mouth open": ("with the mouth open", "with an open mouth", "with the mouth agape"),
    "puffed cheeks": ("with puffed cheeks", "puffing the cheeks out", "with cheeks puffed out"),
    "kiss": ("making a kissing face", "puckering up for a kiss", "blowing a kiss"),
    "squint": ("squinting", "with squinted eyes", "narrowing the eyes"),
    "raised brows": ("with raised eyebrows", "raising the eyebrows", "with eyebrows raised"),
    "frown": ("frowning", "with a frown", "with furrowed brows"),
    "grimace": ("grimacing", "with a grimace", "baring the teeth in a grimace"),
    "jaw left": ("with the jaw pushed to the left", "shifting the jaw to the left", "with the jaw moved left"),
    "jaw right": ("with the jaw pushed to the right", "shifting the jaw to the right", "with the jaw moved right"),
    "jaw forward": ("with the jaw pushed forward", "jutting the jaw forward", "with a jutting jaw"),
    "lips rolled in": ("with the lips rolled in", "pressing the lips inwards", "with lips tucked in"),
}
OPENERS = ("A face of", "A 3D head of", "A head of", "A render of", "A close-up of", "")
#: Glue words the sentence builder adds between phrases.
GLUE = ("a", "an", "with", "and")

#: Probability that a caption uses the paper's template (the rest are free compositions).
P_PAPER_TEMPLATE = 0.25
#: Most optional details (eyes, brows, age marks, freckles, blush, geometry words) in one caption.
MAX_DETAILS = 4


class Paraphrase(NamedTuple):
    """Held-out wording of one attribute: a sentence frame and each class value's phrase for ``{}``."""

    frame: str
    values: dict[str, str]


#: Held-out prompts (:func:`paraphrase_prompts`): no word outside SHARED_WORDS occurs in training captions.
PARAPHRASES: dict[str, Paraphrase] = {
    "hair_colour": Paraphrase(
        "a portrait of someone whose hair is {}",
        {
            "black": "raven",
            "brown": "chestnut",
            "blonde": "golden",
            "red": "copper",
            "grey": "pewter",
            "white": "snowy",
            "blue": "cobalt",
            "pink": "fuchsia",
            "green": "emerald",
            "purple": "violet",
        },
    ),
    "skin_bucket": Paraphrase(
        "a portrait of someone whose complexion is {}", {"light": "porcelain", "medium": "caramel", "dark": "mahogany"}
    ),
    "lipstick": Paraphrase(
        "somebody whose lips are {}",
        {
            "none": "unpainted",
            "red": "painted crimson",
            "pink": "painted bubblegum",
            "purple": "painted plum",
            "black": "painted onyx",
            "orange": "painted tangerine",
        },
    ),
    "beard": Paraphrase(
        "a portrait of someone {}",
        {
            "none": "whose jawline is smoothly shaved",
            "stubble": "whose jawline is bristly",
            "moustache": "sporting walrus whiskers above their upper lip",
            "goatee": "sporting a pointed tuft beneath their bottom lip",
            "full beard": "sporting dense whiskers covering their entire jawline",
        },
    ),
    "age": Paraphrase(
        "a snapshot of somebody who turned {}", {"young": "twenty", "middle-aged": "fifty", "old": "eighty"}
    ),
}
PARAPHRASES["lipstick_colour"] = Paraphrase(
    PARAPHRASES["lipstick"].frame, {c: v for c, v in PARAPHRASES["lipstick"].values.items() if c != "none"}
)
PARAPHRASES["beard_colour"] = Paraphrase(
    "a portrait of someone whose whiskers are {}", PARAPHRASES["hair_colour"].values
)
#: Held-out sentence frames around the training captions' own attribute words ("someone whose hair is
#: red"): apart from SHARED_WORDS and the attribute word, a frame's words never occur in a training
#: caption, and the attribute comes after its noun where training puts it before.
REFRAMED: dict[str, Paraphrase] = {
    "hair_colour": Paraphrase(PARAPHRASES["hair_colour"].frame, {c: HAIR_WORDS[c][0] for c in HAIR_COLOURS}),
    "skin_bucket": Paraphrase(PARAPHRASES["skin_bucket"].frame, {b: b for b in SKIN_BUCKETS}),
    "lipstick_colour": Paraphrase(
        PARAPHRASES["lipstick"].frame, {c: f"painted {w[0]}" for c, w in LIPSTICK_WORDS.items()}
    ),
    "beard_colour": Paraphrase(PARAPHRASES["beard_colour"].frame, {c: HAIR_WORDS[c][0] for c in HAIR_COLOURS}),
}
#: The only words paraphrase prompts share with training captions: articles and the attribute's noun.
SHARED_WORDS = frozenset({"a", "of", "hair", "lips"})


def caption_words(text: str) -> set[str]:
    """The lower-case words of a text (letters and digits; hyphens and apostrophes split words)."""
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _strings(table: object) -> Iterable[str]:
    if isinstance(table, str):
        yield table
    elif isinstance(table, dict):
        for value in table.values():
            yield from _strings(value)
    else:
        for value in table:
            yield from _strings(value)


@lru_cache(maxsize=1)
def training_vocabulary() -> frozenset[str]:
    """Every word any caption from :func:`captions` or :func:`paper_caption` can contain."""
    tables = (
        PAPER_TEMPLATE,
        AGE_WORDS,
        GENDER_WORDS,
        SKIN_ADJECTIVES,
        SKIN_NOUNS,
        HAIR_WORDS,
        HAIR_PHRASES,
        HAIR_ADJECTIVE,
        RECEDING_ONLY,
        BALD_ADJECTIVE,
        BALD_PHRASES,
        BALD_PAPER,
        BEARD_PHRASES,
        NO_BEARD,
        LIPSTICK_WORDS,
        LIPSTICK_PHRASES,
        LIPSTICK_CLAUSES,
        NO_LIPSTICK,
        EYE_WORDS,
        EYE_PHRASE,
        BROW_THICKNESS,
        BROW_PHRASE,
        AGE_MARKS,
        FRECKLES,
        BLUSH,
        STYLE_PHRASES,
        EXPRESSION_PHRASES,
        OPENERS,
        GLUE,
        [(measure.low, measure.high) for measure in GEOMETRY_MEASURES.values()],
    )
    words: set[str] = set()
    for text in _strings(tables):
        words |= caption_words(re.sub(r"\{\w*\}", " ", text))
    return frozenset(words)


def fix_articles(text: str) -> str:
    """``a`` before a vowel becomes ``an`` (the captions' words need no other exception)."""
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _with_article(word: str) -> str:
    """A geometry word as a noun phrase: plurals (``full lips``) bare, the rest with ``a``."""
    return word if word.endswith("s") else f"a {word}"


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
    shape = [_with_article(word) for word in geometry.values() if word is not None]
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


def zero_shot_prompts(attribute: str) -> dict[str, str]:
    """One prompt per class value of an attribute (or geometry measure), in the training captions' words.

    Attributes: hair_colour, skin_bucket, lipstick, beard, lipstick_colour and beard_colour (the colour
    among faces that wear one), style, age, eye_colour, expression, and every name of
    :data:`GEOMETRY_MEASURES` (classes: its low and high word).
    """
    if attribute in GEOMETRY_MEASURES:
        measure = GEOMETRY_MEASURES[attribute]
        return {word: f"a person with {_with_article(word)}" for word in (measure.low, measure.high)}
    prompts = {
        "hair_colour": {c: f"a face with {HAIR_WORDS[c][0]} hair" for c in HAIR_COLOURS},
        "skin_bucket": {b: f"a face with {b} skin" for b in SKIN_BUCKETS},
        "lipstick": {
            c: "a face without lipstick" if c == "none" else f"a face with {LIPSTICK_WORDS[c][0]} lipstick"
            for c in LIPSTICKS
        },
        "beard": {
            b: f"a {NO_BEARD} face" if b == "none" else f"a face with {BEARD_PHRASES[b][0].format(c='')}"
            for b in BEARDS
        },
        "lipstick_colour": {c: f"a face with {LIPSTICK_WORDS[c][0]} lipstick" for c in LIPSTICK_WORDS},
        "beard_colour": {c: f"a face with a {HAIR_WORDS[c][0]} beard" for c in HAIR_COLOURS},
        "style": {"none": "a person", **{s: f"a person {phrases[0]}" for s, phrases in STYLE_PHRASES.items()}},
        "age": {age: fix_articles(f"a face of a {age} person") for age in AGE_WORDS},
        "eye_colour": {c: f"a face with {EYE_WORDS[c][0]} eyes" for c in EYE_COLOURS},
        "expression": {label: f"a person, {phrases[0]}" for label, phrases in EXPRESSION_PHRASES.items()},
    }
    if attribute not in prompts:
        raise KeyError(f"No zero-shot prompts for '{attribute}'; known: {', '.join([*prompts, *GEOMETRY_MEASURES])}.")
    return prompts[attribute]


def paraphrase_prompts(attribute: str) -> dict[str, str]:
    """One held-out prompt per class value (:data:`PARAPHRASES`) of the attributes it lists."""
    if attribute not in PARAPHRASES:
        raise KeyError(f"No paraphrase prompts for '{attribute}'; known: {', '.join(PARAPHRASES)}.")
    frame, values = PARAPHRASES[attribute]
    return {value: frame.format(phrase) for value, phrase in values.items()}


def reframed_prompts(attribute: str) -> dict[str, str]:
    """One prompt per class value in a held-out frame with the training word (:data:`REFRAMED`)."""
    if attribute not in REFRAMED:
        raise KeyError(f"No reframed prompts for '{attribute}'; known: {', '.join(REFRAMED)}.")
    frame, values = REFRAMED[attribute]
    return {value: frame.format(phrase) for value, phrase in values.items()}


def zero_shot_ensembles(attribute: str) -> dict[str, list[str]]:
    """Several training-wording prompts per class (CLIP's prompt ensembling, Radford et al. 2021 §3.1.4).

    The colour-type attributes get every synonym and phrasing the captions use; the others their one
    :func:`zero_shot_prompts` prompt.
    """
    if attribute == "hair_colour":
        return {c: [f"a {s} with {w} hair" for w in HAIR_WORDS[c] for s in ("face", "person")] for c in HAIR_COLOURS}
    if attribute == "skin_bucket":
        return {
            b: [f"a face with {n}" for n in SKIN_NOUNS[b]] + [f"a {adj} person" for adj in SKIN_ADJECTIVES[b]]
            for b in SKIN_BUCKETS
        }
    if attribute == "lipstick_colour":
        frames = ("a face with {} lipstick", "wearing {} lipstick", "a person wearing {} lipstick")
        return {c: [f.format(w) for w in words for f in frames] for c, words in LIPSTICK_WORDS.items()}
    if attribute == "beard_colour":
        phrases = [p for styles in BEARD_PHRASES.values() for p in styles if "{c}" in p]
        return {c: [f"a face with {p.format(c=w + ' ')}" for w in HAIR_WORDS[c] for p in phrases] for c in HAIR_COLOURS}
    return {value: [prompt] for value, prompt in zero_shot_prompts(attribute).items()}
