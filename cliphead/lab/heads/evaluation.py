"""The fitting study: held-out ICT scans fitted by the neural model and by linear baselines.

For every held-out identity (never seen in training) the neutral scan is fitted (identity
fitting), and the same identity under a held-out expression blend is fitted with the identity
kept (expression fitting). Each fit is compared with its scan on the whole head and on the face
region by :func:`~cliphead.heads.metrics.surface_metrics`:

- the scan is the watertight ICT skin (eyes and mouth capped) cropped at the neck plane, the
  surface the neural model is trained to reproduce;
- the neural fit starts from a point cloud with normals sampled on the scan and is extracted at
  grid resolution 256;
- the linear rows are least-squares fits on the scan's vertices: the first 20 identity modes (a
  FLAME-like low-dimensional model) and all 100, which spans the scans exactly (an oracle: its
  error is the sampling noise of the protocol);
- the face region is everything within :data:`FACE_RADIUS_CM` of the scan's nose tip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cliphead.heads.fitting import FitSettings, fit_expression, fit_identity, fit_linear
from cliphead.heads.generation import neural_head
from cliphead.heads.metrics import FULL_PROTOCOL_POINTS, sample_surface, surface_metrics_by_region
from cliphead.heads.neural import NeuralHeadModel
from cliphead.heads.remesh import NECK_PLANE_Y, crop_below
from cliphead.lab.heads.scans import ScanSet
from cliphead.heads.surfaces import Head, watertight_skin

#: Multi-PIE landmark of the nose tip (0-based).
NOSE_TIP = 30
#: The face region: points within this distance (cm) of the nose tip.
FACE_RADIUS_CM = 8.0
#: Input point cloud of a fit (points with normals sampled on the scan).
FIT_POINTS = 100_000
LINEAR_BASELINE_MODES = 20
MODELS = {
    "neural": "neural head model (embedded, tri-plane SDF + forward deformation), fitted to a point cloud",
    "ict_20": "ICT linear, first 20 identity modes (+53 expression modes), least squares on vertices (FLAME-like)",
    "ict_100": "ICT linear, all 100 identity modes (+53 expression), least squares on vertices: an oracle, "
    "the scans come from it",
}


@dataclass(frozen=True)
class StudySettings:
    identities: int = 12
    metric_points: int = FULL_PROTOCOL_POINTS
    resolution: int = 256
    identity_fit: FitSettings = field(default_factory=FitSettings)
    expression_fit: FitSettings = field(default_factory=lambda: FitSettings(iterations=200))


#: ``full`` is the fitting study of notebook 01 and results/head_model_fitting.csv; ``quick`` two identities.
STUDY_PRESETS = {
    "full": StudySettings(),
    "quick": StudySettings(
        identities=2,
        metric_points=250_000,
        resolution=128,
        identity_fit=FitSettings(iterations=60),
        expression_fit=FitSettings(iterations=60),
    ),
}


def scan_surface(scans: ScanSet, identity: np.ndarray, expression: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation surface of a scan: the watertight skin cropped at the neck plane."""
    closed = watertight_skin(scans.head(identity, expression))
    return crop_below(closed.vertices, closed.faces, NECK_PLANE_Y)


def face_region(nose_tip: np.ndarray):
    return lambda points: np.linalg.norm(points - nose_tip, axis=1) < FACE_RADIUS_CM


def _recap(scans: ScanSet, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The watertight skin of fitted ICT vertices (caps rebuilt on the moved openings)."""
    closed = watertight_skin(Head(vertices, scans.skin_faces.copy(), vertices[scans.landmark_vertices]))
    return closed.vertices, closed.faces


def run_fitting_study(
    model: NeuralHeadModel, scans: ScanSet, settings: StudySettings = StudySettings(), progress: bool = True
) -> pd.DataFrame:
    """One row per (scan, model, region) with the surface metrics and fitting times."""
    rows = []
    identities = scans.held_out_identity_weights[: settings.identities]
    blends = scans.held_out_expression_weights
    for index in tqdm(range(len(identities)), desc="held-out scans", disable=not progress):
        identity = identities[index]
        blend = blends[index % len(blends)]
        for task, expression in (("identity", None), ("expression", blend)):
            target_vertices, target_faces = scan_surface(scans, identity, expression)
            target = sample_surface(target_vertices, target_faces, settings.metric_points, seed=index)
            region = face_region(scans.landmarks(identity, expression)[NOSE_TIP])
            fits = {}
            if task == "identity":
                cloud = sample_surface(target_vertices, target_faces, FIT_POINTS, seed=10_000 + index)
                identity_fit = fit_identity(model, cloud.points, cloud.normals, settings.identity_fit)
                head, canonical = neural_head(model, identity_fit.code, resolution=settings.resolution)
                fits["neural"] = (head.vertices, head.faces, identity_fit.seconds)
            else:
                cloud = sample_surface(target_vertices, target_faces, FIT_POINTS, seed=20_000 + index)
                expression_fit = fit_expression(
                    model, cloud.points, identity_fit.code, canonical.vertices, settings.expression_fit
                )
                head, _ = neural_head(model, identity_fit.code, expression_fit.code, canonical=canonical)
                fits["neural"] = (head.vertices, head.faces, identity_fit.seconds + expression_fit.seconds)
            target_skin = scans.skin_vertices(identity, expression)
            expression_modes = None if expression is None else scans.skin_expression_modes
            for name, modes in (("ict_20", LINEAR_BASELINE_MODES), ("ict_100", len(identity))):
                _, fitted = fit_linear(
                    target_skin, scans.skin_neutral, scans.skin_identity_modes[:modes], expression_modes
                )
                fits[name] = (*crop_below(*_recap(scans, fitted), NECK_PLANE_Y), 0.0)
            for name, (vertices, faces, seconds) in fits.items():
                predicted = sample_surface(vertices, faces, settings.metric_points, seed=index + 1)
                by_region = surface_metrics_by_region(predicted, target, {"whole_head": None, "face": region})
                for region_name, metrics in by_region.items():
                    rows.append(
                        {"scan": index, "task": task, "model": name, "region": region_name, "fit_seconds": seconds}
                        | metrics
                    )
    return pd.DataFrame(rows)


def summarise_fitting_study(per_scan: pd.DataFrame) -> pd.DataFrame:
    """Means over scans per (task, model, region), with the models' descriptions."""
    metrics = ["chamfer_l1_mm", "normal_consistency", "f_score_1mm", "f_score_5mm", "fit_seconds"]
    table = per_scan.groupby(["task", "region", "model"], sort=False)[metrics].mean().reset_index()
    table["n_scans"] = per_scan.groupby(["task", "region", "model"], sort=False).size().to_numpy()
    table["description"] = table["model"].map(MODELS)
    return table
