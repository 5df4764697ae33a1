"""The mappers' prompts: expression training prompts, identity captions, and the evaluation set.

CLIP-Head §2.1 builds the expression pairs from prompts of the template "A face of a
{young/middle-age/old} {ethnicity} {man/woman/person} with {color} hair, {expression}"; here the
template is :data:`~cliphead.lab.world.vocabulary.PAPER_TEMPLATE` (a skin-tone word in the ethnicity
slot) and the expression slot takes every training wording of the label in
:data:`~cliphead.lab.world.vocabulary.EXPRESSION_PHRASES` (three per label).

No prompt of the evaluation set (:func:`evaluation_prompts`) is trained on. Its sentence frames
(:data:`EVALUATION_FRAMES`) are neither the template nor a training frame, and it has two
expression sets: **held-out frames** puts the captions' own expression wordings in those frames
("a 3D model of someone laughing out loud"); **held-out words and frames** puts wordings there that
share no word with the label's training wordings but function words, a body-part noun or a side
(:data:`HELD_OUT_EXPRESSIONS`, :data:`SHARED_EXPRESSION_WORDS`: "a 3D model of someone cackling").
Identity prompts name one geometry word of :data:`~cliphead.lab.world.geometry.GEOMETRY_MEASURES`
each, in every held-out frame.

Sentences with no face in them (:data:`NO_FACE_TRAINING`) are trained to the latent means, so that
a prompt about something else gives an average head rather than an arbitrary one;
:data:`NO_FACE_HELD_OUT` tests that with other sentences.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cliphead.lab.world.attributes import AGES, GENDERS, HAIR_COLOURS, SKIN_BUCKETS, Attributes
from cliphead.lab.world.captions import paper_caption
from cliphead.lab.world.vocabulary import (
    AGE_WORDS,
    EXPRESSION_PHRASES,
    GENDER_WORDS,
    HAIR_WORDS,
    PAPER_TEMPLATE,
    SKIN_ADJECTIVES,
    fix_articles,
)
from cliphead.lab.world.geometry import GEOMETRY_MEASURES
from cliphead.heads.expressions import EXPRESSION_LABELS

#: Training wordings of every labelled expression beyond the captions' three (EXPRESSION_PHRASES): a
#: small sentence encoder places a paraphrase near a label only if some training wording is near it.
EXTRA_EXPRESSION_WORDINGS: dict[str, tuple[str, ...]] = {
    "neutral": (
        "with a straight face",
        "impassive",
        "without any particular expression",
        "at rest",
        "with a still face",
    ),
    "happy": ("glad", "grinning", "delighted", "with a broad smile", "content and smiling"),
    "sad": ("tearful", "melancholy", "depressed", "crying softly", "with a downturned mouth"),
    "angry": ("irate", "livid", "mad with anger", "annoyed and hostile", "seething"),
    "surprised": ("astounded", "in disbelief", "with wide-eyed wonder", "flabbergasted", "caught off guard"),
    "disgusted": ("nauseated", "sickened", "appalled", "with an expression of distaste", "with a sneer of distaste"),
    "fearful": ("horrified", "petrified", "anxious and afraid", "in a state of fear", "alarmed"),
    "pouting": (
        "with protruding lips",
        "with a sullen pout",
        "moody and pouting",
        "pushing the lips out",
        "with a childish pout",
    ),
    "laughing": ("chuckling", "roaring with laughter", "laughing hysterically", "in hysterics", "with a hearty laugh"),
    "smirk": (
        "with a partial smile",
        "smiling on one side",
        "with a wry smile",
        "with a knowing smirk",
        "with an arrogant one-sided smile",
    ),
    "wink": ("giving a wink", "closing one eye", "with a cheeky wink", "with one eye shut", "winking at the viewer"),
    "eyes closed": (
        "with shut eyes",
        "with lids closed",
        "resting with closed eyes",
        "with eyes tightly closed",
        "meditating with closed eyes",
    ),
    "mouth open": (
        "open-mouthed",
        "with the jaw dropped",
        "with a big open mouth",
        "with the mouth hanging open",
        "with an open jaw",
    ),
    "puffed cheeks": (
        "with swollen cheeks",
        "blowing out the cheeks",
        "with cheeks full of air",
        "puffing up the cheeks",
        "with puffy cheeks",
    ),
    "kiss": ("kissing", "with kissy lips", "puckering the lips", "ready to kiss", "sending a kiss"),
    "squint": (
        "squinting strongly",
        "with narrowed eyes",
        "with eyes narrowed to slits",
        "squinting in bright light",
        "squinting suspiciously",
    ),
    "raised brows": (
        "with raised brows",
        "with eyebrows up",
        "with eyebrows pulled up",
        "with brows raised in question",
        "with elevated eyebrows",
    ),
    "frown": (
        "frowning hard",
        "with a displeased frown",
        "with drawn-together brows",
        "with brows pulled down",
        "with a deep frown",
    ),
    "grimace": (
        "with a tense grimace",
        "showing clenched teeth",
        "with a strained face",
        "contorted in discomfort",
        "with teeth bared",
    ),
    "jaw left": (
        "with the jaw shifted left",
        "with the jaw over to the left",
        "moving the jaw to the left side",
        "with the lower jaw pushed left",
        "with a jaw skewed to the left",
    ),
    "jaw right": (
        "with the jaw shifted right",
        "with the jaw over to the right",
        "moving the jaw to the right side",
        "with the lower jaw pushed right",
        "with a jaw skewed to the right",
    ),
    "jaw forward": (
        "sticking the jaw out",
        "with a forward-set jaw",
        "with the jaw jutting out",
        "extending the jaw forward",
        "with the jaw pushed out",
    ),
    "lips rolled in": (
        "with lips folded inward",
        "with the lips folded in",
        "biting both lips",
        "with lips rolled inward",
        "with the lips turned in",
    ),
}
#: Every training wording of a label: the captions' three, then the extra ones.
EXPRESSION_WORDINGS = {
    label: EXPRESSION_PHRASES[label] + EXTRA_EXPRESSION_WORDINGS[label] for label in EXPRESSION_PHRASES
}
#: Sentence frames of the expression training prompts besides the paper's template (which half of them use).
TRAINING_FRAMES = (
    "A face {w}",
    "A {gender} {w}",
    "A {age} {gender} {w}",
    "A head of a {gender} {w}",
    "A close-up of a {gender} {w}",
    "A render of a {skin} {gender} {w}",
    "A photo of a {age} {skin} {gender} {w}",
    "An avatar {w}",
)

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
    "jaw right": (
        "with the chin slid toward the right",
        "chin off-centre to the right",
        "mandible displaced rightwards",
    ),
    "jaw forward": ("with an underbite, chin thrust out", "protruding the chin", "with the lower mandible thrust out"),
    "lips rolled in": ("with lips sucked into the mouth", "hiding the lips", "with lips pressed invisibly thin"),
}

#: The only words a held-out expression wording may share with the label's training wordings.
SHARED_EXPRESSION_WORDS = frozenset(
    {
        "a",
        "the",
        "with",
        "for",
        "in",
        "to",
        "and",
        "out",
        "lips",
        "eyes",
        "brows",
        "eyebrows",
        "cheeks",
        "left",
        "right",
    }
)
#: Sentence frames of the evaluation prompts (the training template is not among them).
EVALUATION_FRAMES = ("a 3D model of someone {}", "a digital head of a person {}", "portrait of somebody {}")
#: How the evaluation frames take a geometry word ("a long face").
GEOMETRY_PHRASE = "who has a {}"

#: Things and scenes without a face, and the frames that make sentences of them (see NO_FACE_TRAINING).
NO_FACE_THINGS = (
    "a car",
    "a bowl of fruit",
    "a red bicycle",
    "a mountain at sunset",
    "a plate of spaghetti",
    "a wooden chair",
    "a city skyline",
    "a sailing boat",
    "a glass of orange juice",
    "a field of sunflowers",
    "a laptop",
    "a pile of books",
    "a blue coffee mug",
    "a steam train",
    "a snowy street",
    "a bridge over a river",
    "a pair of shoes",
    "a guitar",
    "a kitchen table",
    "a forest in the rain",
    "a spreadsheet of sales figures",
    "a parking lot",
    "a bunch of keys",
    "a tennis ball",
    "an umbrella",
    "a desk lamp",
    "a loaf of bread",
    "a map of the city",
    "a washing machine",
    "a garden fence",
)
NO_FACE_FRAMES = ("{}", "a photo of {}", "a drawing of {}", "an old {}", "{} in the evening", "instructions for {}")
#: Sentences without a face, trained to the latent means: every thing in every frame.
NO_FACE_TRAINING = tuple(
    fix_articles(frame.format(thing) if not frame.startswith("an old") else f"an old {thing.split(' ', 1)[1]}")
    for thing in NO_FACE_THINGS
    for frame in NO_FACE_FRAMES
)
#: Other sentences without a face, for testing (never trained on).
NO_FACE_HELD_OUT = ("a vintage typewriter", "the recipe for pancakes", "a lighthouse on a cliff")


#: The evaluation's prompt sets: new sentence frames around training words, and new words in new frames.
HELD_OUT_FRAMES = "held-out frames"
HELD_OUT_WORDS = "held-out words and frames"


class EvaluationPrompt(NamedTuple):
    """One prompt of the evaluation set and what it asks for."""

    text: str
    kind: str  # "expression" or "geometry"
    target: str  # the expression label, or the geometry measure
    word: str  # the expression's wording, or the geometry word ("long face")
    side: str  # for geometry: "low" or "high"; "" for expressions
    prompt_set: str  # HELD_OUT_FRAMES or HELD_OUT_WORDS


def expression_prompt(rng: np.random.Generator, wording: str) -> str:
    """A training prompt: the paper's template (half the time) or another training frame, random fill-ins."""
    fill = {
        "age": AGE_WORDS[AGES[int(rng.integers(len(AGES)))]][0],
        "skin": SKIN_ADJECTIVES[list(SKIN_BUCKETS)[int(rng.integers(len(SKIN_BUCKETS)))]][0],
        "gender": GENDER_WORDS[GENDERS[int(rng.integers(len(GENDERS)))]][0],
    }
    if rng.random() < 0.5:
        colour = HAIR_WORDS[list(HAIR_COLOURS)[int(rng.integers(len(HAIR_COLOURS)))]][0]
        return fix_articles(PAPER_TEMPLATE.format(**fill, colour=colour, expression=wording))
    frame = TRAINING_FRAMES[int(rng.integers(len(TRAINING_FRAMES)))]
    return fix_articles(frame.format(**fill, w=wording))


