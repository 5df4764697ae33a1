"""The mappers' prompts: expression training prompts, identity captions, and the evaluation set.

CLIP-Head §2.1 builds the expression pairs from prompts of the template "A face of a
{young/middle-age/old} {ethnicity} {man/woman/person} with {color} hair, {expression}"; here the
template is :data:`~cliphead.appearance.captions.PAPER_TEMPLATE` (a skin-tone word in the ethnicity
slot) and the expression slot takes every training wording of the label in
:data:`~cliphead.appearance.captions.EXPRESSION_PHRASES` (three per label).

The evaluation set (:func:`evaluation_prompts`) is disjoint from everything the mappers are trained
on: its expression wordings (:data:`HELD_OUT_EXPRESSIONS`) share no word with the training wordings
of the same label but function words and a body-part noun or a side (:data:`SHARED_EXPRESSION_WORDS`), and its sentence
frames (:data:`EVALUATION_FRAMES`) are not the template's. Identity prompts name one geometry word
of :data:`~cliphead.appearance.geometry.GEOMETRY_MEASURES` each, in the same held-out frames.

Sentences with no face in them (:data:`NO_FACE_TRAINING`) are trained to the latent means, so that
a prompt about something else gives an average head rather than an arbitrary one;
:data:`NO_FACE_HELD_OUT` tests that with other sentences.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cliphead.appearance.attributes import AGES, GENDERS, HAIR_COLOURS, SKIN_BUCKETS, Attributes
from cliphead.appearance.captions import (
    AGE_WORDS,
    EXPRESSION_PHRASES,
    GENDER_WORDS,
    HAIR_WORDS,
    PAPER_TEMPLATE,
    SKIN_ADJECTIVES,
    fix_articles,
    paper_caption,
)
from cliphead.appearance.geometry import GEOMETRY_MEASURES
from cliphead.heads.expressions import EXPRESSION_LABELS

#: Held-out wordings of every labelled expression (never used in training).
HELD_OUT_EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "neutral": ("deadpan", "showing no emotion", "with a calm, blank look"),
    "happy": ("beaming cheerfully", "joyful and beaming", "overjoyed"),
    "sad": ("gloomy and downcast", "heartbroken and unhappy", "feeling miserable"),
    "angry": ("furious", "enraged and glaring", "fuming with rage"),
    "surprised": ("amazed", "startled and stunned", "taken aback in shock"),
    "disgusted": ("repulsed", "grossed out", "revolted by a foul smell"),
    "fearful": ("terrified", "frightened", "panicking in terror"),
    "pouting": ("sulking", "with a sulky moue", "petulant and sulking"),
    "laughing": ("cackling", "guffawing", "in fits of giggles"),
    "smirk": ("with a smug, sly look", "with a crooked half-grin", "looking smug"),
    "wink": ("with an eyelid lowered playfully", "signalling with a single eyelid", "flirting with a lowered eyelid"),
    "eyes closed": ("asleep", "sleeping peacefully", "dozing"),
    "mouth open": ("gaping", "yawning", "with lips parted wide"),
    "puffed cheeks": ("with inflated cheeks", "with balloon-like cheeks", "holding a breath, cheeks bulging"),
    "kiss": ("smooching", "puckered for a smooch", "pursing for a smooch"),
    "squint": ("peering with half-shut eyes", "peering hard against the sun", "with eyes screwed up"),
    "raised brows": ("with eyebrows lifted high", "with arched, lifted eyebrows", "with a quizzical lifted brow"),
    "frown": ("with a knitted brow", "with brows knitted in displeasure", "with creased brows"),
    "grimace": ("wincing", "cringing in pain", "with a pained wince"),
    "jaw left": ("with the chin slid toward the left", "chin off-centre to the left", "mandible displaced leftwards"),
    "jaw right": ("with the chin slid toward the right", "chin off-centre to the right", "mandible displaced rightwards"),
    "jaw forward": ("with an underbite, chin thrust out", "protruding the chin", "with the lower mandible thrust out"),
    "lips rolled in": ("with lips sucked into the mouth", "hiding the lips", "with lips pressed invisibly thin"),
}  # fmt: skip

#: The only words a held-out expression wording may share with the label's training wordings.
SHARED_EXPRESSION_WORDS = frozenset(
    {"a", "the", "with", "for", "in", "to", "lips", "eyes", "brows", "eyebrows", "cheeks", "left", "right"}
)
#: Sentence frames of the evaluation prompts (the training template is not among them).
EVALUATION_FRAMES = ("a 3D model of someone {}", "a digital head of a person {}", "portrait of somebody {}")
#: How the evaluation frames take a geometry word ("a long face").
GEOMETRY_PHRASE = "who has a {}"

#: Sentences without a face, trained to the latent means.
NO_FACE_TRAINING = (
    "a photo of a car",
    "a bowl of fruit on a table",
    "the stock market fell today",
    "a red bicycle leaning on a wall",
    "mountains at sunset",
    "a plate of spaghetti",
    "an old wooden chair",
    "a cat sleeping on a sofa",
    "a city skyline at night",
    "the quarterly sales report",
    "a sailing boat on the sea",
    "a glass of orange juice",
    "a field of sunflowers",
    "a laptop on a desk",
    "heavy rain in the forest",
    "a pile of books",
    "a blue coffee mug",
    "a steam train crossing a bridge",
    "instructions for assembling a shelf",
    "a snowy street in winter",
)
#: Other sentences without a face, for testing (never trained on).
NO_FACE_HELD_OUT = ("a vintage typewriter", "the recipe for pancakes", "a lighthouse on a cliff")


class EvaluationPrompt(NamedTuple):
    """One prompt of the evaluation set and what it asks for."""

    text: str
    kind: str  # "expression" or "geometry"
    target: str  # the expression label, or the geometry measure
    word: str  # the expression's wording, or the geometry word ("long face")
    side: str  # for geometry: "low" or "high"; "" for expressions


def expression_prompt(rng: np.random.Generator, label: str, wording: str) -> str:
    """The paper's template with a random age, skin tone, gender and hair colour and ``wording``."""
    text = PAPER_TEMPLATE.format(
        age=AGE_WORDS[AGES[int(rng.integers(len(AGES)))]][0],
        skin=SKIN_ADJECTIVES[list(SKIN_BUCKETS)[int(rng.integers(len(SKIN_BUCKETS)))]][0],
        gender=GENDER_WORDS[GENDERS[int(rng.integers(len(GENDERS)))]][0],
        colour=HAIR_WORDS[list(HAIR_COLOURS)[int(rng.integers(len(HAIR_COLOURS)))]][0],
        expression=wording,
    )
    return fix_articles(text)


def expression_training_prompts(per_label: int, seed: int = 0) -> list[tuple[str, str]]:
    """``per_label`` (prompt, label) pairs for each labelled expression, cycling through its wordings."""
    rng = np.random.default_rng(seed)
    pairs = []
    for label in EXPRESSION_LABELS:
        wordings = EXPRESSION_PHRASES[label]
        pairs += [(expression_prompt(rng, label, wordings[k % len(wordings)]), label) for k in range(per_label)]
    return pairs


def identity_caption(attributes: Attributes, words: dict[str, str | None]) -> str:
    """The template prompt of an identity pair followed by every geometry word its shape earns."""
    caption = paper_caption(attributes, "neutral")
    shape = [f"a {word}" for word in words.values() if word is not None]
    if not shape:
        return caption
    return f"{caption}, with {', '.join(shape[:-1])}{' and ' if len(shape) > 1 else ''}{shape[-1]}"


def evaluation_prompts() -> list[EvaluationPrompt]:
    """Every labelled expression in each held-out wording, and every geometry word in each frame."""
    prompts = [
        EvaluationPrompt(frame.format(wording), "expression", label, wording, "")
        for label in EXPRESSION_LABELS
        for wording, frame in zip(HELD_OUT_EXPRESSIONS[label], EVALUATION_FRAMES)
    ]
    for name, measure in GEOMETRY_MEASURES.items():
        for side, word in (("low", measure.low), ("high", measure.high)):
            prompts += [
                EvaluationPrompt(frame.format(GEOMETRY_PHRASE.format(word)), "geometry", name, word, side)
                for frame in EVALUATION_FRAMES
            ]
    return prompts
