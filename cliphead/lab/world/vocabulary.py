"""The caption vocabulary of the appearance world: every word table a caption is phrased from.

CLIP-Head §2.1 pairs heads with text built from the template "A face of a {age} {ethnicity}
{man/woman/person} with {color} hair, {expression}" (:data:`PAPER_TEMPLATE`). Each table maps a
record's value (:mod:`cliphead.lab.world.attributes`) to its synonyms, the first the canonical word
the paper caption and the zero-shot prompts use; ``{c}`` in a phrase is a colour word.
:func:`training_vocabulary` lists every word a training caption can contain, so held-out prompts
(:mod:`cliphead.lab.world.prompts`) can be checked against it.

The paper fills the {ethnicity} slot with a word like "Asian". This synthetic world has no ethnicity,
only a Monk skin tone painted on a shared ICT head shape, so the slot holds a skin-tone word
("light-skinned", "medium-skinned", "dark-skinned", from the record's skin bucket): a caption must
not claim what the texture does not show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from cliphead.lab.world.geometry import GEOMETRY_MEASURES

#: The paper's §2.1 template, with a skin-tone word in the {skin} slot (see the module docstring).
PAPER_TEMPLATE = "A face of a {age} {skin} {gender} with {colour} hair, {expression}"

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


def with_article(word: str) -> str:
    """A geometry word as a noun phrase: plurals (``full lips``) bare, the rest with ``a``."""
    return word if word.endswith("s") else f"a {word}"
