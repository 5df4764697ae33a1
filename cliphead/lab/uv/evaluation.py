"""Evaluating the aligned UV map over many heads (CLIP-Head supplementary §4; notebook 05).

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
from cliphead.uv.distortion import (
    area_scale_error,
    distortion_summary,
    quasi_conformal_error,
    summarise_distortion,
)


@dataclass
class UVMapMetrics:
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


def timed_aligned_uv(head: Head, curve: str, use_landmarks: bool) -> tuple[AlignedUV, float]:
    """Aligned map of a head (checks included) and the seconds it took."""
    start = time.perf_counter()
    prepared = prepare_head_mesh(head.vertices, head.faces)
    aligned = aligned_uv(prepared.vertices, prepared.faces, curve, head.landmarks if use_landmarks else None)
    return aligned, time.perf_counter() - start


def evaluate_head(head: Head, seed: int, expression: str, curve: str, use_landmarks: bool) -> UVMapMetrics:
    aligned, seconds = timed_aligned_uv(head, curve, use_landmarks)
    summary = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    return UVMapMetrics(
        seed=seed,
        expression=expression,
        curve=curve,
        landmark_warp=use_landmarks,
        n_vertices=len(aligned.vertices),
        n_faces=len(aligned.faces),
        qce_median=summary["qce_median"],
        ase_median=summary["ase_median"],
        flipped_faces=summary["flipped_faces"],
        seconds=seconds,
        landmarks_uv=uv_at_points(aligned.vertices, aligned.faces, aligned.uv, head.landmarks),
    )


def original_uv(model: ICTFaceModel, seed: int, expression: str) -> tuple[Head, np.ndarray]:
    """The ICT skin of a head and its per-corner texture faces into ``model.uv`` (seams included)."""
    keep = np.all(model.triangles <= SKIN_LAST_VERTEX, axis=1)
    return skin_head(model, sample_identity(seed), expression), model.triangle_uv_indices[keep]


def original_uv_summary(model: ICTFaceModel, seed: int, expression: str) -> dict:
    """QCE/ASE of ICT-FaceKit's own UV map on its own skin mesh (face + head and neck)."""
    skin, uv_faces = original_uv(model, seed, expression)
    return distortion_summary(skin.vertices, skin.faces, model.uv, uv_faces)


def alignment_spread(landmarks_uv: np.ndarray) -> np.ndarray:
    """Per landmark, the RMS distance over heads of its UV position from the mean position. (H, 68, 2) → (68,)."""
    deviation = landmarks_uv - landmarks_uv.mean(axis=0, keepdims=True)
    return np.sqrt((deviation**2).sum(axis=-1).mean(axis=0))


#: The aligned-map variants compared in notebook 05: method → (boundary curve, landmark warp).
VARIANTS = {
    "aligned-conformal+landmarks": ("conformal", True),
    "aligned-conformal": ("conformal", False),
    "aligned-circle": ("circle", False),
}
ORIGINAL = "ict-original"
METHODS = (*VARIANTS, ORIGINAL)
#: The methods drawn in the QCE heatmap.
HEATMAP_METHODS = ("aligned-conformal+landmarks", "aligned-circle", ORIGINAL)
#: Supplementary §4's medians: (QCE, ASE) of the aligned map and of the scans' original UV maps.
PAPER_MEDIANS = {"aligned": (4.311, -1.22), "original": (5.143, -0.068)}


@dataclass
class UVStudy:
    """Everything notebook 05 measures over a plan of heads, accumulated head by head."""

    per_head: list[dict]
    faces_qce: dict[str, list[np.ndarray]]  # per method, per head: per-face QCE (for pooled medians)
    faces_ase: dict[str, list[np.ndarray]]
    landmarks_uv: dict[str, list[np.ndarray]]  # per aligned method, per head: (68, 2)
    heatmap: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]  # (method, vertices, faces, per-face QCE)
    heatmap_head: int | None
    skipped: list[dict]


