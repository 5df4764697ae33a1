"""Which attributes a UV texture shows, each measured in its own region of the aligned layout.

The instrument behind the *attribute accuracy of generated textures*: requested hair, skin, lipstick,
beard and stylisation found in the right UV regions by measurement. CLIP-Head §3 judges its
text-guided textures by CLIP score and by showing them (the stylisations of Fig. 3a); here whether a
requested attribute is there is measured. Since the aligned layout puts the same part of the head at the same texel for every head (§2.2), each attribute
is read off fixed texels, those where the procedural painter puts it:

- ``hair_colour``: the scalp above the highest hairline the painter draws (receding hair included);
- ``skin``: the forehead and the neck below any beard, as a light / medium / dark Monk bucket;
- ``lipstick``: the lips, next to the forehead's skin (unpainted lips are a darker, redder skin);
- ``beard_colour``: the chin below the mouth, where goatees and full beards both lie;
- ``style``: colour quantiles over forehead, cheeks, nose, lips, chin, eye corners, ears, face and neck.

Features are robust colour statistics in CIELAB: medians and quantiles of a region's texels. Each
attribute's classifier is a nearest centroid, calibrated on painter textures (the ground truth): one
centroid per value, and per skin tone where the look of a value depends on it (skin buckets, unpainted
lips, styles) or per beard (goatee, full beard), with features scaled by their spread within centroids. A region is only asked about
what it shows: :func:`measurable` says, for a record, which attributes its texture shows (no hair
colour when bald or cast as a statue; no skin, lipstick or beard under a stylisation; no lipstick
with any beard, since the painter draws beards, stubble included, over the lips' edges; beard colour
only for goatees and full beards, as stubble and moustaches leave the chin bare). Evaluations score
a requested attribute only where :func:`measurable` holds for the request.

Textures are measured at 128 px: 256 and 512 px ones are area-averaged to 128 first, as ControlNet_uv's
training textures are reduced from the painter's 512 px (:mod:`cliphead.lab.texture.data`). Textures painted
at 128 px directly differ in one thing the instrument sees: the painter blurs the goatee by a fixed
number of pixels, so at 128 px it is faint and its colour is often misread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from skimage.color import rgb2lab

from cliphead.lab.world.attributes import (
    BEARDS,
    HAIR_COLOURS,
    LIPSTICKS,
    SKIN_BUCKETS,
    STYLES,
    Attributes,
    sample_attributes,
)
from cliphead.lab.world.painter import STATUE_METALS, TEXTURE_SIZES, paint_texture
from cliphead.lab.world.regions import region_masks

MEASURE_SIZE = 128
#: Fresh textures of the accuracy check are painted at this size and reduced, as the training textures are.
TRAINING_PAINT_SIZE = 512
#: Calibration textures are painted at 256 (5x cheaper than 512) and reduced: the classifiers score the
#: same on 512 px textures either way.
CALIBRATION_PAINT_SIZE = 256
CALIBRATION_TEXTURES = 480
CALIBRATION_SEED = 0

MEASURED_VALUES: dict[str, tuple[str, ...]] = {
    "hair_colour": tuple(HAIR_COLOURS),
    "skin": tuple(SKIN_BUCKETS),
    "lipstick": tuple(LIPSTICKS),
    "beard_colour": tuple(HAIR_COLOURS),
    "style": STYLES,
}
MEASURED_ATTRIBUTES = tuple(MEASURED_VALUES)
#: Beards whose colour is measured: both cover the chin.
MEASURED_BEARDS = ("goatee", "full beard")
#: The hair region lies this far (cm) above the hairline plane: receding hair starts up to 4 cm higher
#: (at the temples), plus the painter's 0.6 cm fade.
HAIR_ABOVE_HAIRLINE_CM = 4.6
QUANTILES = (5, 25, 50, 75, 95)
STYLE_REGIONS = ("forehead", "cheeks", "nose", "lips", "chin", "eye_corners", "ears", "face", "neck", "lower_neck")
#: Floor of a feature's scale (CIELAB units), so that nearly constant features do not dominate distances.
MIN_SCALE = 1.0


def measurable(attributes: Attributes, attribute: str) -> bool:
    """Whether a texture painted from ``attributes`` shows ``attribute`` in its measuring region."""
    natural_face = attributes.style == "none"
    return {
        "hair_colour": attributes.has_hair and attributes.style not in STATUE_METALS,
        "skin": natural_face,
        "lipstick": natural_face and attributes.beard == "none",
        "beard_colour": natural_face and attributes.beard in MEASURED_BEARDS,
        "style": True,
    }[attribute]


def true_value(attributes: Attributes, attribute: str) -> str:
    """The value of ``attribute`` in the record, in the words :func:`measure_attributes` answers with."""
    return attributes.skin_bucket if attribute == "skin" else getattr(attributes, attribute)


def _area_reduce(image: np.ndarray, size: int) -> np.ndarray:
    """Mean over ``factor`` × ``factor`` blocks: a square image (with trailing channels) reduced to ``size``."""
    factor = image.shape[0] // size
    return image.reshape(size, factor, size, factor, *image.shape[2:]).mean(axis=(1, 3))


@lru_cache(maxsize=1)
def measuring_regions() -> dict[str, np.ndarray]:
    """Boolean masks at ``MEASURE_SIZE``: the painter's regions at 512 px, reduced like the textures."""
    regions = region_masks(TRAINING_PAINT_SIZE)
    cover = {name: _area_reduce(mask, MEASURE_SIZE) for name, mask in regions.masks.items() if name != "brows_line"}
    hairline_height = _area_reduce(regions.hairline_height, MEASURE_SIZE)
    return {
        "hair": (cover["scalp"] >= 0.9) & (hairline_height > HAIR_ABOVE_HAIRLINE_CM),
        "forehead": cover["forehead"] >= 0.5,
        "lower_neck": (cover["neck"] >= 0.9) & (cover["beard"] < 0.05),
        "lips": cover["lips"] >= 0.5,
        "chin": cover["chin"] >= 0.5,
        "cheeks": cover["cheeks"] >= 0.3,
        "nose": cover["nose"] >= 0.3,
        "eye_corners": cover["eye_corners"] >= 0.3,
        "ears": cover["ears"] >= 0.5,
        "face": cover["face"] >= 0.9,
        "neck": cover["neck"] >= 0.9,
    }


