"""The aligned UV parametrisation of CLIP-Head §2.2.

1. cut the head to a disk along the back seam (:mod:`cliphead.uv.seam`);
2. map the disk boundary onto the one fixed 2D curve, anchors at fixed points
   (:mod:`cliphead.uv.layout`);
3. solve for harmonic U and V in the interior (cotangent Laplacian, libigl); cotangent weights turn
   negative on the obtuse triangles marching cubes makes, and the curve is not convex, which can fold a
   few faces, so folds are re-solved locally (:mod:`cliphead.uv.unfold`);
4. when the head's 68 landmarks are known (every head the project samples or generates carries
   them), pull them onto the template's landmark positions with a smooth thin-plate-spline warp of
   the UV plane that vanishes on the boundary, and unfold whatever the warp folded.

Because every head's boundary lands on the same curve with the same anchors, the facial features of
different heads land near the same UV positions (steps 1-3, the paper's method); step 4 removes the
remaining drift of the features, which §2.3's rectification otherwise has to repair in the texture.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import igl
import numpy as np

from cliphead.heads.generation import extract_disk
from cliphead.meshes import MeshError
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.layout import boundary_curve, place_boundary
from cliphead.uv.seam import Disk, cut_to_disk
from cliphead.uv.unfold import remove_folds

#: Landmarks pulled onto the template: jaw, brows, nose, eye corners and the outer lip contour. The
#: eyelids (37, 38, 40, 41, 43, 44, 46, 47) and the inner lips (60-67) meet when an eye closes or the
#: mouth shuts, so no fixed target can hold for them; pulling them apart folds the map.
ANCHORED_LANDMARKS = np.array([*range(36), 36, 39, 42, 45, *range(48, 60)])
#: Boundary points where the landmark warp is pinned to zero.
WARP_BOUNDARY_SAMPLES = 96
#: Nearest vertices of a landmark whose faces are searched for its closest surface point.
NEAREST_VERTICES = 16


@dataclass
class AlignedUV:
    """A head cut along its seam with per-vertex texture coordinates in the shared layout."""

    vertices: np.ndarray  # (N, 3) the disk mesh (seam vertices duplicated)
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (N, 2) in [0, 1]^2
    boundary: np.ndarray  # (B,) boundary loop from the crown
    curve: str
    landmark_warp: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def harmonic_map(disk: Disk, boundary_uv: np.ndarray) -> np.ndarray:
    """Harmonic U and V of the disk's interior given its boundary positions (libigl, cotangent weights)."""
    return igl.harmonic(disk.vertices, disk.faces, disk.boundary, boundary_uv, 1)


def thin_plate_spline(centres: np.ndarray, values: np.ndarray, smoothing: float = 1e-8):
    """The planar thin-plate spline through ``values`` at ``centres`` (kernel r² log r plus an affine part),
    returned as a function of (n, 2) points. Solved directly: its M + 3 unknowns are few, and the kernel
    matrix at n points is built from one matrix product, so evaluating it on a whole mesh stays cheap."""
    m = len(centres)
    affine = np.hstack([np.ones((m, 1)), centres])
    system = np.zeros((m + 3, m + 3))
    system[:m, :m] = _thin_plate_kernel(centres, centres) + smoothing * np.eye(m)
    system[:m, m:], system[m:, :m] = affine, affine.T
    rhs = np.vstack([values, np.zeros((3, values.shape[1]))])
    weights = np.linalg.solve(system, rhs)

    def evaluate(points: np.ndarray) -> np.ndarray:
        return (
            _thin_plate_kernel(points, centres) @ weights[:m]
            + np.hstack([np.ones((len(points), 1)), points]) @ weights[m:]
        )

    return evaluate


def _thin_plate_kernel(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """r² log r between every point and every centre, as ½ r² log r² (no square root; in place, as the
    (points, centres) matrix is the warp's whole cost)."""
    squared = points @ centres.T
    squared *= -2.0
    squared += (points**2).sum(1)[:, None]
    squared += (centres**2).sum(1)[None, :]
    np.maximum(squared, 1e-300, out=squared)  # r = 0 gives 0 · log(tiny) = 0
    kernel = np.log(squared)
    kernel *= squared
    kernel *= 0.5
    return kernel


def landmark_warp(uv: np.ndarray, boundary: np.ndarray, landmarks_uv: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Warp of the UV plane taking ``landmarks_uv`` to ``targets`` and fixing the boundary.

    A thin-plate spline (the planar biharmonic interpolant) of the displacements, so the correction
    is smooth and spreads out instead of creating local spikes as pinned harmonic constraints do.
    """
    pins = boundary[np.linspace(0, len(boundary), WARP_BOUNDARY_SAMPLES, endpoint=False).astype(int)]
    centres = np.concatenate([landmarks_uv, uv[pins]])
    displacement = np.concatenate([targets - landmarks_uv, np.zeros((len(pins), 2))])
    warped = uv + thin_plate_spline(centres, displacement)(uv)
    warped[boundary] = uv[boundary]
    return warped


def aligned_uv(
    vertices: np.ndarray,
    faces: np.ndarray,
    curve: str = "conformal",
    landmarks: np.ndarray | None = None,
    crown_angle: float = 90.0,
) -> AlignedUV:
    """Aligned UV map of an open head mesh (one neck boundary) in the ICT frame.

    ``landmarks`` (68, 3): the head's Multi-PIE landmarks in the mesh's frame; when given, they are
    pulled onto the layout's landmark positions. The mesh should have been checked with
    :func:`cliphead.uv.checks.prepare_head_mesh`.
    """
    seconds = {}
    start = time.perf_counter()
    disk = cut_to_disk(vertices, faces, crown_angle)
    seconds["cut"] = time.perf_counter() - start
    start = time.perf_counter()
    layout = boundary_curve(curve)
    boundary_uv = place_boundary(disk, layout)
    seconds["boundary"] = time.perf_counter() - start
    start = time.perf_counter()
    harmonic = harmonic_map(disk, boundary_uv)
    if not np.isfinite(harmonic).all():
        raise MeshError(
            "The harmonic map has no solution on this mesh (degenerate or needle triangles make its Laplacian "
            "singular). Fix: re-mesh or clean the head (e.g. remove zero-area faces), then align it again."
        )
    vertices, faces, uv = remove_folds(disk.vertices, disk.faces, harmonic, disk.boundary)
    disk = Disk(vertices, faces, disk.boundary, disk.anchor_positions)
    seconds["harmonic"] = time.perf_counter() - start
    if landmarks is not None:
        start = time.perf_counter()
        anchored = np.asarray(landmarks)[ANCHORED_LANDMARKS]
        landmark_faces, closest = closest_surface_points(anchored, disk.vertices, disk.faces)
        current = _barycentric_uv(disk.vertices, disk.faces, uv, landmark_faces, closest)
        warped = landmark_warp(uv, disk.boundary, current, layout.landmarks_uv[ANCHORED_LANDMARKS])
        vertices, faces, uv = remove_folds(
            disk.vertices, disk.faces, warped, disk.boundary, disk.faces[landmark_faces].ravel()
        )
        disk = Disk(vertices, faces, disk.boundary, disk.anchor_positions)
        seconds["landmark_warp"] = time.perf_counter() - start
    return AlignedUV(disk.vertices, disk.faces, uv, disk.boundary, curve, landmarks is not None, seconds)


def uv_at_points(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, points: np.ndarray) -> np.ndarray:
    """UV of the surface points closest to ``points`` (e.g. 3D landmarks), by barycentric interpolation."""
    face_index, closest = closest_surface_points(points, vertices, faces)
    return _barycentric_uv(vertices, faces, uv, face_index, closest)


def closest_surface_points(
    points: np.ndarray, vertices: np.ndarray, faces: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The face and the point of the surface closest to each of a few ``points`` lying near it (landmarks).

    Only the faces around each point's :data:`NEAREST_VERTICES` nearest vertices are searched: a k-d tree
    over the vertices is cheaper to build than libigl's tree over every face, and a point near the surface
    has its closest face among them.
    """
    from scipy.spatial import cKDTree

    _, nearest = cKDTree(vertices).query(points, k=min(NEAREST_VERTICES, len(vertices)))
    candidates = np.nonzero(np.isin(faces, nearest).any(axis=1))[0]
    _, local, closest = igl.point_mesh_squared_distance(points, vertices, faces[candidates])
    return candidates[local], closest


def _barycentric_uv(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, face_index: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """UV at ``points`` lying on faces ``face_index``, interpolated from their corners."""
    corners = faces[face_index]
    p = vertices[corners]
    weights = igl.barycentric_coordinates(points, p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy())
    return np.einsum("ij,ijk->ik", weights, uv[corners])


@dataclass(frozen=True)
class AlignedHead:
    """A head of the neural head model in the aligned layout: the posed mesh, its UV and landmarks."""

    vertices: np.ndarray  # (N, 3) posed (the expression applied), seam vertices duplicated
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (N, 2)
    landmarks: np.ndarray  # (68, 3) posed


def aligned_model_head(model, z_id, z_exp, resolution: int) -> AlignedHead:
    """The head of codes ``z_id``, ``z_exp`` of a parametric head model, with its aligned UV.

    The UV map is computed on the canonical (neutral) disk with its landmarks
    (:func:`aligned_canonical_head`), then the surface is moved by the expression (CLIP-Head eq. 1,
    :func:`posed_head`): every texel keeps its surface point whatever the expression, and the map never
    sees the thin, nearly touching lips of an open or pouting mouth.
    Raises :class:`~cliphead.meshes.MeshError` if the code's mesh is not a disk.
    """
    canonical = aligned_canonical_head(model, z_id, resolution)
    return canonical if z_exp is None else posed_head(model, canonical, z_id, z_exp)


def aligned_canonical_head(model, z_id, resolution: int) -> AlignedHead:
    """The neutral head of identity ``z_id`` extracted at ``resolution``, in the aligned layout."""
    import torch

    canonical = extract_disk(model, z_id, resolution)
    with torch.no_grad():
        landmarks = model.canonical_landmarks(z_id).double().numpy()
    prepared = prepare_head_mesh(canonical.vertices, canonical.faces)
    aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=landmarks)
    return AlignedHead(aligned.vertices, aligned.faces, aligned.uv, landmarks)


def posed_head(model, canonical: AlignedHead, z_id, z_exp) -> AlignedHead:
    """``canonical`` (a neutral head of identity ``z_id``) moved by expression ``z_exp`` (eq. 1); UV unchanged."""
    import torch

    with torch.no_grad():
        vertices = model.deform(torch.from_numpy(canonical.vertices).float(), z_id, z_exp)
        landmarks = model.deform(torch.from_numpy(canonical.landmarks).float(), z_id, z_exp)
    return AlignedHead(vertices.double().numpy(), canonical.faces, canonical.uv, landmarks.double().numpy())
