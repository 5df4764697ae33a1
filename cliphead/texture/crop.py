"""The face crop of the aligned layout: the zoomed window of the rectification (supplementary §3).

In the aligned layout the face is small (its 68 landmarks span about a fifth of the texture's width),
so a texture generated from the whole UV normal map places the facial features only roughly.
Rectification generates a second, partial texture from this crop of the UV normal map, zoomed to the
full resolution. The crop is one fixed square, found once from the layout's landmark targets, so it
means the same texels for every head.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from cliphead.uv.layout import landmark_targets

#: The crop's side is this many times the larger extent of the landmark targets (forehead to chin).
CROP_MARGIN = 1.35
#: The texture size at which the landmark targets are placed when the box is found.
LANDMARK_GRID = 512


@dataclass(frozen=True)
class FaceBox:
    """A square window of the layout in texture fractions: columns ``left … left+side``, rows ``top … top+side``."""

    left: float
    top: float
    side: float

    def pixels(self, size: int) -> tuple[float, float, float]:
        """(left, top, side) in pixels of a ``size`` texture."""
        return self.left * size, self.top * size, self.side * size

    def to_texture(self, points: np.ndarray, crop_size: int, texture_size: int) -> np.ndarray:
        """Pixel coordinates (column, row) in a ``crop_size`` crop → in a ``texture_size`` texture."""
        left, top, side = self.pixels(texture_size)
        scale = side / crop_size
        return np.stack([left + (points[:, 0] + 0.5) * scale - 0.5, top + (points[:, 1] + 0.5) * scale - 0.5], axis=1)

    def to_crop(self, points: np.ndarray, crop_size: int, texture_size: int) -> np.ndarray:
        """The inverse of :meth:`to_texture`."""
        left, top, side = self.pixels(texture_size)
        scale = crop_size / side
        return np.stack([(points[:, 0] + 0.5 - left) * scale - 0.5, (points[:, 1] + 0.5 - top) * scale - 0.5], axis=1)


@lru_cache(maxsize=1)
def face_box() -> FaceBox:
    """The layout's face crop: centred on the landmark targets' bounding box, ``CROP_MARGIN`` × its extent."""
    targets = landmark_targets(LANDMARK_GRID) / LANDMARK_GRID
    low, high = targets.min(axis=0), targets.max(axis=0)
    centre = (low + high) / 2
    side = float(CROP_MARGIN * (high - low).max())
    return FaceBox(left=float(centre[0] - side / 2), top=float(centre[1] - side / 2), side=side)


def crop_face(images: torch.Tensor, size: int, box: FaceBox | None = None) -> torch.Tensor:
    """The face window of ``(n, c, S, S)`` layout images, resampled to ``(n, c, size, size)`` (bilinear, antialiased)."""
    box = box or face_box()
    n, _, height, width = images.shape
    left, top, side = box.pixels(width)
    # affine_grid works in [-1, 1] texture coordinates (align_corners=False: pixel edges at ±1).
    scale = side / width
    centre_x = (left + side / 2) / width * 2 - 1
    centre_y = (top + side / 2) / height * 2 - 1
    theta = torch.tensor([[scale, 0.0, centre_x], [0.0, scale, centre_y]], dtype=images.dtype)
    zoom = side / size
    source = images
    if zoom > 1.5:  # antialias: blur down to the crop's sampling rate before resampling
        factor = int(zoom)
        source = F.avg_pool2d(images, factor, stride=1, padding=factor // 2, count_include_pad=False)[
            ..., :height, :width
        ]
    grid = F.affine_grid(theta.expand(n, 2, 3), (n, images.shape[1], size, size), align_corners=False)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=False)