def _median(lab: np.ndarray, region: str) -> np.ndarray:
    return np.median(lab[measuring_regions()[region]], axis=0)


def _quantiles(lab: np.ndarray, region: str) -> np.ndarray:
    return np.percentile(lab[measuring_regions()[region]], QUANTILES, axis=0).ravel()


def _features(lab: np.ndarray, attribute: str) -> np.ndarray:
    """The colour statistics ``attribute`` is judged on, from a ``MEASURE_SIZE`` CIELAB texture."""
    if attribute == "hair_colour":
        return _quantiles(lab, "hair")
    if attribute == "skin":
        return np.concatenate([_median(lab, "forehead"), _median(lab, "lower_neck")])
    if attribute == "lipstick":
        return np.concatenate([_median(lab, "lips"), _median(lab, "forehead")])
    if attribute == "beard_colour":
        return np.concatenate([_median(lab, "chin"), _median(lab, "forehead")])
    return np.concatenate([_quantiles(lab, region) for region in STYLE_REGIONS])


def _centroid_group(attributes: Attributes, attribute: str) -> tuple:
    """Which centroid a calibration texture joins: its value, with what else changes the value's look."""
    value = true_value(attributes, attribute)
    return {
        "hair_colour": (value,),
        "skin": (value, attributes.skin_tone),
        "lipstick": (value, attributes.skin_tone),
        "beard_colour": (value, attributes.beard),
        "style": (value, attributes.skin_tone),
    }[attribute]


@dataclass(frozen=True)
class NearestCentroid:
    """A nearest-centroid classifier; distances in features divided by ``scale``."""

    labels: tuple[str, ...]  # the value each centroid stands for
    centroids: np.ndarray  # (centroids, features)
    scale: np.ndarray  # (features,) pooled spread of the features within centroids

    @classmethod
    def fit(cls, features: np.ndarray, labels: list[str], groups: list[tuple]) -> NearestCentroid:
        keys = sorted(set(groups))
        members = [np.array([g == key for g in groups]) for key in keys]
        centroids = np.stack([features[m].mean(axis=0) for m in members])
        residuals = np.concatenate([features[m] - c for m, c in zip(members, centroids)])
        scale = np.maximum(np.sqrt(np.mean(residuals**2, axis=0)), MIN_SCALE)
        return cls(tuple(labels[int(np.flatnonzero(m)[0])] for m in members), centroids, scale)

    def predict(self, features: np.ndarray) -> str:
        distances = np.sum(((self.centroids - features) / self.scale) ** 2, axis=1)
        return self.labels[int(np.argmin(distances))]


