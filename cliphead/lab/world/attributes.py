"""The attribute record a texture is painted from, its vocabularies and its sampling distribution.

The stand-in for CLIP-Head's captioned texture scans (§2.3 trains ControlNet_uv on aligned UV
textures of NPHM scans captioned by BLIP-2): here the texture is painted from a known record, so the
caption is exact and prompt faithfulness can be measured. Skin tone uses the Monk Skin Tone scale
(Monk 2019; 10 tones, the published sRGB values below), grouped into three buckets for evaluation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import numpy as np

#: Monk Skin Tone scale, tones 1..10 (sRGB, as published with the scale).
MONK_SKIN_TONES = (
    "#f6ede4",
    "#f3e7db",
    "#f7ead0",
    "#eadaba",
    "#d7bd96",
    "#a07e56",
    "#825c43",
    "#604134",
    "#3a312a",
    "#292420",
)
#: Skin tone buckets used for evaluation and captions: tones 1-4, 5-7, 8-10.
SKIN_BUCKETS = {"light": (1, 4), "medium": (5, 7), "dark": (8, 10)}

HAIR_COLOURS = {  # natural, then dyed
    "black": "#141110",
    "brown": "#5a3a22",
    "blonde": "#d8b874",
    "red": "#a8441c",
    "grey": "#8c8c8c",
    "white": "#e8e6e2",
    "blue": "#2a55c8",
    "pink": "#e86aa8",
    "green": "#2e9c4a",
    "purple": "#7a36b0",
}
DYED_HAIR = ("blue", "pink", "green", "purple")
HAIR_STATES = ("full", "receding", "bald")
BEARDS = ("none", "stubble", "moustache", "goatee", "full beard")
BROWS = ("thin", "medium", "thick")
LIPSTICKS = {
    "none": None,
    "red": "#b3121f",
    "pink": "#e0609a",
    "purple": "#6b1f78",
    "black": "#1a1414",
    "orange": "#e8641c",
}
EYE_COLOURS = {"brown": "#5b3a1e", "blue": "#3f7fc4", "green": "#4f8a45", "grey": "#8a949c", "hazel": "#8a6a2e"}
AGES = ("young", "middle-aged", "old")
GENDERS = ("man", "woman", "person")
STYLES = (
    "none",
    "clown",
    "skull",
    "tiger",
    "zombie",
    "alien",
    "giant",
    "gold statue",
    "silver statue",
    "war paint",
    "tattoos",
)


@dataclass(frozen=True)
class Attributes:
    """What a painted texture shows; every field has a word in the captions."""

    skin_tone: int = 3  # 1..10, Monk scale
    hair_colour: str = "brown"  # key of HAIR_COLOURS; ignored when bald
    hair: str = "full"  # HAIR_STATES
    beard: str = "none"  # BEARDS
    beard_colour: str = "brown"  # key of HAIR_COLOURS
    brows: str = "medium"  # BROWS
    brow_colour: str = "brown"  # key of HAIR_COLOURS
    lipstick: str = "none"  # key of LIPSTICKS
    eye_colour: str = "brown"  # key of EYE_COLOURS
    age: str = "young"  # AGES: wrinkles for middle-aged, wrinkles + spots for old
    gender: str = "person"  # GENDERS: a caption word only
    freckles: bool = False
    blush: bool = False
    style: str = "none"  # STYLES (CLIP-Head Fig. 3a's stylisations)

    def __post_init__(self) -> None:
        checks = {
            "hair_colour": HAIR_COLOURS,
            "hair": HAIR_STATES,
            "beard": BEARDS,
            "beard_colour": HAIR_COLOURS,
            "brows": BROWS,
            "brow_colour": HAIR_COLOURS,
            "lipstick": LIPSTICKS,
            "eye_colour": EYE_COLOURS,
            "age": AGES,
            "gender": GENDERS,
            "style": STYLES,
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"attribute {name}={getattr(self, name)!r} is not one of {sorted(allowed)}")
        if not 1 <= int(self.skin_tone) <= 10:
            raise ValueError(f"skin_tone must be a Monk scale tone 1..10, got {self.skin_tone}")

    @property
    def skin_bucket(self) -> str:
        """``light``, ``medium`` or ``dark`` (see ``SKIN_BUCKETS``)."""
        return next(name for name, (low, high) in SKIN_BUCKETS.items() if low <= self.skin_tone <= high)

    @property
    def has_hair(self) -> bool:
        return self.hair != "bald"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, record: dict) -> Attributes:
        """A record from (a subset of) its fields; unknown keys are an error."""
        known = {field.name for field in fields(cls)}
        unknown = set(record) - known
        if unknown:
            raise ValueError(f"unknown attributes {sorted(unknown)}; known: {sorted(known)}")
        return cls(**record)


def _choice(rng: np.random.Generator, options, weights=None):
    options = list(options)
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return options[int(rng.choice(len(options), p=p))]


def sample_attributes(rng: np.random.Generator) -> Attributes:
    """One record from the appearance world's distribution (every attribute value well represented)."""
    age = _choice(rng, AGES)
    gender = _choice(rng, GENDERS, [0.4, 0.4, 0.2])
    hair = _choice(rng, HAIR_STATES, [0.7, 0.15, 0.15])
    natural = ("black", "brown", "blonde", "red", "grey", "white")
    hair_colour = _choice(rng, HAIR_COLOURS)
    if age == "old" and hair_colour in natural and rng.random() < 0.5:
        hair_colour = _choice(rng, ("grey", "white"))
    bearded = gender == "man" or (gender == "person" and rng.random() < 0.3)
    beard = _choice(rng, BEARDS[1:]) if bearded and rng.random() < 0.75 else "none"
    # Half the beards differ from the hair, so that a beard's colour is seen for itself, not read off the hair.
    beard_colour = hair_colour if rng.random() < 0.5 else _choice(rng, natural)
    brow_colour = hair_colour if hair_colour in natural and rng.random() < 0.8 else _choice(rng, natural[:4])
    painted = gender == "woman" and rng.random() < 0.6 or gender != "woman" and rng.random() < 0.15
    lipstick = _choice(rng, list(LIPSTICKS)[1:]) if painted else "none"
    style = _choice(rng, STYLES[1:]) if rng.random() < 0.25 else "none"
    return Attributes(
        skin_tone=int(rng.integers(1, 11)),
        hair_colour=hair_colour,
        hair=hair,
        beard=beard,
        beard_colour=beard_colour,
        brows=_choice(rng, BROWS),
        brow_colour=brow_colour,
        lipstick=lipstick,
        eye_colour=_choice(rng, EYE_COLOURS),
        age=age,
        gender=gender,
        freckles=bool(rng.random() < 0.2),
        blush=bool(rng.random() < 0.2),
        style=style,
    )


def hex_rgb(colour: str) -> np.ndarray:
    """``"#rrggbb"`` as a float RGB triple in [0, 1]."""
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32) / 255.0
