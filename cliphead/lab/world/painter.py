"""The procedural painter: an aligned-UV texture from an attribute record.

The stand-in for the textured scans CLIP-Head's ControlNet_uv learns from (§2.3): a texture in the
aligned layout (§2.2) whose content is known exactly. Layers, bottom to top: skin (a Monk tone with
low-frequency variation and fine pore noise, redder lips, cheeks and nose), age marks (forehead
lines, crow's feet, nasolabial folds, spots), freckles, blush, eyes, lipstick, brows, beard, hair, and
then the stylisations in the spirit of CLIP-Head Fig. 3a (clown, skull, tiger, zombie, blue alien,
green giant, gold or silver statue, war paint, tattoos). Large painted shapes are placed by the
template's 3D point under each texel (centimetres), features by the landmark regions, so every head
with an aligned map wears them in the same place.

Two painters share these layers (``PAINTERS``). The ``plain`` one draws the eyes as flat sclera and
iris patches and the brows as bands. The ``detailed`` one draws the features as a face photo shows
them (:mod:`cliphead.lab.world.face_features`: eyes with iris, pupil, lids and lashes; brows as
strands; the line between the lips; nostrils) and multiplies the result by the template's baked
occlusion and cavity (:mod:`cliphead.lab.world.shading`). The detailed features draw their noise
from a generator of their own, so both painters place everything else (freckles, spots, strands)
the same way for the same seed.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter1d, zoom

from cliphead.lab.world.attributes import (
    EYE_COLOURS,
    HAIR_COLOURS,
    LIPSTICKS,
    MONK_SKIN_TONES,
    Attributes,
    hex_rgb,
)
from cliphead.lab.world.face_features import blend as _blend
from cliphead.lab.world.face_features import paint_brows, paint_eyes, paint_lips, paint_nostrils
from cliphead.lab.world.regions import LEFT_EYE, RIGHT_EYE, RegionMasks, polyline_distance, region_masks
from cliphead.lab.world.shading import template_shading

TEXTURE_SIZES = (128, 256, 512)
#: The painters: ``plain`` (the default, which every shipped model was trained on) and ``detailed``.
PAINTERS = ("plain", "detailed")
#: Seed stream of the detailed features, apart from the layers both painters share.
DETAIL_STREAM = 22
#: Texels per centimetre of the face in a 512² aligned layout (the harmonic map shrinks the face).
FACE_TEXELS_PER_CM_512 = 5.3
#: Brow half-thickness in cm of the template for thin / medium / thick brows.
BROW_HALF_WIDTH = {"thin": 0.22, "medium": 0.38, "thick": 0.6}
STATUE_METALS = {"gold statue": "#d4af37", "silver statue": "#c0c2c6"}
STYLE_SKINS = {"alien": "#4f7fe0", "giant": "#4f9a3a", "zombie": "#8a9a78"}
WAR_PAINTS = ("#b01818", "#151515", "#f0f0f0", "#1f4fb0")


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Zero-mean, unit-scale noise with about ``cells`` features across the texture."""
    coarse = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
    return zoom(coarse, size / (cells + 1), order=1, prefilter=False)[:size, :size]


def _distance_to(position: np.ndarray, point: np.ndarray) -> np.ndarray:
    return np.linalg.norm(position - point.astype(np.float32), axis=-1)


def _blobs(rng: np.random.Generator, region: np.ndarray, count: int, sigma: float) -> np.ndarray:
    """``count`` soft dots of width ``sigma`` texels placed at random inside ``region``."""
    candidates = np.flatnonzero(region.ravel() > 0.5)
    impulses = np.zeros(region.size, dtype=np.float32)
    if len(candidates):
        impulses[rng.choice(candidates, size=min(count, len(candidates)), replace=False)] = 1.0
    dots = gaussian_filter(impulses.reshape(region.shape), sigma)
    return dots / max(float(dots.max()), 1e-6)


