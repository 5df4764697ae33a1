"""A z-buffered triangle rasterizer in vectorised numpy, and differentiable attribute interpolation.

Visibility (which triangle covers which pixel) is discrete and computed once in numpy by
:func:`rasterize`. :func:`interpolate` then evaluates per-vertex attributes at the pixel centres
in torch; given the vertex screen positions as a tensor it recomputes the barycentric coordinates
from them, so images are differentiable with respect to vertex attributes and positions while the
triangle covering each pixel stays fixed (the usual "differentiable interpolation" of
nvdiffrast/PyTorch3D, without the silhouette gradients).

The rasterizer enumerates, for every triangle, the pixel centres inside its integer bounding box
(flattened over all triangles, in chunks of bounded size), keeps those where all three
barycentric coordinates are non-negative, and resolves the z-buffer by sorting the fragments by
pixel and depth. Pixel ``(r, c)`` has its centre at ``(c + 0.5, r + 0.5)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

#: Candidate (triangle, pixel) pairs evaluated at once; bounds the rasterizer's memory (~100 MB).
_CHUNK = 1 << 20
#: Inclusion tolerance on barycentric coordinates, so pixels on shared edges leave no holes.
_EDGE_EPS = 1e-9


@dataclass
class Fragments:
    """What covers each pixel: the nearest triangle, its screen-space barycentrics and depth.

    ``vertex_depth`` (per vertex) and ``perspective`` let :func:`interpolate` apply perspective
    correction without being handed the screen positions again.
    """

    triangle_id: np.ndarray  # (H, W) int64, -1 for background
    barycentrics: np.ndarray  # (H, W, 3) float64, linear in screen space, 0 for background
    depth: np.ndarray  # (H, W) float64, inf for background
    vertex_depth: np.ndarray | None = None  # (N,) depth of each vertex
    perspective: bool = True

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool, True where a triangle covers the pixel."""
        return self.triangle_id >= 0


def check_faces(faces, n_vertices: int) -> np.ndarray:
    """Faces as an (F, 3) int64 array, with a clear error for a wrong shape or bad indices."""
    faces = np.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != 3 or (faces.size and not np.issubdtype(faces.dtype, np.integer)):
        raise ValueError(f"faces must be an (F, 3) integer array of triangles, got shape {faces.shape}")
    faces = faces.astype(np.int64, copy=False)
    if faces.size and (faces.min() < 0 or faces.max() >= n_vertices):
        raise ValueError(f"faces index vertices outside 0..{n_vertices - 1}")
    return faces


