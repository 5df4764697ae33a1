"""Shading of the template head baked into the aligned layout: ambient occlusion and cavity.

A scanned albedo is not flat: the eye sockets, the sides of the nose, the corners of the mouth, the
creases under the lips and the chin and the folds of the ears stay darker than the open skin,
because less light reaches them when the scan is taken. The detailed painter multiplies its texture
by the same darkening, found once on the template head (the surface under each texel, as the region
masks are) and cached on disk with them.

Both terms come from the template's 3D point ``P`` and normal ``n`` under each texel. How far the
surrounding surface rises above a texel's tangent plane, ``(blur(P) - P) · n`` for a Gaussian blur
over the layout, measures how concave it is at the blur's scale: occlusion sums it over several
scales (wide hollows such as the eye sockets), cavity takes the finest scale only (crevices such as
the lip line and the alar grooves). Convex and flat texels keep their colour.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter

from cliphead.assets import load_cached_npz
from cliphead.lab.world.regions import TEXEL_SIZE, template_texels

#: Blur widths (texels of the 512 px layout) at which concavity is summed into occlusion.
OCCLUSION_SCALES = (2.0, 5.0, 12.0)
#: Blur width (texels of the 512 px layout) of the cavity term.
CAVITY_SCALE = 1.0
#: Concavity below this (cm per cm) is the template's faceting, not a hollow, and casts no shade.
DEAD_ZONE = 0.04
#: Darkening per unit of concavity (concavity: rise in cm per cm of blur width).
OCCLUSION_STRENGTH = 1.6
CAVITY_STRENGTH = 2.5
#: The darkest a texel gets (multiplier on its colour).
DARKEST = 0.35
#: Exponents of the multiplier per channel (R, G, B): shadowed skin turns warmer, not grey, as in a scan.
SHADE_TINT = (0.75, 1.0, 1.15)


def _masked_blur(values: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of ``(S, S, C)`` values over the valid texels only (no bleed from outside the disk)."""
    weight = gaussian_filter(valid.astype(np.float64), sigma)
    blurred = np.stack([gaussian_filter(values[..., k] * valid, sigma) for k in range(values.shape[-1])], axis=-1)
    return blurred / np.maximum(weight, 1e-6)[..., None]


def template_normals(position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outward unit normals ``(S, S, 3)`` of the surface under the texels, and its size (cm per texel)."""
    along_rows, along_columns = np.gradient(position.astype(np.float64), axis=(0, 1))
    normals = np.cross(along_columns, along_rows)
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    normals = normals / np.maximum(length, 1e-9)
    cm_per_texel = np.sqrt(np.linalg.norm(along_rows, axis=-1) * np.linalg.norm(along_columns, axis=-1))
    return normals, cm_per_texel


def _concavity(position, normals, valid, cm_per_texel, sigma: float) -> np.ndarray:
    """Rise of the surrounding surface above the tangent plane per cm of blur width, beyond ``DEAD_ZONE``."""
    rise = np.einsum("ijk,ijk->ij", _masked_blur(position, valid, sigma) - position, normals)
    return np.maximum(rise / np.maximum(sigma * cm_per_texel, 1e-6) - DEAD_ZONE, 0.0)


def _build_shading() -> dict[str, np.ndarray]:
    texels = template_texels(TEXEL_SIZE)
    valid = texels.valid
    position = texels.position.astype(np.float64)
    normals, cm_per_texel = template_normals(position)
    # The normals' orientation follows the layout's winding: make them point away from the head's centre.
    centre = position[valid].mean(axis=0)
    if np.median(np.einsum("ijk,ijk->ij", normals, position - centre)[valid]) < 0:
        normals = -normals
    cm_per_texel = _masked_blur(cm_per_texel[..., None], valid, 4.0)[..., 0]
    occlusion = sum(_concavity(position, normals, valid, cm_per_texel, sigma) for sigma in OCCLUSION_SCALES)
    cavity = _concavity(position, normals, valid, cm_per_texel, CAVITY_SCALE)
    shade = np.exp(-OCCLUSION_STRENGTH * occlusion - CAVITY_STRENGTH * cavity)
    shade = np.where(valid, np.maximum(shade, DARKEST), 1.0)
    return {"shade": shade.astype(np.float32)}


@lru_cache(maxsize=4)
def template_shading(size: int = TEXEL_SIZE) -> np.ndarray:
    """The ``(size, size, 3)`` RGB multiplier (in ``[DARKEST, 1]`` before ``SHADE_TINT``) that darkens the
    template's hollows and crevices."""
    from cliphead.uv.layout import LAYOUT_FILE

    if TEXEL_SIZE % size:
        raise ValueError(f"texture size must divide {TEXEL_SIZE} (e.g. 128, 256, 512), got {size}")
    settings = repr((OCCLUSION_SCALES, CAVITY_SCALE, DEAD_ZONE, OCCLUSION_STRENGTH, CAVITY_STRENGTH, DARKEST)).encode()
    key = hashlib.sha256(LAYOUT_FILE.read_bytes() + settings).hexdigest()[:12]
    shade = load_cached_npz(f"template-shading-{TEXEL_SIZE}-{key}", _build_shading)["shade"]
    step = TEXEL_SIZE // size
    shade = gaussian_filter(shade, 0.5 * (step - 1))[step // 2 :: step, step // 2 :: step]
    return (shade[..., None] ** np.array(SHADE_TINT)).astype(np.float32)
