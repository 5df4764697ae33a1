"""Writing and reading heads: the mesh plus its 68 landmarks in ``<stem>.landmarks.json``.

Every head the project samples or generates is written with its landmarks (the Multi-PIE 68 points,
in the order of ICT-FaceKit's ``idx_to_landmark_verts``, in the mesh's frame), so that later stages
(the aligned UV's landmark warp, rectification) know where the face is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cliphead.files import atomic_path
from cliphead.heads.metrics import sample_surface
from cliphead.heads.surfaces import Head
from cliphead.meshes import MeshError, load_mesh, write_obj

LANDMARK_FORMAT = "multi-pie-68"


def landmarks_path(mesh_path: Path) -> Path:
    """``head.obj`` → ``head.landmarks.json`` (beside the mesh)."""
    mesh_path = Path(mesh_path)
    return mesh_path.with_name(mesh_path.stem + ".landmarks.json")


def write_landmarks(path: Path, landmarks: np.ndarray, metadata: dict | None = None) -> None:
    payload = {
        "format": LANDMARK_FORMAT,
        "order": "ICT-FaceKit idx_to_landmark_verts",
        "frame": "ICT (centimetres, y up, face towards +z)",
        "landmarks": np.round(np.asarray(landmarks, dtype=float), 6).tolist(),
        **(metadata or {}),
    }
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")


def read_landmarks(path: Path) -> np.ndarray:
    """The (68, 3) landmarks of a ``*.landmarks.json`` file, with a clear error if malformed."""
    try:
        payload = json.loads(Path(path).read_text())
        landmarks = np.asarray(payload["landmarks"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MeshError(f"Could not read landmarks from {path} ({error}).") from error
    if landmarks.shape != (68, 3) or not np.isfinite(landmarks).all():
        raise MeshError(f"{path} must hold 68 finite 3D landmarks, got shape {landmarks.shape}.")
    return landmarks


def write_head(path: Path, head: Head, metadata: dict | None = None) -> tuple[Path, Path]:
    """Write ``head`` as an OBJ and its landmarks beside it; returns both paths."""
    path = Path(path)
    write_obj(path, head.vertices, head.faces)
    write_landmarks(landmarks_path(path), head.landmarks, metadata)
    return path, landmarks_path(path)


#: Points sampled from a mesh given to ``fit head`` instead of a point cloud.
MESH_FIT_POINTS = 100_000


def read_point_cloud(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (N, 3) in cm and unit normals (or None) from ``.npz`` (``points``, optional ``normals``),
    ``.npy``/``.xyz``/``.txt`` (N×3, or N×6 with normals) or a mesh (``.obj``/``.ply``/…, sampled by area).
    """

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No point cloud at {path}.")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path) as data:
            if "points" not in data:
                raise ValueError(f"{path} has no 'points' array (it holds {', '.join(data.files)}).")
            columns = np.concatenate([data["points"], data["normals"]], 1) if "normals" in data else data["points"]
    elif suffix in (".npy", ".xyz", ".txt"):
        columns = np.load(path) if suffix == ".npy" else np.loadtxt(path, ndmin=2)
    else:
        sample = sample_surface(*load_mesh(path), MESH_FIT_POINTS)
        return sample.points, sample.normals
    columns = np.asarray(columns, dtype=np.float64)
    if columns.ndim != 2 or columns.shape[1] not in (3, 6) or len(columns) < 100:
        raise ValueError(f"{path} must hold at least 100 rows of x y z (or x y z nx ny nz); got {columns.shape}.")
    if not np.isfinite(columns).all():
        raise ValueError(f"{path} holds NaN or infinite values.")
    if columns.shape[1] == 3:
        return columns, None
    normals = columns[:, 3:] / np.maximum(np.linalg.norm(columns[:, 3:], axis=1, keepdims=True), 1e-12)
    return columns[:, :3], normals