def _barycentric_planes(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-triangle coefficients ``(A, B, C)`` with ``b_i(x, y) = A_i x + B_i y + C_i`` for i = 0, 1.

    ``xy`` is (F, 3, 2); returns the planes (F, 2, 3) and twice the signed area (F,), which is
    negative for triangles that are counter-clockwise as seen (pixel y points down).
    """
    p0, p1, p2 = xy[:, 0], xy[:, 1], xy[:, 2]
    area2 = _signed_area2(xy)
    inv = np.divide(1.0, area2, out=np.zeros_like(area2), where=area2 != 0)
    planes = []
    for a, b in ((p1, p2), (p2, p0)):  # b_0 is the edge function of (p1, p2), b_1 of (p2, p0)
        dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        planes.append(np.stack([-dy, dx, dy * a[:, 0] - dx * a[:, 1]], axis=1) * inv[:, None])
    return np.stack(planes, axis=1), area2


def _signed_area2(xy: np.ndarray) -> np.ndarray:
    """Twice the signed area (F,) of triangles ``xy`` (F, 3, 2); negative where counter-clockwise as seen."""
    p0, p1, p2 = xy[:, 0], xy[:, 1], xy[:, 2]
    return (p1[:, 0] - p0[:, 0]) * (p2[:, 1] - p0[:, 1]) - (p2[:, 0] - p0[:, 0]) * (p1[:, 1] - p0[:, 1])


def _depth_plane(planes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Coefficients (F, 3) of the screen-linear interpolation of per-corner ``values`` (F, 3)."""
    delta = values[:, :2] - values[:, 2:]
    plane = planes[:, 0] * delta[:, :1] + planes[:, 1] * delta[:, 1:]
    plane[:, 2] += values[:, 2]
    return plane


def _pixel_boxes(xy: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Integer ranges of the pixels whose centres may lie in each triangle, clipped to the image."""
    lo = np.minimum(np.minimum(xy[:, 0], xy[:, 1]), xy[:, 2])
    hi = np.maximum(np.maximum(xy[:, 0], xy[:, 1]), xy[:, 2])
    col0 = np.clip(np.ceil(lo[:, 0] - 0.5), 0, width).astype(np.int64)
    col1 = np.clip(np.floor(hi[:, 0] - 0.5), -1, width - 1).astype(np.int64)
    row0 = np.clip(np.ceil(lo[:, 1] - 0.5), 0, height).astype(np.int64)
    row1 = np.clip(np.floor(hi[:, 1] - 0.5), -1, height - 1).astype(np.int64)
    return col0, row0, np.maximum(col1 - col0 + 1, 0), np.maximum(row1 - row0 + 1, 0)


def _chunks(counts: np.ndarray, budget: int):
    """Consecutive index ranges of ``counts`` whose sums stay near ``budget`` (at least one item)."""
    ends = np.cumsum(counts)
    start = 0
    while start < len(counts):
        base = ends[start - 1] if start else 0
        stop = max(int(np.searchsorted(ends, base + budget, side="right")), start + 1)
        yield start, stop
        start = stop


def _rasterize_planes(
    planes: np.ndarray,
    key_plane: np.ndarray,
    boxes: tuple[np.ndarray, ...],
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest triangle (smallest ``key``) per pixel, over the triangles given by their planes.

    Returns the flat per-pixel triangle index (-1 where nothing covers) and key (inf there).
    Ties go to the lower triangle index.
    """
    col0, row0, box_w, box_h = boxes
    counts = box_w * box_h
    best_key = np.full(width * height, np.inf)
    best_tri = np.full(width * height, -1, dtype=np.int64)
    for start, stop in _chunks(counts, _CHUNK):
        n = counts[start:stop]
        total = int(n.sum())
        if total == 0:
            continue
        tri = np.repeat(np.arange(start, stop), n)
        local = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        w = box_w[tri]
        col = col0[tri] + local % w
        row = row0[tri] + local // w
        x, y = col + 0.5, row + 0.5
        b0 = planes[tri, 0, 0] * x + planes[tri, 0, 1] * y + planes[tri, 0, 2]
        b1 = planes[tri, 1, 0] * x + planes[tri, 1, 1] * y + planes[tri, 1, 2]
        inside = (b0 >= -_EDGE_EPS) & (b1 >= -_EDGE_EPS) & (b0 + b1 <= 1 + _EDGE_EPS)
        tri, x, y = tri[inside], x[inside], y[inside]
        pixel = row[inside] * width + col[inside]
        key = key_plane[tri, 0] * x + key_plane[tri, 1] * y + key_plane[tri, 2]
        order = np.lexsort((key, pixel))  # stable: equal keys keep the lower triangle first
        pixel, key, tri = pixel[order], key[order], tri[order]
        first = np.ones(len(pixel), dtype=bool)
        first[1:] = pixel[1:] != pixel[:-1]
        pixel, key, tri = pixel[first], key[first], tri[first]
        nearer = key < best_key[pixel]
        best_key[pixel[nearer]] = key[nearer]
        best_tri[pixel[nearer]] = tri[nearer]
    return best_tri, best_key


def _rasterize(
    xy: np.ndarray,
    depth: np.ndarray,
    faces: np.ndarray,
    width: int,
    height: int,
    keep: np.ndarray,
    perspective: bool,
) -> Fragments:
    """Shared core of :func:`rasterize` and :func:`rasterize_uv` over the triangles in ``keep``."""
    ids = np.flatnonzero(keep)
    corners = xy[faces[ids]]
    boxes = _pixel_boxes(corners, width, height)
    covers_a_centre = boxes[2] * boxes[3] > 0  # most triangles of a dense mesh fall between pixel centres
    ids, boxes = ids[covers_a_centre], tuple(box[covers_a_centre] for box in boxes)
    planes, _ = _barycentric_planes(corners[covers_a_centre])
    corner_depth = depth[faces[ids]]
    # Nearest wins: 1/z is linear in screen space under perspective, z itself under orthography.
    key_plane = -_depth_plane(planes, 1.0 / corner_depth) if perspective else _depth_plane(planes, corner_depth)
    local_tri, key = _rasterize_planes(planes, key_plane, boxes, width, height)

    covered = np.flatnonzero(local_tri >= 0)
    tri = local_tri[covered]
    x, y = covered % width + 0.5, covered // width + 0.5
    b0 = planes[tri, 0, 0] * x + planes[tri, 0, 1] * y + planes[tri, 0, 2]
    b1 = planes[tri, 1, 0] * x + planes[tri, 1, 1] * y + planes[tri, 1, 2]
    barycentrics = np.zeros((width * height, 3))
    barycentrics[covered] = np.stack([b0, b1, 1.0 - b0 - b1], axis=1)
    triangle_id = np.full(width * height, -1, dtype=np.int64)
    triangle_id[covered] = ids[tri]
    pixel_depth = np.full(width * height, np.inf)
    pixel_depth[covered] = -1.0 / key[covered] if perspective else key[covered]
    return Fragments(
        triangle_id=triangle_id.reshape(height, width),
        barycentrics=barycentrics.reshape(height, width, 3),
        depth=pixel_depth.reshape(height, width),
        vertex_depth=depth,
        perspective=perspective,
    )


def _as_numpy(array) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def rasterize(
    screen: np.ndarray | torch.Tensor,
    faces: np.ndarray,
    width: int,
    height: int,
    cull_backfaces: bool = False,
    perspective: bool = True,
    near: float = 0.0,
    far: float = np.inf,
) -> Fragments:
    """Z-buffered rasterization of triangles given by vertex rows ``[pixel x, pixel y, depth]``.

    The nearest triangle wins each pixel centre. Degenerate (zero-area) triangles, triangles with
    a non-finite coordinate, with a vertex at depth <= ``near`` (behind the camera; triangles are
    not clipped) or entirely beyond ``far`` are skipped; with
    ``cull_backfaces`` so are triangles that are clockwise as seen (counter-clockwise triangles
    face the viewer, the usual outward-normal winding). ``perspective`` says whether the screen
    positions come from a perspective projection (depth is interpolated as 1/z) or an
    orthographic one (depth is interpolated linearly); pass ``camera.is_perspective``.
    """
    screen = _as_numpy(screen)
    if screen.ndim != 2 or screen.shape[1] != 3:
        raise ValueError(f"screen must be an (N, 3) array of [pixel x, pixel y, depth], got shape {screen.shape}")
    faces = check_faces(faces, len(screen))
    corners = screen[faces]
    area2 = _signed_area2(corners[..., :2])
    depth = corners[..., 2]
    keep = np.isfinite(area2) & np.isfinite(depth).all(axis=1) & (area2 != 0)
    keep &= np.all(depth > max(near, 0.0), axis=1) & np.any(depth <= far, axis=1)
    if cull_backfaces:
        keep &= area2 < 0
    return _rasterize(screen[:, :2], screen[:, 2], faces, int(width), int(height), keep, perspective)


def rasterize_uv(uv: np.ndarray, faces: np.ndarray, size: int) -> Fragments:
    """Rasterize triangles in texture space for baking (no depth test: the first triangle wins).

    ``uv`` (N, 2) follows the OBJ/Blender convention, (0, 0) at the bottom-left of the image:
    pixel ``(r, c)`` has uv ``((c + 0.5) / size, 1 - (r + 0.5) / size)``. Both windings are drawn.
    """
    uv = _as_numpy(uv)
    if uv.ndim != 2 or uv.shape[1] != 2:
        raise ValueError(f"uv must be an (N, 2) array, got shape {uv.shape}")
    faces = check_faces(faces, len(uv))
    xy = np.stack([uv[:, 0] * size, (1.0 - uv[:, 1]) * size], axis=1)
    area2 = _signed_area2(xy[faces])
    keep = np.isfinite(area2) & (area2 != 0)
    return _rasterize(xy, np.zeros(len(uv)), faces, int(size), int(size), keep, perspective=False)


def _torch_barycentrics(corners: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """Screen-space barycentrics (M, 3) of pixel centres (M, 2) in triangles (M, 3, 2), in torch."""
    p0, p1, p2 = corners[:, 0], corners[:, 1], corners[:, 2]

    def edge(a: torch.Tensor, b: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return (b[:, 0] - a[:, 0]) * (p[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (p[:, 0] - a[:, 0])

    area2 = edge(p0, p1, p2)
    return torch.stack([edge(p1, p2, pixels), edge(p2, p0, pixels), edge(p0, p1, pixels)], dim=1) / area2[:, None]


def interpolate(
    attributes: torch.Tensor | np.ndarray,
    faces: np.ndarray,
    fragments: Fragments,
    screen: torch.Tensor | None = None,
    perspective_correct: bool = True,
    attribute_faces: np.ndarray | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-vertex attributes (N, C) at every pixel centre: returns ``(image (H, W, C), mask (H, W))``.

    Background pixels are 0. With ``screen`` (N, 3) as a tensor (e.g. ``camera.project`` of
    vertices that require grad) the barycentrics are recomputed from it, so the image is
    differentiable with respect to the attributes and the vertex positions; the covering triangle
    stays the one the rasterizer found. Perspective correction (weights ``b_i / z_i``,
    renormalised) applies when ``perspective_correct`` and the fragments come from a perspective
    projection. ``attribute_faces`` (F, 3) indexes ``attributes`` separately from the position
    ``faces`` (e.g. texture coordinates with seams); by default both use ``faces``.
    """
    attributes = torch.as_tensor(attributes)
    if not attributes.is_floating_point():
        attributes = attributes.double()
    if attributes.ndim != 2:
        raise ValueError(f"attributes must be (N, C), got shape {tuple(attributes.shape)}")
    n_positions = len(fragments.vertex_depth) if screen is None else len(screen)
    faces = check_faces(faces, n_positions)
    if attribute_faces is None:
        if len(attributes) != n_positions:
            raise ValueError(f"attributes have {len(attributes)} rows but the mesh has {n_positions} vertices")
        attribute_faces = faces
    attribute_faces = check_faces(attribute_faces, len(attributes))
    height, width = fragments.triangle_id.shape
    mask = fragments.triangle_id >= 0
    pixel = torch.as_tensor(np.flatnonzero(mask))
    tri = fragments.triangle_id[mask]
    position_corners = torch.as_tensor(faces[tri])
    dtype, device = attributes.dtype, attributes.device

    if screen is not None:
        screen = torch.as_tensor(screen, dtype=dtype, device=device)
        centres = torch.stack([pixel % width, torch.div(pixel, width, rounding_mode="floor")], dim=1).to(dtype) + 0.5
        weights = _torch_barycentrics(screen[position_corners][..., :2], centres)
        depth = screen[:, 2]
    else:
        weights = torch.as_tensor(fragments.barycentrics[mask], dtype=dtype, device=device)
        depth = torch.as_tensor(fragments.vertex_depth, dtype=dtype, device=device)
    if perspective_correct and fragments.perspective:
        weights = weights / depth[position_corners]
        weights = weights / (weights[:, 0] + weights[:, 1] + weights[:, 2])[:, None]

    values = torch.einsum("mk,mkc->mc", weights, attributes[torch.as_tensor(attribute_faces[tri])])
    image = torch.zeros(height * width, attributes.shape[1], dtype=dtype, device=device)
    image = image.index_put((pixel,), values)
    return image.reshape(height, width, -1), torch.as_tensor(mask)


def dilate_texels(image: np.ndarray, valid: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Grow ``valid`` texels of ``image`` (H, W, C) outwards by ``steps`` pixels; returns the image and the new mask.

    Each step fills every invalid texel that has valid 8-neighbours with their mean.
    """
    image, valid = image.copy(), valid.copy()
    for _ in range(steps):
        padded = np.pad(image * valid[..., None], ((1, 1), (1, 1), (0, 0)))
        counts = np.pad(valid.astype(np.float64), 1)
        total, count = np.zeros_like(image), np.zeros(valid.shape)
        height, width = valid.shape
        for dr in range(3):
            for dc in range(3):
                total += padded[dr : dr + height, dc : dc + width]
                count += counts[dr : dr + height, dc : dc + width]
        grow = ~valid & (count > 0)
        if not grow.any():
            break
        image[grow] = total[grow] / count[grow, None]
        valid |= grow
    return image, valid


def bake(
    attributes: np.ndarray | torch.Tensor,
    faces: np.ndarray,
    uv: np.ndarray,
    size: int,
    fill_background: float = 0.0,
    dilate: int = 2,
    uv_faces: np.ndarray | None = None,
) -> np.ndarray:
    """Per-vertex attributes (N, C) baked into a (size, size, C) texture over the UV layout.

    Texels no triangle covers are filled by dilating the covered ones ``dilate`` texels
    outwards (so bilinear lookups near seams stay clean), the rest with ``fill_background``.
    ``uv_faces`` (F, 3) indexes ``uv`` when texture coordinates are per corner (seams); by
    default ``uv`` is per vertex and indexed by ``faces``.
    """
    attributes = _as_numpy(attributes)
    if attributes.ndim != 2:
        raise ValueError(f"attributes must be (N, C), got shape {attributes.shape}")
    faces = check_faces(faces, len(attributes))
    texture_faces = faces if uv_faces is None else uv_faces
    fragments = rasterize_uv(uv, texture_faces, size)
    with torch.no_grad():
        image, mask = interpolate(
            torch.as_tensor(attributes), texture_faces, fragments, perspective_correct=False, attribute_faces=faces
        )
    image, valid = dilate_texels(image.numpy(), mask.numpy(), dilate)
    image[~valid] = fill_background
    return image
