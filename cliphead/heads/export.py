"""``cliphead sample head`` and ``cliphead fit head``: heads written to files, with a record of how they were made.

Each head goes to an OBJ with its 68 landmarks beside it (:func:`cliphead.heads.io.write_head`). The
neural head model's imports (torch) happen inside the functions that use it, so that sampling from the
linear ICT model never loads torch.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cliphead.files import output_folder, write_json
from cliphead.heads.expressions import normalise_label
from cliphead.heads.ict import load_ict_model
from cliphead.heads.io import landmarks_path, read_point_cloud, write_head
from cliphead.heads.metrics import sample_surface, surface_metrics
from cliphead.heads.remesh import remesh_head
from cliphead.heads.surfaces import Head, sample_identity, skin_head, watertight_skin
from cliphead.meshes import load_mesh

#: The models ``sample_head_file`` draws from.
BACKENDS = ("ict", "neural")


def sample_head_file(
    out: Path,
    backend: str = "ict",
    seed: int = 0,
    expression: str = "neutral",
    strength: float = 1.0,
    *,
    remesh: int = 0,
    resolution: int = 256,
    weights: str | None = None,
    force: bool = False,
) -> dict:
    """Draw a random identity with a labelled expression and write it to ``out`` (OBJ) and its landmarks.

    ``backend`` ``ict``: identity weights ~ N(0, 1) of the linear model, the expression's blendshapes
    scaled by ``strength``, re-meshed on a ``remesh``³ grid and cropped at the neck when ``remesh`` > 0.
    ``neural``: ``z_id`` from the neural head model's latent distribution (``weights``, default the
    embedded model), extracted at ``resolution``, the expression code scaled by ``strength``. Existing
    files are refused unless ``force``. Returns how the head was drawn, the paths, its size and the seconds.
    """
    if backend not in BACKENDS:
        raise ValueError(f"Unknown head backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    out = Path(out)
    for path in (out, landmarks_path(out)):
        if path.exists() and not force:
            raise FileExistsError(f"{path} exists; choose another --out or pass --force to replace it.")
    start = time.perf_counter()
    label = normalise_label(expression)
    if backend == "neural":
        head, metadata = _neural_sample(seed, label, strength, resolution, weights)
    else:
        head, metadata = _ict_sample(seed, label, strength, remesh)
    mesh_path, landmark_path = write_head(out, head, metadata)
    return {
        **metadata,
        "mesh": str(mesh_path),
        "landmarks": str(landmark_path),
        "n_vertices": len(head.vertices),
        "n_faces": len(head.faces),
        "seconds": round(time.perf_counter() - start, 3),
    }


def _ict_sample(seed: int, label: str, strength: float, remesh: int) -> tuple[Head, dict]:
    """A head of the linear ICT model (the skin, or re-meshed at ``remesh``) and how it was drawn."""
    model = load_ict_model()
    skin = skin_head(model, sample_identity(seed), label, strength)
    head = skin
    if remesh:
        closed = watertight_skin(skin)
        head = Head(*remesh_head(closed.vertices, closed.faces, remesh), skin.landmarks)
    metadata = {"backend": "ict", "seed": seed, "expression": label, "strength": strength, "remesh": remesh}
    return head, metadata


def _neural_sample(seed: int, label: str, strength: float, resolution: int, weights: str | None) -> tuple[Head, dict]:
    """A head of the neural head model, how it was drawn, its extraction's figures and its validity."""
    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.generation import head_validity, neural_head

    model = load_head_model(weights)
    z_id = model.sample_identity_code(seed)
    z_exp = None if label == "neutral" else strength * model.expression_code(label)
    head, extraction = neural_head(model, z_id, z_exp, resolution=resolution)
    metadata = {
        "backend": "neural",
        "weights": str(weights or "embedded"),
        "seed": seed,
        "expression": label,
        "strength": strength,
        "resolution": resolution,
        "sdf_queries": extraction.grid.queries,
        "dense_queries": extraction.grid.dense_queries,
        "extraction_seconds": round(extraction.seconds, 3),
        "removed_components": extraction.removed_components,
        "removed_faces": extraction.removed_faces,
        "capped_loops": extraction.capped_loops,
        **head_validity(head.vertices, head.faces),
    }
    return head, metadata


def fit_scan_file(
    points: Path,
    out: Path,
    *,
    neutral: Path | None = None,
    reference: Path | None = None,
    iterations: int = 300,
    resolution: int = 256,
    weights: str | None = None,
    metric_points: int = 200_000,
    force: bool = False,
) -> dict:
    """Fit the neural head model to the scan in ``points`` and write ``out``/fit.obj, fit.landmarks.json, fit.json.

    Without ``neutral`` the scan's identity code is fitted; with it, the identity is fitted to the
    ``neutral`` scan and the expression code to ``points``. With ``reference`` (a mesh), the fitted
    surface is measured against it (Chamfer-L1, normal consistency, F-scores; ``metric_points`` per
    surface). ``fit.json`` holds the returned figures and both codes; the return value has the identity
    code's norm instead of the codes.
    """
    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.fitting import FitSettings, fit_expression, fit_identity
    from cliphead.heads.generation import neural_head

    cloud, normals = read_point_cloud(Path(points))
    neutral_cloud = read_point_cloud(Path(neutral)) if neutral else (cloud, normals)
    out = output_folder(out, force)
    model = load_head_model(weights)
    settings = FitSettings(iterations=iterations)
    identity = fit_identity(model, *neutral_cloud, settings, progress=True)
    head, canonical = neural_head(model, identity.code, resolution=resolution)
    seconds = identity.seconds
    expression = None
    if neutral:
        expression = fit_expression(model, cloud, identity.code, canonical.vertices, settings, progress=True)
        head, _ = neural_head(model, identity.code, expression.code, canonical=canonical)
        seconds += expression.seconds
    mesh_path, landmark_path = write_head(out / "fit.obj", head, {"backend": "neural", "fitted_to": str(points)})
    codes = {"z_id": identity.code.tolist(), "z_exp": None if expression is None else expression.code.tolist()}
    payload = {
        "points": len(cloud),
        "normals": normals is not None,
        "fit_seconds": round(seconds, 3),
        "identity_loss": identity.losses[-1],
        "expression_loss": None if expression is None else expression.losses[-1],
        "mesh": str(mesh_path),
        "landmarks": str(landmark_path),
    }
    if reference:
        target = sample_surface(*load_mesh(Path(reference)), metric_points, seed=1)
        payload |= surface_metrics(sample_surface(head.vertices, head.faces, metric_points, seed=2), target)
    write_json(out / "fit.json", payload | codes)
    return payload | {"z_id_norm": float(np.linalg.norm(codes["z_id"]))}