def _calibration_record(rng: np.random.Generator, index: int) -> Attributes:
    """A sampled record with the measured values drawn uniformly, of three kinds in turn: stylised (the
    styles in turn), unstylised and beardless (the lipstick shows), unstylised with a measured beard."""
    record = sample_attributes(rng)
    kind = index % 3
    if kind == 0:
        style, beard = STYLES[1 + (index // 3) % (len(STYLES) - 1)], BEARDS[int(rng.integers(len(BEARDS)))]
    else:
        style, beard = "none", "none" if kind == 1 else MEASURED_BEARDS[int(rng.integers(len(MEASURED_BEARDS)))]
    return replace(
        record,
        hair=str(rng.choice(("full", "receding", "bald"), p=(0.6, 0.3, 0.1))),
        hair_colour=str(rng.choice(list(HAIR_COLOURS))),
        beard=beard,
        beard_colour=str(rng.choice(list(HAIR_COLOURS))),
        lipstick=str(rng.choice(list(LIPSTICKS))),
        style=style,
    )


def _painted_samples(
    n: int,
    seed: int,
    paint_size: int,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    painter: str = "plain",
) -> list[tuple[Attributes, np.ndarray]]:
    """``n`` calibration records with their textures painted by ``painter`` at ``paint_size``, reduced to
    ``MEASURE_SIZE``, passed through ``transform`` if given (an RGB texture in [0, 1] → the same), in CIELAB."""
    samples = []
    for index in range(n):
        rng = np.random.default_rng([seed, index])
        record = _calibration_record(rng, index)
        texture = paint_texture(record, paint_size, seed=int(rng.integers(2**31)), painter=painter)
        texture = _area_reduce(texture, MEASURE_SIZE)
        if transform is not None:
            texture = np.clip(transform(texture), 0.0, 1.0)
        samples.append((record, rgb2lab(texture)))
    return samples


@lru_cache(maxsize=1)
def calibration() -> dict[str, NearestCentroid]:
    """The classifier of every measured attribute, fitted on ``CALIBRATION_TEXTURES`` painter textures."""
    samples = _painted_samples(CALIBRATION_TEXTURES, CALIBRATION_SEED, CALIBRATION_PAINT_SIZE)
    classifiers = {}
    for attribute in MEASURED_ATTRIBUTES:
        shown = [(record, lab) for record, lab in samples if measurable(record, attribute)]
        classifiers[attribute] = NearestCentroid.fit(
            np.stack([_features(lab, attribute) for _, lab in shown]),
            [true_value(record, attribute) for record, _ in shown],
            [_centroid_group(record, attribute) for record, _ in shown],
        )
    return classifiers


def _layout_lab(texture: np.ndarray) -> np.ndarray:
    """A texture (S, S, 3), S in 128/256/512, float in [0, 1] or uint8 → CIELAB at ``MEASURE_SIZE``."""
    texture = np.asarray(texture)
    if texture.ndim != 3 or texture.shape[2] != 3 or texture.shape[0] != texture.shape[1]:
        raise ValueError(f"a texture is (S, S, 3) RGB, got shape {texture.shape}")
    if texture.shape[0] not in TEXTURE_SIZES:
        raise ValueError(f"texture size must be one of {TEXTURE_SIZES}, got {texture.shape[0]}")
    rgb = texture / 255.0 if texture.dtype == np.uint8 else texture.astype(np.float64)
    if not np.all(np.isfinite(rgb)):
        raise ValueError("the texture has non-finite values")
    return rgb2lab(np.clip(_area_reduce(rgb, MEASURE_SIZE), 0.0, 1.0))


def measure_attributes(texture: np.ndarray) -> dict[str, str]:
    """The reading of every measured attribute, each off its own region (see the module doc).

    Every attribute gets a reading: whether the texture should show it (hair colour of a bald head,
    beard colour of a shaven one) is the caller's to decide, with :func:`measurable` on the request.
    A reading is the nearest value, not a test of presence: a bare chin reads as the beard colour
    closest to the skin (white on light skin, brown or blonde on medium, black or brown on dark).
    """
    lab = _layout_lab(texture)
    return {attribute: model.predict(_features(lab, attribute)) for attribute, model in calibration().items()}


def attribute_found(texture: np.ndarray, attribute: str, requested: str) -> bool:
    """Whether the texture shows the ``requested`` value of ``attribute`` in the attribute's region."""
    if requested not in MEASURED_VALUES.get(attribute, ()):
        raise ValueError(f"{attribute}={requested!r} is not measured; measured: {MEASURED_VALUES}")
    return calibration()[attribute].predict(_features(_layout_lab(texture), attribute)) == requested


def calibration_accuracy(
    n: int = 200,
    seed: int = 1,
    paint_size: int = TRAINING_PAINT_SIZE,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    painter: str = "plain",
) -> dict[str, float]:
    """The instrument's own accuracy per attribute on ``n`` fresh textures of ``painter`` (drawn as the
    calibration's are, with another seed), over the textures that show the attribute (NaN if none does).

    With ``transform`` (e.g. an autoencoder's round trip), the accuracy on the transformed textures:
    how much of the attributes survives it.
    """
    if seed == CALIBRATION_SEED:
        raise ValueError(f"seed {seed} is the calibration's; held-out textures need another")
    classifiers = calibration()
    hits: dict[str, list[bool]] = {attribute: [] for attribute in MEASURED_ATTRIBUTES}
    for record, lab in _painted_samples(n, seed, paint_size, transform, painter):
        for attribute, model in classifiers.items():
            if measurable(record, attribute):
                hits[attribute].append(model.predict(_features(lab, attribute)) == true_value(record, attribute))
    return {attribute: float(np.mean(found)) if found else float("nan") for attribute, found in hits.items()}
