"""``cliphead align uv``: a mesh file in, the aligned map and its pictures and metrics out.

Writes into the output folder: ``mesh.obj`` (the seam-cut head with per-vertex texture
coordinates), ``uv_normal.png`` (the UV normal map, ControlNet_uv's control hint), ``preview.png``
(normal-map renders of the head and the UV normal map side by side), ``metrics.json`` (QCE/ASE
medians, sizes, timings, repairs, where the landmarks came from) and, when the landmark warp ran,
``landmarks_uv.json``. A mesh without a landmarks file gets its landmarks found on renders of it
(:mod:`cliphead.uv.auto_landmarks`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from cliphead.files import output_folder, staged_folder
from cliphead.heads.io import LANDMARK_FORMAT, landmarks_path, read_landmarks
from cliphead.heads.remesh import crop_below
from cliphead.meshes import MeshError, load_mesh, write_obj
from cliphead.render import head_cameras, image_grid, normal_map, save_image
from cliphead.uv.aligned import uv_at_points
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.distortion import distortion_summary
from cliphead.uv.incoming import align_head


def preview_picture(vertices: np.ndarray, faces: np.ndarray, uv_image: np.ndarray, size: int = 384) -> np.ndarray:
    """Front, three-quarter and profile normal-map renders next to the UV normal map."""
    cameras = head_cameras(vertices, ("front", "three_quarter", "profile"), size)
    views = [normal_map(vertices, faces, camera) for camera in cameras.values()]
    step = max(1, uv_image.shape[0] // size)
    return image_grid([*views, uv_image[::step, ::step]], labels=[*cameras, "UV normal map"])


def _landmark_file(mesh: Path, landmarks: Path | None, use_landmarks: bool) -> np.ndarray | None:
    """The head's landmarks from ``landmarks`` or the file beside the mesh; None when there is none (then they
    are found on renders) or when the warp is off."""
    if not use_landmarks:
        return None
    landmark_file = Path(landmarks) if landmarks else landmarks_path(Path(mesh))
    if landmark_file.is_file():
        return read_landmarks(landmark_file)
    if landmarks:
        raise MeshError(f"Landmark file not found: {landmarks}")
    return None


def align_file(
    mesh: Path,
    out: Path,
    curve: str = "conformal",
    landmarks: Path | None = None,
    use_landmarks: bool = True,
    size: int = 512,
    repair: bool = True,
    crop_neck: float | None = None,
    frame: str | None = None,
    force: bool = False,
) -> dict:
    """Align the UV map of the head in ``mesh`` and write the results into ``out``; returns the metrics.

    Frame, repairs, landmarks and map come from :func:`cliphead.uv.incoming.align_head`; ``mesh.obj`` goes back
    to the mesh's own frame."""
    out = output_folder(out, force)
    start = time.perf_counter()
    vertices, faces = load_mesh(mesh)
    if crop_neck is not None:
        vertices, faces = crop_below(vertices, faces, crop_neck)
        if len(faces) == 0:
            raise MeshError(f"Nothing of the mesh lies above y = {crop_neck}.")
    loaded = time.perf_counter()
    head_landmarks = _landmark_file(mesh, landmarks, use_landmarks)
    result = align_head(
        vertices, faces, head_landmarks, use_landmarks=use_landmarks, frame=frame, repair=repair, curve=curve
    )
    aligned = result.aligned
    mapped = time.perf_counter()
    image = uv_normal_map(aligned.vertices, aligned.faces, aligned.uv, size)
    baked = time.perf_counter()
    metrics = {
        **distortion_summary(aligned.vertices, aligned.faces, aligned.uv),
        "n_vertices": int(len(aligned.vertices)),
        "n_faces": int(len(aligned.faces)),
        "curve": curve,
        **result.record(),
        "seconds": round(mapped - loaded, 4),
        "seconds_steps": {
            "load": round(loaded - start, 4),
            **{k: round(v, 4) for k, v in result.seconds.items()},
            "bake": round(baked - mapped, 4),
        },
        "source": str(mesh),
    }
    with staged_folder(out) as staging:
        user_vertices = result.frame.to_user(aligned.vertices)
        write_obj(staging / "mesh.obj", user_vertices, aligned.faces, aligned.uv, texture_name="uv_normal.png")
        save_image(staging / "uv_normal.png", image)
        save_image(staging / "preview.png", preview_picture(aligned.vertices, aligned.faces, image))
        if result.landmarks is not None:
            landmark_uv = uv_at_points(aligned.vertices, aligned.faces, aligned.uv, result.landmarks)
            payload = {"format": LANDMARK_FORMAT, "landmarks_uv": np.round(landmark_uv, 6).tolist()}
            (staging / "landmarks_uv.json").write_text(json.dumps(payload, indent=1) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics
