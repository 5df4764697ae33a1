"""``cliphead align uv``: a mesh file in, the aligned map and its pictures and metrics out.

Writes into the output folder: ``mesh.obj`` (the seam-cut head with per-vertex texture
coordinates), ``uv_normal.png`` (the UV normal map, ControlNet_uv's control hint), ``preview.png``
(normal-map renders of the head and the UV normal map side by side), ``metrics.json`` (QCE/ASE
medians, sizes, timings, repairs) and, when landmarks are known, ``landmarks_uv.json``.
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
from cliphead.uv.aligned import aligned_uv, uv_at_points
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.distortion import distortion_summary


def preview_picture(vertices: np.ndarray, faces: np.ndarray, uv_image: np.ndarray, size: int = 384) -> np.ndarray:
    """Front, three-quarter and profile normal-map renders next to the UV normal map."""
    cameras = head_cameras(vertices, ("front", "three_quarter", "profile"), size)
    views = [normal_map(vertices, faces, camera) for camera in cameras.values()]
    step = max(1, uv_image.shape[0] // size)
    return image_grid([*views, uv_image[::step, ::step]], labels=[*cameras, "UV normal map"])


def align_file(
    mesh: Path,
    out: Path,
    curve: str = "conformal",
    landmarks: Path | None = None,
    use_landmarks: bool = True,
    size: int = 512,
    fill_holes: bool = False,
    crop_neck: float | None = None,
    force: bool = False,
) -> dict:
    """Align the UV map of the head in ``mesh`` and write the results into ``out``; returns the metrics."""
    out = output_folder(out, force)
    start = time.perf_counter()
    vertices, faces = load_mesh(mesh)
    if crop_neck is not None:
        vertices, faces = crop_below(vertices, faces, crop_neck)
        if len(faces) == 0:
            raise MeshError(f"Nothing of the mesh lies above y = {crop_neck}.")
    loaded = time.perf_counter()
    prepared = prepare_head_mesh(vertices, faces, fill_holes=fill_holes)
    checked = time.perf_counter()
    landmark_file = Path(landmarks) if landmarks else landmarks_path(Path(mesh))
    head_landmarks = read_landmarks(landmark_file) if use_landmarks and landmark_file.is_file() else None
    if landmarks and head_landmarks is None and use_landmarks:
        raise MeshError(f"Landmark file not found: {landmarks}")
    aligned = aligned_uv(prepared.vertices, prepared.faces, curve, head_landmarks)
    mapped = time.perf_counter()
    image = uv_normal_map(aligned.vertices, aligned.faces, aligned.uv, size)
    baked = time.perf_counter()
    metrics = {
        **distortion_summary(aligned.vertices, aligned.faces, aligned.uv),
        "n_vertices": int(len(aligned.vertices)),
        "n_faces": int(len(aligned.faces)),
        "curve": curve,
        "landmark_warp": aligned.landmark_warp,
        "repairs": prepared.notes,
        "seconds": round(mapped - loaded, 4),
        "seconds_steps": {
            "load": round(loaded - start, 4),
            "check": round(checked - loaded, 4),
            **{k: round(v, 4) for k, v in aligned.seconds.items()},
            "bake": round(baked - mapped, 4),
        },
        "source": str(mesh),
    }
    with staged_folder(out) as staging:
        write_obj(staging / "mesh.obj", aligned.vertices, aligned.faces, aligned.uv, texture_name="uv_normal.png")
        save_image(staging / "uv_normal.png", image)
        save_image(staging / "preview.png", preview_picture(aligned.vertices, aligned.faces, image))
        if head_landmarks is not None:
            landmark_uv = uv_at_points(aligned.vertices, aligned.faces, aligned.uv, head_landmarks)
            payload = {"format": LANDMARK_FORMAT, "landmarks_uv": np.round(landmark_uv, 6).tolist()}
            (staging / "landmarks_uv.json").write_text(json.dumps(payload, indent=1) + "\n")
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics
