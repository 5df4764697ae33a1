"""The released rectification (supplementary §3 as released) and the mask of its inpainting pass.

FaceMesh's 468 face points are found on the face pass's texture and on the same crop of the full pass's
texture, both at the warp size. The full texture's crop is warped piecewise-affinely (one affine map per
triangle of the points) so that its points land on the face texture's, and pasted into the crop where the
warp covers it: the face texture says where the features go, the full texture supplies them. The release
routes the warp through MediaPipe's canonical face UVs (``MediaPipe/geometry.json`` of a CLIP-Head
checkout): crop → canonical UV → face texture; given no such file the crop is warped onto the face texture's
points directly, the same map up to the triangulation. When FaceMesh finds no face, the face texture is
pasted unwarped instead.

The inpainting mask covers the crop's frame (``frame`` px around it) and the crop's texels the warp left
uncovered, dilated by a ``dilation`` px square; after an unwarped paste, the ring between half the crop's side
and 1.5 times it, where the map has surface.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation
from skimage.transform import PiecewiseAffineTransform, warp

from cliphead.facemesh import facemesh_points
from cliphead.texture.rectify import Rectification

#: FaceMesh's face points (the rest are the irises).
FACE_POINTS = 468


@dataclass(frozen=True)
class PastedFace:
    """The full texture with the rectified face pasted in; ``covered`` (crop-sized) is None after an unwarped
    paste."""

    texture: np.ndarray  # (S, S, 3) uint8
    covered: np.ndarray | None  # (h, w) bool
    rectification: Rectification


def read_face_uvs(path: Path) -> np.ndarray:
    """MediaPipe's canonical face UVs (468, 2) in [0, 1]: ``geometry.json`` (key ``export_const_UVS``) or ``.npy``."""
    path = Path(path)
    uvs = np.load(path) if path.suffix == ".npy" else np.asarray(json.loads(path.read_text())["export_const_UVS"])
    uvs = np.asarray(uvs, np.float64).reshape(-1, 2)
    if len(uvs) < FACE_POINTS:
        raise ValueError(f"{path} holds {len(uvs)} face UVs; MediaPipe's canonical face has {FACE_POINTS}")
    return uvs[:FACE_POINTS]


def resized(image: np.ndarray, width: int, height: int | None = None, nearest: bool = False) -> np.ndarray:
    """A uint8 image (H, W[, 3]) resized to (``height`` or ``width``, ``width``), bilinear (nearest for masks)."""
    height = width if height is None else height
    if image.shape[:2] == (height, width):
        return image
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize((width, height), method))


def _points(image: np.ndarray) -> np.ndarray | None:
    found = facemesh_points(image.astype(np.float32) / 255)
    return None if found is None else found[:FACE_POINTS]


def _point_error(points: np.ndarray, target: np.ndarray, size: int) -> float:
    """Mean distance of FaceMesh points from their targets, in widths of the crop."""
    return float(np.linalg.norm(points - target, axis=1).mean() / size)


def _affine(source: np.ndarray, target: np.ndarray) -> PiecewiseAffineTransform:
    return PiecewiseAffineTransform.from_estimate(source, target)


def warp_onto(crop: np.ndarray, crop_points: np.ndarray, target_points: np.ndarray, face_uvs: np.ndarray | None):
    """``crop`` (uint8, square) warped so ``crop_points`` land on ``target_points``, and the texels it covers."""
    size = crop.shape[0]
    image = np.concatenate([crop.astype(np.float64) / 255, np.ones(crop.shape[:2] + (1,))], axis=-1)
    if face_uvs is None:
        warped = warp(image, _affine(target_points, crop_points), output_shape=(size, size), order=1)
    else:
        uv_points = face_uvs * size
        unwrapped = warp(image, _affine(uv_points, crop_points), output_shape=(size, size), order=1)
        warped = warp(unwrapped, _affine(target_points, uv_points), output_shape=(size, size), order=1)
    return (np.clip(warped[..., :3], 0, 1) * 255).round().astype(np.uint8), warped[..., 3] > 0.5


def paste_face(
    full: np.ndarray, face: np.ndarray, box: tuple[int, int, int, int], warp_size: int, face_uvs: np.ndarray | None
) -> PastedFace:
    """The module doc's paste: ``full`` (uint8, the normal map's size), ``face`` (the face pass), ``box``
    (left, top, width, height) the crop the face pass saw."""
    left, top, width, height = box
    crop = resized(full[top : top + height, left : left + width], warp_size, warp_size)
    target = resized(face, warp_size, warp_size)
    crop_points, target_points = _points(crop), _points(target)
    texture = full.copy()
    if crop_points is None or target_points is None:
        where = "the face pass's texture" if target_points is None else "the full texture's crop"
        texture[top : top + height, left : left + width] = resized(face, width, height)
        reason = f"FaceMesh found no face on {where}; the face pass's texture was pasted unwarped"
        record = Rectification(texture, crop_points, target_points, None, None, None, None, False, reason)
        return PastedFace(texture, None, record)
    warped, covered = warp_onto(crop, crop_points, target_points, face_uvs)
    covered = resized(covered.astype(np.uint8), width, height, nearest=True).astype(bool)
    region = texture[top : top + height, left : left + width]
    region[covered] = resized(warped, width, height)[covered]
    after = _points(resized(region, warp_size, warp_size))
    record = Rectification(
        texture=texture,
        full_landmarks=crop_points,
        partial_landmarks=target_points,
        rectified_landmarks=after,
        error_before=_point_error(crop_points, target_points, warp_size),
        error_partial=0.0,
        error_after=None if after is None else _point_error(after, target_points, warp_size),
        rectified=True,
        warped=True,
    )
    return PastedFace(texture, covered, record)


def inpaint_mask(
    normal_map: np.ndarray, box: tuple[int, int, int, int], covered: np.ndarray | None, frame: int, dilation: int
) -> np.ndarray:
    """The seam pass's mask (module doc) over the normal map's texels, uint8 (S, S, 3), 255 where inpainted."""
    left, top, width, height = box
    size = normal_map.shape[0]
    if covered is None:
        rows, columns = np.mgrid[0:size, 0:size]
        radius = (height // 2) * 1.0
        distance_squared = (columns - size // 2) ** 2 + (rows - size // 2) ** 2
        ring = (distance_squared >= radius**2) & (distance_squared <= (1.5 * radius) ** 2)
        mask = ring & (normal_map.sum(axis=-1) > 0)
    else:
        mask = np.zeros(normal_map.shape[:2], bool)
        mask[max(top - frame, 0) : top + height + frame, max(left - frame, 0) : left + width + frame] = True
        mask[top : top + height, left : left + width] = ~covered
        mask = binary_dilation(mask, structure=np.ones((dilation, dilation), bool))
    return np.repeat(mask[..., None].astype(np.uint8) * 255, 3, axis=-1)
