"""Fitting and measuring the map from FaceMesh's 478 points to the 68 Multi-PIE landmarks
(:mod:`cliphead.uv.auto_landmarks`), on heads whose landmarks are known.

The heads are the project's own, both made by marching cubes at :data:`RESOLUTION` like the meshes
users bring: ICT-FaceKit identities re-meshed and cut at the neck (their landmarks exact vertex
positions of the ICT skin) and neural-head-model identities (the model's landmarks). The map is fitted on :data:`FIT_SEEDS` and measured on :data:`EVALUATION_SEEDS`, both
fixed before the map was first fitted; the evaluation heads are never fitted on.

Each landmark becomes a convex combination of the :data:`CANDIDATES` (view, point) candidates nearest to
it on average over the fitting heads: non-negative weights by least squares, their sum held at 1 (a
heavily weighted extra equation) so that the map commutes with translations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cliphead.heads.surfaces import Head
from cliphead.uv.aligned import aligned_uv, uv_at_points
from cliphead.uv.auto_landmarks import (
    LANDMARK_MAP_FILE,
    LANDMARK_MAP_FORMAT,
    VIEW_YAWS,
    MIN_FACING,
    LandmarkMap,
    candidate_points,
    detect_head_landmarks,
)
from cliphead.uv.checks import prepare_head_mesh

BACKENDS = ("ict", "neural")
#: Seeds of the heads the map is fitted on, and of the heads it is measured on (per backend).
FIT_SEEDS = range(1000, 1030)
EVALUATION_SEEDS = range(0, 25)
#: Marching-cubes resolution of the neural heads.
RESOLUTION = 128
CANDIDATES = 12
#: A candidate that more than this fraction of the fitting heads do not show is never chosen.
MAX_UNSEEN = 0.1
#: Weight of the equation that holds the weights' sum at 1.
SUM_WEIGHT = 100.0


def project_head(backend: str, seed: int) -> Head:
    """A neutral head of one of the project's models, with its 68 landmarks (ICT frame, cm)."""
    if backend == "ict":
        from cliphead.heads.ict import load_ict_model
        from cliphead.lab.uv.evaluation import remeshed_head

        return remeshed_head(load_ict_model(), seed, "neutral", RESOLUTION)
    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.generation import neural_head

    model = load_head_model()
    return neural_head(model, model.sample_identity_code(seed), None, RESOLUTION)[0]


def convex_weights(candidates: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative weights ``w`` summing to 1 minimising ``Σ_h |Σ_k w_k c_hk - t_h|²``.

    ``candidates`` (H, K, 3): the candidate points on each head (a NaN candidate counts as the head's
    target, i.e. says nothing); ``target`` (H, 3).
    """
    from scipy.optimize import nnls

    k = candidates.shape[1]
    candidates = np.where(np.isfinite(candidates), candidates, target[:, None, :])
    design = np.vstack([candidates.transpose(0, 2, 1).reshape(-1, k), SUM_WEIGHT * np.ones((1, k))])
    weights, _ = nnls(design, np.append(target.ravel(), SUM_WEIGHT))
    return weights / weights.sum()


def fit_landmark_map(candidates: np.ndarray, landmarks: np.ndarray, n_candidates: int = CANDIDATES) -> LandmarkMap:
    """The map from the candidates ``(H, C, 3)`` to the landmarks ``(H, 68, 3)`` of the same heads."""
    distances = np.linalg.norm(candidates[:, None] - landmarks[:, :, None], axis=-1)  # (H, 68, C)
    unseen = np.isnan(distances).mean(axis=0) > MAX_UNSEEN
    distances = np.where(unseen, np.inf, np.nanmean(distances, axis=0))
    indices = np.argsort(distances, axis=1)[:, :n_candidates]
    weights = np.stack([convex_weights(candidates[:, indices[k]], landmarks[:, k]) for k in range(len(indices))])
    return LandmarkMap(indices, weights)


def surface_landmarks(head: Head) -> np.ndarray:
    """The head's known landmarks moved onto its surface (the closest points), where the aligned map reads them:
    a marching-cubes mesh closes the mouth a little outside the inner lips, which then lie under it."""
    import igl

    return igl.point_mesh_squared_distance(head.landmarks, head.vertices, head.faces)[2]


def candidate_dataset(heads: Iterable[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Candidates ``(H, C, 3)`` and known landmarks on the surface ``(H, 68, 3)`` of the ``(backend, seed)`` heads."""
    candidates, landmarks = [], []
    for backend, seed in heads:
        head = project_head(backend, seed)
        candidates.append(candidate_points(head.vertices, head.faces))
        landmarks.append(surface_landmarks(head))
    return np.stack(candidates), np.stack(landmarks)


def build_landmark_map(fit_seeds: Iterable[int] = FIT_SEEDS) -> dict:
    """The landmark map file's content, fitted on the ``fit_seeds`` heads of every backend."""
    heads = [(backend, seed) for backend in BACKENDS for seed in fit_seeds]
    landmark_map = fit_landmark_map(*candidate_dataset(heads))
    return {
        "format": LANDMARK_MAP_FORMAT,
        "command": "cliphead build landmark-map",
        "min_facing": MIN_FACING,
        "fitted_on": f"{len(heads)} heads: {', '.join(BACKENDS)} seeds {min(fit_seeds)}-{max(fit_seeds)}",
        "views_yaw_degrees": list(VIEW_YAWS),
        "indices": landmark_map.indices.tolist(),
        "weights": np.round(landmark_map.weights, 6).tolist(),
    }


def write_landmark_map(path: Path = LANDMARK_MAP_FILE, fit_seeds: Iterable[int] = FIT_SEEDS) -> Path:
    """Fit the landmark map and write it (default: the package's shipped file)."""
    path = Path(path)
    path.write_text(json.dumps(build_landmark_map(fit_seeds)) + "\n")
    return path


def evaluate_auto_landmarks(
    seeds: Iterable[int] = EVALUATION_SEEDS, landmark_map: LandmarkMap | None = None
) -> tuple[list[dict], np.ndarray]:
    """On the evaluation heads: per head the mean and largest distance (mm) of the found landmarks from the known
    ones on the surface, and the UV positions ``(H, 68, 2)`` of the known landmarks under the aligned map warped
    with the found ones (their spread across heads says how well found landmarks align the features)."""
    rows, landmarks_uv = [], []
    for backend in BACKENDS:
        for seed in seeds:
            head = project_head(backend, seed)
            prepared = prepare_head_mesh(head.vertices, head.faces)
            found = detect_head_landmarks(prepared.vertices, prepared.faces, landmark_map)
            known = surface_landmarks(head)
            error_mm = 10.0 * np.linalg.norm(found - known, axis=1)
            rows.append(
                {"backend": backend, "seed": seed, "mean_mm": float(error_mm.mean()), "max_mm": float(error_mm.max())}
            )
            aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=found)
            landmarks_uv.append(uv_at_points(aligned.vertices, aligned.faces, aligned.uv, known))
    return rows, np.stack(landmarks_uv)
