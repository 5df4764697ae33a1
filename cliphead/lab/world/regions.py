"""Semantic regions of the aligned UV layout: where skin, hair, brows, eyes, lips, beard, … are.

Every head's aligned map (CLIP-Head §2.2) puts the same surface point at the same texel, and with
the landmark warp the 68 landmarks land on the layout's fixed targets. So the regions are found once,
on the template head (ICT-FaceKit's neutral, re-meshed as ``cliphead build layout`` does), and hold for
every head: facial features from the landmark targets in the UV plane (eyes, lips, brows, nose,
moustache, chin), the rest from the 3D point under each texel (scalp, ears, neck, beard area).

Masks are float32 in [0, 1] with soft edges, at any texture size; the template's texels are built
once (about 10 s) and cached in the user cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.path import Path as Polygon

from cliphead.assets import load_cached_npz

#: Resolution at which the template's texels are rasterised; smaller sizes are subsampled from it.
TEXEL_SIZE = 512
TEMPLATE_RESOLUTION = 160

JAW, LEFT_BROW, RIGHT_BROW = np.arange(0, 17), np.arange(17, 22), np.arange(22, 27)
NOSE_BRIDGE, NOSE_BASE = np.arange(27, 31), np.arange(31, 36)
LEFT_EYE, RIGHT_EYE = np.arange(36, 42), np.arange(42, 48)
OUTER_LIPS, INNER_LIPS = np.arange(48, 60), np.arange(60, 68)


@dataclass(frozen=True)
class TemplateTexels:
    """The template head's surface under each texel of the aligned layout."""

    valid: np.ndarray  # (S, S) bool, texels inside the layout's disk
    position: np.ndarray  # (S, S, 3) float32, cm in the ICT frame (y up, face towards +z)
    landmarks: np.ndarray  # (68, 3) the template's landmarks in 3D
    landmarks_px: np.ndarray  # (68, 2) their layout targets in pixel coordinates (column, row)

    @property
    def size(self) -> int:
        return self.valid.shape[0]


def _build_texels() -> dict[str, np.ndarray]:
    from cliphead.render.rasterize import rasterize_uv
    from cliphead.uv.aligned import aligned_uv
    from cliphead.uv.checks import prepare_head_mesh
    from cliphead.lab.uv.layout_build import template_head

    head = template_head(TEMPLATE_RESOLUTION)
    prepared = prepare_head_mesh(head.vertices, head.faces)
    aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=head.landmarks)
    fragments = rasterize_uv(aligned.uv, aligned.faces, TEXEL_SIZE)
    valid = fragments.triangle_id >= 0
    corners = aligned.vertices[aligned.faces[np.maximum(fragments.triangle_id, 0)]]
    position = np.einsum("ijk,ijkl->ijl", fragments.barycentrics, corners)
    return {"valid": valid, "position": position.astype(np.float32), "landmarks": head.landmarks}


@lru_cache(maxsize=4)
def template_texels(size: int = TEXEL_SIZE) -> TemplateTexels:
    """The template's texels at ``size`` (a divisor of 512), built once and cached on disk."""
    from cliphead.uv.layout import LAYOUT_FILE, landmark_targets

    if TEXEL_SIZE % size:
        raise ValueError(f"texture size must divide {TEXEL_SIZE} (e.g. 128, 256, 512), got {size}")
    layout_hash = hashlib.sha256(LAYOUT_FILE.read_bytes()).hexdigest()[:12]
    arrays = load_cached_npz(f"template-texels-{TEXEL_SIZE}-{layout_hash}", _build_texels)
    step = TEXEL_SIZE // size
    landmarks_px = landmark_targets(size)
    return TemplateTexels(
        valid=arrays["valid"][step // 2 :: step, step // 2 :: step],
        position=arrays["position"][step // 2 :: step, step // 2 :: step],
        landmarks=arrays["landmarks"],
        landmarks_px=landmarks_px,
    )


def _grid(size: int) -> np.ndarray:
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float32)
    return np.stack([columns, rows], axis=-1)


def polygon_mask(points: np.ndarray, size: int) -> np.ndarray:
    """Texels inside a closed polygon given in pixel coordinates."""
    return Polygon(points).contains_points(_grid(size).reshape(-1, 2)).reshape(size, size)


def polyline_distance(points: np.ndarray, size: int) -> np.ndarray:
    """Distance (pixels) of each texel from an open polyline given in pixel coordinates."""
    grid = _grid(size)
    best = np.full((size, size), np.inf, dtype=np.float32)
    for a, b in zip(points[:-1], points[1:]):
        ab = b - a
        t = np.clip(((grid - a) @ ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(grid - (a + t[..., None] * ab), axis=-1))
    return best


def soften(mask: np.ndarray, pixels: float) -> np.ndarray:
    """A boolean mask with its edge blurred over about ``pixels`` texels (float32 in [0, 1])."""
    from scipy.ndimage import gaussian_filter

    return np.clip(gaussian_filter(mask.astype(np.float32), max(pixels, 1e-3)), 0.0, 1.0)


def _ramp(value: np.ndarray, start: float, end: float) -> np.ndarray:
    """0 at ``start``, 1 at ``end``, linear between (either direction)."""
    return np.clip((value - start) / (end - start), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class RegionMasks:
    """Soft masks of the aligned layout at one texture size, plus the template texels they came from."""

    texels: TemplateTexels
    masks: dict[str, np.ndarray]
    hairline_height: np.ndarray  # (S, S) cm above the front hairline plane (receding moves it up)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.masks[name]


REGION_NAMES = (
    "skin",
    "face",
    "scalp",
    "ears",
    "neck",
    "forehead",
    "brows_line",
    "eyes",
    "iris",
    "lips",
    "mouth",
    "nose",
    "moustache",
    "chin",
    "beard",
    "cheeks",
    "eye_corners",
)


@lru_cache(maxsize=4)
def region_masks(size: int = 256) -> RegionMasks:
    """The semantic regions at texture ``size`` (see the module doc for how each is found)."""
    texels = template_texels(size)
    lm_px, lm3 = texels.landmarks_px, texels.landmarks
    x, y, z = (texels.position[..., k] for k in range(3))
    valid = texels.valid
    scale = size / 256.0
    brow_y = lm3[list(LEFT_BROW) + list(RIGHT_BROW), 1].mean()
    ear_x = np.abs(lm3[[0, 16], 0]).mean()
    ear_y, ear_z = lm3[[0, 16], 1].mean(), lm3[[0, 16], 2].mean()
    chin_y = lm3[8, 1]

    # Hair grows above a plane falling from 5 cm above the brows at the front to below the ears at
    # the back (the nape); hairline_height is the signed height above it, in cm.
    front_z, back_z = lm3[27, 2], float(z[valid].min())
    front_y, back_y = brow_y + 5.0, ear_y - 6.0
    slope = (front_y - back_y) / (front_z - back_z)
    hairline_height = y - (back_y + slope * (z - back_z))
    ears = valid & (np.abs(x) > ear_x + 0.4) & (np.abs(y - (ear_y + 0.5)) < 3.6) & (np.abs(z - (ear_z - 3.0)) < 3.2)
    neck = valid & (y < chin_y - 1.0) & ~ears
    scalp = valid & (hairline_height > 0) & ~ears & (y > ear_y - 6.0)
    face = valid & (z > ear_z - 2.0) & (y > chin_y - 1.0) & ~scalp & ~ears

    eye_l, eye_r = polygon_mask(lm_px[LEFT_EYE], size), polygon_mask(lm_px[RIGHT_EYE], size)
    eyes = eye_l | eye_r
    iris = np.zeros_like(eyes)
    grid = _grid(size)
    for eye in (LEFT_EYE, RIGHT_EYE):
        centre = lm_px[eye].mean(axis=0)
        radius = 0.22 * np.linalg.norm(lm_px[eye[0]] - lm_px[eye[3]])
        iris |= np.linalg.norm(grid - centre, axis=-1) < radius
    iris &= eyes
    outer, inner = polygon_mask(lm_px[OUTER_LIPS], size), polygon_mask(lm_px[INNER_LIPS], size)
    brow_distance = np.minimum(polyline_distance(lm_px[LEFT_BROW], size), polyline_distance(lm_px[RIGHT_BROW], size))
    nose_outline = lm_px[[27, 31, 32, 33, 34, 35]]
    nose = polygon_mask(np.concatenate([nose_outline, lm_px[[27]] + [0.0, -2 * scale]]), size)
    nose = soften(nose, 2 * scale) > 0.5

    upper_lip = lm_px[48:55]
    moustache = polygon_mask(np.concatenate([upper_lip, lm_px[[35, 33, 31]]]), size) & ~outer
    chin = (
        polygon_mask(np.concatenate([lm_px[[54, 55, 56, 57, 58, 59, 48]], lm_px[[6, 7, 8, 9, 10]][::-1]]), size)
        & ~outer
    )
    nose_base_y = lm3[33, 1]
    beard = face & (y < nose_base_y - 0.3 + 0.35 * (z - lm3[33, 2])) & ~outer & ~nose
    beard |= valid & (y > chin_y - 4.5) & (y < chin_y + 1.0) & (np.abs(x) < ear_x - 1.0) & (z > ear_z - 3.0)
    beard &= ~ears
    cheeks = np.zeros((size, size), dtype=np.float32)
    for jaw_point, nose_point in ((2, 31), (14, 35)):
        centre = 0.5 * (lm_px[jaw_point] + lm_px[nose_point]) + [0.0, -0.1 * size / 8]
        cheeks = np.maximum(cheeks, np.exp(-((np.linalg.norm(grid - centre, axis=-1) / (0.045 * size)) ** 2)))
    eye_corners = np.zeros((size, size), dtype=np.float32)
    for corner, direction in ((36, -1.0), (45, 1.0)):
        centre = lm_px[corner] + [direction * 0.02 * size, 0.0]
        eye_corners = np.maximum(eye_corners, np.exp(-((np.linalg.norm(grid - centre, axis=-1) / (0.025 * size)) ** 2)))
    forehead = face & (y > brow_y + 0.8) & (hairline_height < 0)

    masks = {
        "skin": soften(valid, 0.5 * scale),
        "face": soften(face, 2 * scale),
        "scalp": soften(scalp, 1.5 * scale),
        "ears": soften(ears, 1 * scale),
        "neck": soften(neck, 2 * scale),
        "forehead": soften(forehead, 3 * scale),
        "brows_line": brow_distance.astype(np.float32),
        "eyes": soften(eyes, 0.6 * scale),
        "iris": soften(iris, 0.5 * scale),
        "lips": soften(outer & ~inner, 0.7 * scale),
        "mouth": soften(inner, 0.5 * scale),
        "nose": soften(nose, 1.5 * scale),
        "moustache": soften(moustache, 1.0 * scale),
        "chin": soften(chin, 1.5 * scale),
        "beard": soften(beard, 2 * scale),
        "cheeks": cheeks * face,
        "eye_corners": eye_corners * face,
    }
    return RegionMasks(texels, masks, hairline_height.astype(np.float32))
