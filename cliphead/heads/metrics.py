"""Reconstruction metrics between two surfaces: Chamfer-L1, normal consistency, F-score.

The protocol NPHM and its follow-ups use to compare a fitted head with its scan: sample points
uniformly by area on both surfaces (2.5M per mesh in the full protocol, fewer in quick mode), match
every point to its nearest neighbour on the other sample, and report

- Chamfer-L1: the mean of the two directions' mean nearest-neighbour distances, in millimetres;
- normal consistency: the mean |cos| between matched points' normals, both directions averaged;
- F-score@τ: harmonic mean of precision (predicted points within τ of the target) and recall
  (target points within τ of the prediction).

Meshes are in the ICT frame (centimetres); distances are reported in millimetres.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from cliphead.meshes import face_areas

#: Points sampled per mesh in the full protocol.
FULL_PROTOCOL_POINTS = 2_500_000
MM_PER_CM = 10.0


#: A part of the head: (N, 3) points → (N,) bool.
Region = Callable[[np.ndarray], np.ndarray]


@dataclass
class SurfaceSample:
    points: np.ndarray  # (N, 3)
    normals: np.ndarray  # (N, 3) unit


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n_points: int, seed: int = 0) -> SurfaceSample:
    """``n_points`` points uniformly distributed by area, with their faces' unit normals."""
    rng = np.random.default_rng(seed)
    areas = face_areas(vertices, faces)
    chosen = rng.choice(len(faces), size=n_points, p=areas / areas.sum())
    u, v = rng.random(n_points), rng.random(n_points)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    corners = vertices[faces[chosen]]
    points = corners[:, 0] + u[:, None] * (corners[:, 1] - corners[:, 0]) + v[:, None] * (corners[:, 2] - corners[:, 0])
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    return SurfaceSample(points, face_normals / np.linalg.norm(face_normals, axis=1, keepdims=True))


def surface_metrics(
    predicted: SurfaceSample,
    target: SurfaceSample,
    thresholds_mm: tuple[float, ...] = (1.0, 5.0),
    region: Region | None = None,
) -> dict[str, float]:
    """Chamfer-L1 (mm), normal consistency and F-scores between two surface samples.

    ``region`` (points → bool mask) restricts the averages to the points of both samples inside a
    part of the head (e.g. the face); every point is still matched against the whole other sample,
    so the region's cut edge adds no error of its own.
    """
    return surface_metrics_by_region(predicted, target, {"": region}, thresholds_mm)[""]


def surface_metrics_by_region(
    predicted: SurfaceSample,
    target: SurfaceSample,
    regions: Mapping[str, Region | None],
    thresholds_mm: tuple[float, ...] = (1.0, 5.0),
) -> dict[str, dict[str, float]]:
    """:func:`surface_metrics` for several regions (None: everything), matching the samples once."""
    to_target, nearest_target = cKDTree(target.points).query(predicted.points, workers=-1)
    to_predicted, nearest_predicted = cKDTree(predicted.points).query(target.points, workers=-1)
    cos_to_target = np.abs(np.einsum("ij,ij->i", predicted.normals, target.normals[nearest_target]))
    cos_to_predicted = np.abs(np.einsum("ij,ij->i", target.normals, predicted.normals[nearest_predicted]))
    results = {}
    for name, region in regions.items():
        inside_predicted = np.ones(len(to_target), bool) if region is None else region(predicted.points)
        inside_target = np.ones(len(to_predicted), bool) if region is None else region(target.points)
        if not inside_predicted.any() or not inside_target.any():
            raise ValueError(f"The region {name!r} holds no sampled points of one of the surfaces.")
        accuracy = to_target[inside_predicted] * MM_PER_CM
        completeness = to_predicted[inside_target] * MM_PER_CM
        metrics = {
            "chamfer_l1_mm": float(0.5 * (accuracy.mean() + completeness.mean())),
            "accuracy_mm": float(accuracy.mean()),
            "completeness_mm": float(completeness.mean()),
            "normal_consistency": float(
                0.5 * (cos_to_target[inside_predicted].mean() + cos_to_predicted[inside_target].mean())
            ),
        }
        for tau in thresholds_mm:
            precision, recall = (accuracy < tau).mean(), (completeness < tau).mean()
            f_score = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
            metrics[f"f_score_{tau:g}mm"] = float(f_score)
        results[name] = metrics
    return results