def paint_texture(attributes: Attributes, size: int = 512, seed: int = 0, painter: str = "plain") -> np.ndarray:
    """An ``(size, size, 3)`` float32 RGB texture in [0, 1] in the aligned layout (v up, OBJ convention).

    ``seed`` only varies the noise (skin variation, strands, freckle and spot placement); everything
    the record names is painted the same for every seed. ``painter`` is one of ``PAINTERS`` (see the
    module doc).
    """
    if size not in TEXTURE_SIZES:
        raise ValueError(f"texture size must be one of {TEXTURE_SIZES}, got {size}")
    if painter not in PAINTERS:
        raise ValueError(f"painter must be one of {PAINTERS}, got {painter!r}")
    detailed = painter == "detailed"
    detail_rng = np.random.default_rng([seed, DETAIL_STREAM])
    rng = np.random.default_rng(seed)
    regions = region_masks(size)
    position = regions.texels.position
    px_per_cm = size / 512 * FACE_TEXELS_PER_CM_512
    fine = rng.standard_normal((size, size), dtype=np.float32)

    texture = _skin(attributes, regions, rng, fine)
    _age_marks(texture, attributes, regions, rng, px_per_cm)
    if attributes.freckles:
        freckle_area = np.maximum(regions["nose"], regions["cheeks"] > 0.25) * regions["face"]
        dots = _blobs(rng, gaussian_filter(freckle_area, 4 * px_per_cm), int(0.5 * size), 0.12 * px_per_cm)
        _blend(texture, texture * np.array([0.62, 0.45, 0.33], np.float32), 1.6 * dots)
    if attributes.blush:
        _blend(texture, hex_rgb("#e0607a"), 0.45 * regions["cheeks"])
    if detailed:
        paint_eyes(texture, attributes, regions, detail_rng)
    else:
        _eyes(texture, attributes, regions)
    if LIPSTICKS[attributes.lipstick] is not None:
        _blend(texture, hex_rgb(LIPSTICKS[attributes.lipstick]) * (0.92 + 0.08 * fine[..., None]), regions["lips"])
    strands = uniform_filter1d(fine, size=max(3, size // 64), axis=0) * np.sqrt(size / 64)
    if detailed:
        paint_lips(texture, regions, px_per_cm)
        paint_nostrils(texture, regions, px_per_cm)
        paint_brows(texture, attributes, regions, detail_rng, px_per_cm)
    else:
        _brows(texture, attributes, regions, strands, px_per_cm)
    _beard(texture, attributes, regions, rng, fine, strands)
    _hair(texture, attributes, regions, strands)
    _stylise(texture, attributes, regions, position, rng, fine, px_per_cm)
    if detailed:
        texture *= template_shading(size)
    return np.clip(texture, 0.0, 1.0)


def _skin(attributes: Attributes, regions: RegionMasks, rng: np.random.Generator, fine: np.ndarray) -> np.ndarray:
    size = fine.shape[0]
    tone = hex_rgb(MONK_SKIN_TONES[attributes.skin_tone - 1])
    if attributes.style in STYLE_SKINS:
        tone = hex_rgb(STYLE_SKINS[attributes.style])
    variation = 1.0 + 0.05 * smooth_noise(rng, size, 6)[..., None] + 0.02 * fine[..., None]
    texture = np.broadcast_to(tone, (size, size, 3)) * variation
    flush = np.array([1.0, 0.86, 0.84], np.float32)
    _blend(texture, texture * flush, 0.5 * regions["cheeks"] + 0.35 * regions["nose"])
    _blend(texture, texture * np.array([0.88, 0.66, 0.64], np.float32), regions["lips"])
    _blend(texture, texture * 0.35, regions["mouth"])
    return texture.astype(np.float32)


def _age_marks(texture, attributes: Attributes, regions: RegionMasks, rng, px_per_cm: float) -> None:
    if attributes.age == "young":
        return
    strength = 0.18 if attributes.age == "middle-aged" else 0.32
    y = regions.texels.position[..., 1]
    lines = np.clip((np.cos(2 * np.pi * y / 0.9) - 0.6) / 0.4, 0.0, 1.0)
    _blend(texture, texture * 0.6, strength * lines * regions["forehead"])
    rows, columns = np.mgrid[0 : texture.shape[0], 0 : texture.shape[1]].astype(np.float32)
    for corner in (36, 45):
        cx, cy = regions.texels.landmarks_px[corner]
        rays = np.clip((np.cos(9 * np.arctan2(rows - cy, columns - cx)) - 0.5) / 0.5, 0.0, 1.0)
        _blend(texture, texture * 0.6, 1.5 * strength * rays * regions["eye_corners"])
    folds = np.zeros(texture.shape[:2], dtype=np.float32)
    landmarks = regions.texels.landmarks_px
    for nostril, mouth_corner in ((31, 48), (35, 54)):
        start = landmarks[nostril] + (landmarks[nostril] - landmarks[33]) * 0.6
        end = landmarks[mouth_corner] + (landmarks[mouth_corner] - landmarks[51]) * 0.25
        folds = np.maximum(
            folds, np.exp(-((polyline_distance(np.stack([start, end]), texture.shape[0]) / (0.12 * px_per_cm)) ** 2))
        )
    _blend(texture, texture * 0.7, 1.2 * strength * folds)
    if attributes.age == "old":
        spots = _blobs(rng, regions["face"] + regions["scalp"] * (not attributes.has_hair), 40, 0.25 * px_per_cm)
        _blend(texture, texture * np.array([0.7, 0.55, 0.45], np.float32), 0.8 * spots)


def _eyes(texture, attributes: Attributes, regions: RegionMasks) -> None:
    _blend(texture, hex_rgb("#e8e4dc"), regions["eyes"])
    _blend(texture, hex_rgb(EYE_COLOURS[attributes.eye_colour]), regions["iris"])


def _brows(texture, attributes: Attributes, regions: RegionMasks, strands: np.ndarray, px_per_cm: float) -> None:
    half_width = BROW_HALF_WIDTH[attributes.brows] * px_per_cm
    alpha = np.clip((half_width - regions["brows_line"]) / (0.5 * px_per_cm) + 0.5, 0.0, 1.0)
    colour = hex_rgb(HAIR_COLOURS[attributes.brow_colour])
    _blend(texture, colour * (1.0 + 0.15 * strands[..., None]), 0.92 * alpha * regions["face"])


def _beard(texture, attributes: Attributes, regions: RegionMasks, rng, fine, strands) -> None:
    if attributes.beard == "none":
        return
    colour = hex_rgb(HAIR_COLOURS[attributes.beard_colour]) * (1.0 + 0.2 * strands[..., None])
    if attributes.beard == "stubble":
        dots = np.clip(fine - 0.2, 0.0, 1.0)
        _blend(texture, colour, (0.35 + 0.5 * dots) * regions["beard"])
        return
    area = {
        "moustache": regions["moustache"],
        "goatee": np.maximum(regions["moustache"], gaussian_filter(regions["chin"], 2.0) * 1.6),
        "full beard": np.maximum(regions["beard"], regions["moustache"]),
    }[attributes.beard]
    _blend(texture, colour, np.clip(area, 0.0, 1.0) * (0.9 + 0.1 * fine))


def _hair(texture, attributes: Attributes, regions: RegionMasks, strands) -> None:
    if not attributes.has_hair or attributes.style in STATUE_METALS:
        return
    raise_by = 2.5 if attributes.hair == "receding" else 0.0
    height = regions.hairline_height - raise_by
    temples = np.abs(regions.texels.position[..., 0]) > 3.0
    if attributes.hair == "receding":
        height = np.where(temples, height - 1.5, height)
    alpha = np.clip(height / 0.6, 0.0, 1.0) * regions["scalp"]
    colour = hex_rgb(HAIR_COLOURS[attributes.hair_colour])
    strand_colour = colour * (1.0 + 0.22 * strands[..., None])
    if attributes.age == "old" and attributes.hair_colour not in ("grey", "white"):
        strand_colour = np.where(strands[..., None] > 0.9, hex_rgb("#b8b8b8"), strand_colour)
    _blend(texture, strand_colour, alpha)


def _stylise(texture, attributes: Attributes, regions: RegionMasks, position, rng, fine, px_per_cm: float) -> None:
    style = attributes.style
    lm = regions.texels.landmarks
    face = regions["face"]
    eye_centres = [lm[LEFT_EYE].mean(axis=0), lm[RIGHT_EYE].mean(axis=0)]
    x, y = position[..., 0], position[..., 1]
    if style == "clown":
        _blend(texture, hex_rgb("#f4f2ee"), face)
        for centre in eye_centres:
            diamond = np.abs(x - centre[0]) / 1.2 + np.abs(y - centre[1]) / 2.4 < 1.0
            _blend(texture, hex_rgb("#2050c0"), diamond * face)
        mouth = ((x - lm[51:58, 0].mean()) / 3.6) ** 2 + ((y - lm[51:58, 1].mean()) / 1.6) ** 2 < 1.0
        _blend(texture, hex_rgb("#d01020"), mouth * face)
        _blend(texture, hex_rgb("#e01010"), _distance_to(position, lm[30]) < 1.5)
    elif style == "skull":
        _blend(texture, hex_rgb("#ecebe4"), np.maximum(face, regions["scalp"] * (not attributes.has_hair)))
        for centre in eye_centres:
            _blend(texture, hex_rgb("#101010"), (_distance_to(position, centre) < 1.9) * face)
        nose = (_distance_to(position, lm[30]) < 1.2) | (_distance_to(position, lm[33]) < 1.0)
        _blend(texture, hex_rgb("#101010"), nose * face)
        mouth = (np.abs(x - lm[51, 0]) < 3.0) & (np.abs(y - lm[62:67, 1].mean()) < 1.2)
        teeth = mouth & (np.cos(2 * np.pi * x / 0.7) > 0.6)
        _blend(texture, hex_rgb("#101010"), teeth * face)
    elif style == "tiger":
        stripes = np.sin(2 * np.pi * (y + 1.2 * np.sin(0.5 * x)) / 2.6) > 0.55
        _blend(texture, hex_rgb("#e07a1a"), face + regions["ears"] + regions["neck"])
        muzzle = ((x / 3.2) ** 2 + ((y - lm[33, 1] + 1.5) / 2.6) ** 2) < 1.0
        _blend(texture, hex_rgb("#f4efe6"), muzzle * face)
        _blend(texture, hex_rgb("#141010"), stripes * (np.abs(x) > 2.2) * np.maximum(face, regions["neck"]))
    elif style == "zombie":
        for centre in eye_centres:
            ring = np.exp(-(((_distance_to(position, centre) - 1.6) / 0.6) ** 2))
            _blend(texture, hex_rgb("#3a2a30"), 0.8 * ring * face)
        wounds = _blobs(rng, face, 8, 0.6 * px_per_cm)
        _blend(texture, hex_rgb("#6a1a14"), np.clip(2.0 * wounds, 0.0, 1.0))
    elif style in STATUE_METALS:
        metal = hex_rgb(STATUE_METALS[style])
        sheen = 1.0 + 0.2 * smooth_noise(rng, fine.shape[0], 10)[..., None] + 0.04 * fine[..., None]
        texture[:] = np.clip(metal * sheen, 0.0, 1.0)
    elif style == "war paint":
        colour = hex_rgb(WAR_PAINTS[int(rng.integers(len(WAR_PAINTS)))])
        rows = (np.abs(y - (lm[30, 1] + offset)) < 0.45 for offset in (-0.8, 0.6, 2.0))
        stripes = np.logical_or.reduce(list(rows)) & (np.abs(x) > 2.2)
        _blend(texture, colour, stripes * face)
    elif style == "tattoos":
        swirl = np.abs(np.sin(1.7 * x + 2.0 * np.sin(0.9 * y)) * np.cos(1.3 * y + 1.5 * np.sin(0.7 * x))) < 0.12
        canvas = np.maximum(regions["neck"], face * (np.abs(x) > 3.5))
        if not attributes.has_hair:
            canvas = np.maximum(canvas, regions["scalp"])
        _blend(texture, hex_rgb("#1c2436"), 0.85 * swirl * canvas)