def expression_training_prompts(
    per_label: int, seed: int = 0, wordings: dict[str, tuple[str, ...]] = EXPRESSION_WORDINGS
) -> list[tuple[str, str]]:
    """``per_label`` (prompt, label) pairs for each labelled expression, cycling through its ``wordings``."""
    rng = np.random.default_rng(seed)
    pairs = []
    for label in EXPRESSION_LABELS:
        options = wordings[label]
        pairs += [(expression_prompt(rng, options[k % len(options)]), label) for k in range(per_label)]
    return pairs


def identity_caption(attributes: Attributes, words: dict[str, str | None]) -> str:
    """The template prompt of an identity pair followed by every geometry word its shape earns."""
    caption = paper_caption(attributes, "neutral")
    shape = [f"a {word}" for word in words.values() if word is not None]
    if not shape:
        return caption
    return f"{caption}, with {', '.join(shape[:-1])}{' and ' if len(shape) > 1 else ''}{shape[-1]}"


def evaluation_prompts() -> list[EvaluationPrompt]:
    """The evaluation set: expressions and geometry words in held-out frames, expressions in held-out words.

    Every labelled expression appears three times in each expression set: its caption wordings
    (:data:`~cliphead.lab.world.vocabulary.EXPRESSION_PHRASES`) each in one held-out frame, and its
    held-out wordings each in one held-out frame. Every geometry word appears in each frame.
    """
    prompts = [
        EvaluationPrompt(frame.format(wording), "expression", label, wording, "", prompt_set)
        for prompt_set, wordings in ((HELD_OUT_FRAMES, EXPRESSION_PHRASES), (HELD_OUT_WORDS, HELD_OUT_EXPRESSIONS))
        for label in EXPRESSION_LABELS
        for wording, frame in zip(wordings[label], EVALUATION_FRAMES)
    ]
    for name, measure in GEOMETRY_MEASURES.items():
        for side, word in (("low", measure.low), ("high", measure.high)):
            prompts += [
                EvaluationPrompt(
                    frame.format(GEOMETRY_PHRASE.format(word)), "geometry", name, word, side, HELD_OUT_FRAMES
                )
                for frame in EVALUATION_FRAMES
            ]
    return prompts
