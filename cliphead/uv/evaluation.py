"""Evaluating the aligned UV map over many heads (CLIP-Head supplementary §4; notebook 03).

For random identities × labelled expressions, re-meshed by marching cubes like NPHM meshes:
median QCE and ASE of the aligned map, the same for the ICT model's own UV map on its own mesh (the
paper's "original parametrization" row), and the alignment spread — how far each of the 68
landmarks wanders in UV across heads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cliphead.heads.ict import SKIN_LAST_VERTEX, ICTFaceModel
from cliphead.heads.remesh import remesh_head
from cliphead.heads.surfaces import Head, sample_identity, skin_head, watertight_skin
from cliphead.uv.aligned import AlignedUV, aligned_uv, uv_at_points
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.distortion import distortion_summary


@dataclass
class HeadEvaluation:
    """Distortion and landmark UVs of one head's aligned map."""

    seed: int
    expression: str
    curve: str
    landmark_warp: bool
    n_vertices: int
    n_faces: int
    qce_median: float
    ase_median: float
    flipped_faces: int
    seconds: float
    landmarks_uv: np.ndarray  # (68, 2)


def remeshed_head(model: ICTFaceModel, seed: int, expression: str, resolution: int) -> Head:
    """A random ICT identity with a labelled expression, re-meshed by marching cubes (open neck)."""
    skin = skin_head(model, sample_identity(seed), expression)
    closed = watertight_skin(skin)
    vertices, faces = remesh_head(closed.vertices, closed.faces, resolution)
    return Head(vertices, faces, skin.landmarks)


def evaluate_aligned(head: Head, curve: str, use_landmarks: bool) -> tuple[AlignedUV, dict]:
    """Aligned map of a head with its distortion summary and the time the map took."""
    start = time.perf_counter()
    prepared = prepare_head_mesh(head.vertices, head.faces)
    aligned = aligned_uv(prepared.vertices, prepared.faces, curve, head.landmarks if use_landmarks else None)
    seconds = time.perf_counter() - start
    summary = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    return aligned, {**summary, "seconds": seconds}


def evaluate_head(head: Head, seed: int, expression: str, curve: str, use_landmarks: bool) -> HeadEvaluation:
    aligned, summary = evaluate_aligned(head, curve, use_landmarks)
    return HeadEvaluation(
        seed=seed,
        expression=expression,
        curve=curve,
        landmark_warp=use_landmarks,
        n_vertices=len(aligned.vertices),
        n_faces=len(aligned.faces),
        qce_median=summary["qce_median"],
        ase_median=summary["ase_median"],
        flipped_faces=summary["flipped_faces"],
        seconds=summary["seconds"],
        landmarks_uv=uv_at_points(aligned.vertices, aligned.faces, aligned.uv, head.landmarks),
    )


def original_uv_summary(model: ICTFaceModel, seed: int, expression: str) -> dict:
    """QCE/ASE of ICT-FaceKit's own UV map on its own skin mesh (face + head and neck)."""
    skin = skin_head(model, sample_identity(seed), expression)
    keep = np.all(model.triangles <= SKIN_LAST_VERTEX, axis=1)
    return distortion_summary(skin.vertices, skin.faces, model.uv, model.triangle_uv_indices[keep])


def alignment_spread(landmarks_uv: np.ndarray) -> np.ndarray:
    """Per landmark, the RMS distance over heads of its UV position from the mean position. (H, 68, 2) → (68,)."""
    deviation = landmarks_uv - landmarks_uv.mean(axis=0, keepdims=True)
    return np.sqrt((deviation**2).sum(axis=-1).mean(axis=0))
