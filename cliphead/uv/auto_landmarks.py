"""The 68 Multi-PIE landmarks of a head mesh that comes without them, found on renders of it.

The aligned map's landmark warp (CLIP-Head §2.2, step 4 of :mod:`cliphead.uv.aligned`) needs the
head's 68 landmarks; heads the project makes carry them, a mesh from elsewhere does not. So the head
is rendered shaded (skin-coloured, lit from the front) from the front and from both sides
(:data:`VIEW_YAWS`), MediaPipe FaceMesh finds its 478 points on each picture, and each point is
carried back to the surface under its pixel — unless the view sees the surface there too obliquely
(a point on the silhouette lands anywhere along the line of sight). Each of the 68 landmarks is then
a fixed convex combination of such (view, point) candidates, renormalised over the candidates a head
shows (:data:`LANDMARK_MAP_FILE`, fitted by the lab on heads whose landmarks are known with
``cliphead build landmark-map``: the jaw line comes from the side views, the centre of the face from
all three), and moved onto the surface.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import igl
import numpy as np

from cliphead.facemesh import N_POINTS, facemesh_points
from cliphead.meshes import MeshError
from cliphead.render import head_cameras
from cliphead.render.views import shaded, surface_under_pixels

LANDMARK_MAP_FILE = Path(__file__).with_name("landmark_map.json")
LANDMARK_MAP_FORMAT = "cliphead-landmark-map-v1"
#: Yaw angles (degrees) of the renders FaceMesh looks at: the front and both three-quarter sides.
VIEW_YAWS = (0.0, 30.0, -30.0)
RENDER_SIZE = 512
#: How the head is drawn for FaceMesh: a skin tone, lit from the front and a little above, on grey.
SKIN_ALBEDO = (0.75, 0.6, 0.5)
LIGHT_DIRECTION = (0.0, 0.3, 1.0)
BACKGROUND = (0.5, 0.5, 0.5)
#: Views in which FaceMesh must find the face.
MIN_VIEWS = 2
#: A point is carried back only where its view sees the surface at least this squarely (normal · view).
MIN_FACING = 0.1


@dataclass(frozen=True)
class LandmarkMap:
    """Each of the 68 landmarks as a convex combination of candidate points (a view's FaceMesh point:
    index ``view * 478 + point``)."""

    indices: np.ndarray  # (68, K) candidate indices
    weights: np.ndarray  # (68, K) non-negative, each row sums to 1

    def apply(self, candidates: np.ndarray) -> np.ndarray:
        """The 68 landmarks from the ``(C, D)`` candidates, NaN rows (not seen) left out and the weights of the
        others renormalised; a landmark none of whose candidates is seen is NaN."""
        points = candidates[self.indices]
        seen = np.isfinite(points).all(axis=-1)
        weights = np.where(seen, self.weights, 0.0)
        with np.errstate(invalid="ignore"):
            weights = weights / weights.sum(axis=1, keepdims=True)
        return np.einsum("lk,lkd->ld", weights, np.where(seen[..., None], points, 0.0))


@lru_cache(maxsize=1)
def load_landmark_map(path: Path = LANDMARK_MAP_FILE) -> LandmarkMap:
    """The shipped landmark map."""
    payload = json.loads(Path(path).read_text())
    if payload.get("format") != LANDMARK_MAP_FORMAT:
        raise ValueError(f"{path} is not a {LANDMARK_MAP_FORMAT} file")
    return LandmarkMap(np.asarray(payload["indices"], dtype=np.int64), np.asarray(payload["weights"]))


def view_points(vertices: np.ndarray, faces: np.ndarray, yaw: float) -> np.ndarray | None:
    """FaceMesh's points seen from ``yaw`` carried back to the surface ``(478, 3)`` (NaN where the point falls
    off the head or on surface seen less squarely than :data:`MIN_FACING`), or None when no face is found."""
    camera = head_cameras(vertices, (yaw,), RENDER_SIZE)[str(yaw)]
    image = shaded(vertices, faces, camera, LIGHT_DIRECTION, SKIN_ALBEDO, background=BACKGROUND)
    found = facemesh_points(image)
    if found is None:
        return None
    positions, facing, mask = surface_under_pixels(vertices, faces, camera)
    columns, rows = (np.clip(np.round(found[:, k]).astype(int), 0, RENDER_SIZE - 1) for k in (0, 1))
    seen = mask[rows, columns] & (facing[rows, columns] >= MIN_FACING)
    return np.where(seen[:, None], positions[rows, columns], np.nan)


def candidate_points(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The ``(len(VIEW_YAWS) * 478, 3)`` candidates: every view's FaceMesh points on the surface (all NaN for a
    view that finds no face); raises :class:`MeshError` when fewer than :data:`MIN_VIEWS` views find it."""
    views = [view_points(vertices, faces, yaw) for yaw in VIEW_YAWS]
    n_found = sum(points is not None for points in views)
    if n_found < MIN_VIEWS:
        raise MeshError(
            f"FaceMesh found a face in {n_found} of {len(VIEW_YAWS)} renders of the mesh (at least {MIN_VIEWS} "
            "needed), so its landmarks cannot be found automatically. Fix: check that the mesh is a head in the "
            "ICT frame (y up, face towards +z), or give its 68 landmarks with --landmarks."
        )
    return np.concatenate([np.full((N_POINTS, 3), np.nan) if points is None else points for points in views])


def detect_head_landmarks(
    vertices: np.ndarray, faces: np.ndarray, landmark_map: LandmarkMap | None = None
) -> np.ndarray:
    """The head's 68 Multi-PIE landmarks ``(68, 3)`` on its surface, found by FaceMesh on renders."""
    landmark_map = landmark_map or load_landmark_map()
    landmarks = landmark_map.apply(candidate_points(vertices, faces))
    if not np.isfinite(landmarks).all():
        raise MeshError(
            "No render showed the points some landmarks are made of on the head (holes in the face?). Fix: fill the "
            "mesh's holes, or give its 68 landmarks with --landmarks."
        )
    return igl.point_mesh_squared_distance(landmarks, np.asarray(vertices, dtype=np.float64), faces)[2]
