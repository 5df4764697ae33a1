"""Baking into the aligned UV layout: the UV normal map, ControlNet_uv's control hint (CLIP-Head §2.3).

Each texel holds the object-space unit normal of the surface point that maps to it, drawn as
n * 0.5 + 0.5 with x → R, y → G, z → B (the ICT frame: x to the head's left, y up, z out of the
face), black where no surface maps. Because the layout is shared, the same texel means the same
part of the head for every head.
"""

from __future__ import annotations

import numpy as np

from cliphead.render import bake, vertex_normals


def uv_normal_map(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, size: int = 512) -> np.ndarray:
    """(size, size, 3) float32 image in [0, 1] of object-space normals over the UV layout."""
    normals = vertex_normals(vertices, faces)
    baked = bake(normals, faces, uv, size, fill_background=np.nan, dilate=2)
    length = np.linalg.norm(baked, axis=-1, keepdims=True)
    covered = np.isfinite(length[..., 0]) & (length[..., 0] > 0)
    image = np.zeros_like(baked, dtype=np.float32)
    image[covered] = baked[covered] / length[covered] * 0.5 + 0.5
    return image