def run_uv_study(
    model: ICTFaceModel,
    plan: list[tuple[int, int, str]],
    resolution: int,
    heatmap_head: int = 0,
    on_aligned=None,
    progress: bool = True,
) -> UVStudy:
    """Re-mesh every ``(head, identity seed, expression)`` of ``plan``, map it every way, measure it.

    ``on_aligned(method, aligned)`` is called with every aligned map (e.g. to accumulate the averaged
    UV normal maps). A head that does not re-mesh to a disk is skipped for every method and listed.
    """
    from tqdm import tqdm

    from cliphead.meshes import MeshError

    study = UVStudy([], {m: [] for m in METHODS}, {m: [] for m in METHODS}, {m: [] for m in VARIANTS}, [], None, [])

    def record(method, vertices, faces, uv, uv_faces, show, **row):
        """Per-face distortion of one map, computed once: pooled arrays, heatmap and the per-head row."""
        qce = quasi_conformal_error(vertices, faces, uv, uv_faces)
        ase = area_scale_error(vertices, faces, uv, uv_faces)
        study.faces_qce[method].append(qce.astype(np.float32))
        study.faces_ase[method].append(ase.astype(np.float32))
        if show and method in HEATMAP_METHODS:
            study.heatmap.append((method, vertices, faces, qce))
        study.per_head.append(
            dict(row, method=method, n_vertices=len(vertices), n_faces=len(faces), **summarise_distortion(qce, ase))
        )

    for head_index, identity_seed, expression in tqdm(plan, desc="heads", disable=not progress):
        start = time.perf_counter()
        try:
            head = remeshed_head(model, identity_seed, expression, resolution)
            remesh_seconds = time.perf_counter() - start
            maps = {method: timed_aligned_uv(head, curve, warp) for method, (curve, warp) in VARIANTS.items()}
        except MeshError as error:
            study.skipped.append(
                dict(head=head_index, identity_seed=identity_seed, expression=expression, reason=str(error))
            )
            continue
        show = study.heatmap_head is None and head_index >= heatmap_head
        study.heatmap_head = head_index if show else study.heatmap_head
        common = dict(head=head_index, identity_seed=identity_seed, expression=expression)
        for method, (aligned, seconds) in maps.items():
            study.landmarks_uv[method].append(uv_at_points(aligned.vertices, aligned.faces, aligned.uv, head.landmarks))
            if on_aligned is not None:
                on_aligned(method, aligned)
            record(
                method,
                aligned.vertices,
                aligned.faces,
                aligned.uv,
                None,
                show,
                **common,
                seconds=seconds,
                remesh_seconds=remesh_seconds,
            )
        start = time.perf_counter()
        skin, uv_faces = original_uv(model, identity_seed, expression)
        record(
            ORIGINAL,
            skin.vertices,
            skin.faces,
            model.uv,
            uv_faces,
            show,
            **common,
            seconds=time.perf_counter() - start,
            remesh_seconds=np.nan,
        )
    return study


def _pooled_median(arrays: list[np.ndarray]) -> float:
    values = np.concatenate(arrays)
    return float(np.median(values[np.isfinite(values)]))


def summarise_uv_study(study: UVStudy):
    """The tables of notebook 05: per-method medians next to the paper's, and the per-landmark spread."""
    import pandas as pd

    from cliphead.uv.aligned import ANCHORED_LANDMARKS

    per_head = pd.DataFrame(study.per_head)
    spreads = {method: alignment_spread(np.stack(study.landmarks_uv[method])) for method in VARIANTS}
    anchored = np.isin(np.arange(68), ANCHORED_LANDMARKS)
    rows = []
    for method in METHODS:
        heads = per_head[per_head["method"] == method]
        paper = PAPER_MEDIANS["original" if method == ORIGINAL else "aligned"]
        spread = spreads.get(method)
        rows.append(
            {
                "method": method,
                "qce_median": heads["qce_median"].median(),
                "qce_median_pooled": _pooled_median(study.faces_qce[method]),
                "ase_median": heads["ase_median"].median(),
                "ase_median_pooled": _pooled_median(study.faces_ase[method]),
                "flipped_faces_total": int(heads["flipped_faces"].sum()),
                "flipped_faces_fraction": heads["flipped_faces"].sum() / heads["n_faces"].sum(),
                "n_heads": len(heads),
                "n_skipped": len(study.skipped),
                "n_faces_mean": heads["n_faces"].mean(),
                "seconds_mean": heads["seconds"].mean(),
                "paper_qce_median": paper[0],
                "paper_ase_median": paper[1],
                "spread_mean": np.nan if spread is None else float(spread.mean()),
                "spread_max": np.nan if spread is None else float(spread.max()),
                "spread_max_anchored": np.nan if spread is None else float(spread[anchored].max()),
                "spread_max_free": np.nan if spread is None else float(spread[~anchored].max()),
            }
        )
    spread_table = pd.DataFrame(
        {
            "landmark": np.arange(68),
            "anchored_by_warp": anchored,
            **{f"rms_{method}": spreads[method] for method in VARIANTS},
        }
    )
    return per_head, pd.DataFrame(rows), spread_table
