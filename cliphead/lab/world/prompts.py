"""Per-class prompts that read an attribute zero-shot from a text encoder's embeddings.

:mod:`cliphead.lab.clip.evaluation` reads each attribute of a render zero-shot, as CLIP does (Radford
et al. 2021 §3.1.2): the class whose prompt embeds nearest the render. The prompts come in three
wordings:

- :func:`zero_shot_prompts` gives one prompt per class value in the training captions' words
  (:mod:`.vocabulary`), and :func:`zero_shot_ensembles` several (CLIP's prompt ensembling);
- :data:`PARAPHRASES` / :func:`paraphrase_prompts` give held-out wording: apart from
  :data:`SHARED_WORDS`, none of their words occurs in any training caption
  (:func:`~cliphead.lab.world.vocabulary.training_vocabulary` lists every word a caption can
  contain), and their frames put the attribute after the noun ("someone whose hair is copper") where
  training puts it before;
- :data:`REFRAMED` / :func:`reframed_prompts` keep the training caption's attribute word inside a
  held-out frame.
"""

from __future__ import annotations

from typing import NamedTuple

from cliphead.lab.world.attributes import BEARDS, EYE_COLOURS, HAIR_COLOURS, LIPSTICKS, SKIN_BUCKETS
from cliphead.lab.world.geometry import GEOMETRY_MEASURES
from cliphead.lab.world.vocabulary import (
    AGE_WORDS,
    BEARD_PHRASES,
    EXPRESSION_PHRASES,
    EYE_WORDS,
    HAIR_WORDS,
    LIPSTICK_WORDS,
    NO_BEARD,
    SKIN_ADJECTIVES,
    SKIN_NOUNS,
    STYLE_PHRASES,
    fix_articles,
    with_article,
)


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


def zero_shot_prompts(attribute: str) -> dict[str, str]:
    """One prompt per class value of an attribute (or geometry measure), in the training captions' words.

    Attributes: hair_colour, skin_bucket, lipstick, beard, lipstick_colour and beard_colour (the colour
    among faces that wear one), style, age, eye_colour, expression, and every name of
    :data:`GEOMETRY_MEASURES` (classes: its low and high word).
    """
    if attribute in GEOMETRY_MEASURES:
        measure = GEOMETRY_MEASURES[attribute]
        return {word: f"a person with {with_article(word)}" for word in (measure.low, measure.high)}
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
