"""An NPHM head on NPHM's own grid, written to a file: ``cliphead sample head --head-weights nphm:…``.

NPHM extracts a mesh (CLIP-Head eq. 1) by evaluating the identity SDF on the grid spanning
[-.55, -.5, -.95]–[.55, .75, .4] (NPHM units) with ``resolution`` nodes per axis and running marching
cubes at the zero level (of −SDF, i.e. the same surface); an expression then moves the neutral mesh's
vertices by the forward deformation. :func:`extract_nphm` keeps that box and node count per axis but
evaluates coarse-to-fine (:mod:`cliphead.heads.extraction`): the box is mapped onto a cube of
``resolution - 1`` grid units, whose voxels are NPHM's (not cubic) voxels, and the SDF is divided by
the longest voxel side so that it stays a distance bound in grid units. The coarse-to-fine grid ends
on ``2^k·m + 1`` nodes per axis (257 for 256); ``dense=True`` evaluates exactly NPHM's ``resolution``³
nodes instead. The largest connected component is kept, as for the project's own model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cliphead.heads.extraction import GridSDF, evaluate_coarse_to_fine, extract_mesh
from cliphead.heads.generation import COARSE_RESOLUTION, LIPSCHITZ, QUERY_BATCH, head_validity, largest_component
from cliphead.heads.nphm import NPHM_ORIGIN_IN_ICT_CM, NPHM_UNIT_CM, NPHMHeadModel, load_nphm, nphm_to_ict
from cliphead.meshes import MeshError, write_obj

#: NPHM's extraction box (NPHM units), from its fitting script.
NPHM_BOX = (np.array([-0.55, -0.5, -0.95]), np.array([0.55, 0.75, 0.4]))
#: The frames a mesh can be written in.
FRAMES = ("ict", "nphm")


@dataclass
class NPHMExtraction:
    """A neutral NPHM mesh (NPHM units) with what it cost."""

    vertices: np.ndarray
    faces: np.ndarray
    grid: GridSDF  # in grid units (module doc)
    seconds: float
    removed_components: int
    removed_faces: int


def extract_nphm(
    model: NPHMHeadModel, z_id: torch.Tensor, resolution: int = 256, dense: bool = False
) -> NPHMExtraction:
    """The zero level set of the identity ``z_id`` on NPHM's grid (module doc), in NPHM units."""
    start = time.perf_counter()
    low, high = NPHM_BOX
    voxel = (high - low) / (resolution - 1)  # NPHM units per grid unit, per axis
    z = model.code(z_id)

    def sdf(grid_points: np.ndarray) -> np.ndarray:
        points = torch.from_numpy(low + grid_points * voxel).float()
        return model.nphm_sdf(points, z).cpu().numpy() / voxel.max()

    side = np.full(3, resolution - 1.0)
    coarse = resolution if dense else COARSE_RESOLUTION
    grid = evaluate_coarse_to_fine(sdf, np.zeros(3), side, resolution, coarse, LIPSCHITZ, QUERY_BATCH)
    if not (grid.values.min() < 0 < grid.values.max()):
        raise MeshError(
            f"The NPHM SDF of this code does not change sign on NPHM's grid at resolution {resolution}: no surface "
            "(is the code an NPHM identity code, and are the anchors NPHM's anchors_39.npy?)."
        )
    vertices, faces = extract_mesh(grid)
    vertices, faces, removed, removed_faces = largest_component(low + vertices * voxel, faces)
    return NPHMExtraction(vertices, faces, grid, time.perf_counter() - start, removed, removed_faces)


def read_codes(path: Path, model: NPHMHeadModel) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``z_id`` (and ``z_exp`` when present) from a ``.npz``, checked against the model's code sizes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No codes file at {path}; give an .npz holding z_id (and optionally z_exp).")
    try:
        with np.load(path, allow_pickle=False) as codes:
            arrays = {key: np.asarray(codes[key], dtype=np.float32) for key in codes.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not an .npz of arrays ({error}).") from None
    if "z_id" not in arrays:
        raise ValueError(f"{path} holds {sorted(arrays)}; it needs z_id (and optionally z_exp).")
    expected = {"z_id": model.identity.config.latent_dim}
    if model.expression is not None:
        expected["z_exp"] = model.expression.config.lat_dim_expr
    for key, array in arrays.items():
        if key in expected and (array.size != expected[key] or not np.isfinite(array).all()):
            raise ValueError(f"{path}: {key} must hold {expected[key]} finite numbers, got shape {array.shape}.")
    if "z_exp" in arrays and model.expression is None:
        raise ValueError(f"{path} holds z_exp but this NPHM tree has no expression model.")
    z_exp = torch.from_numpy(arrays["z_exp"].reshape(-1)) if "z_exp" in arrays else None
    return torch.from_numpy(arrays["z_id"].reshape(-1)), z_exp


def sample_nphm_file(
    out: Path,
    spec: str,
    codes: Path | None = None,
    seed: int = 0,
    *,
    resolution: int = 256,
    frame: str = "ict",
    dense: bool = False,
    force: bool = False,
) -> dict:
    """Extract the NPHM head of ``codes`` (or of a seeded draw from NPHM's latent statistics) and write ``out``.

    With ``z_exp`` in the codes the neutral mesh's vertices are deformed forwards; without it the neutral
    identity is written undeformed. ``frame`` ``ict`` converts to the project's frame (cm,
    :func:`~cliphead.heads.nphm.nphm_to_ict`), ``nphm`` keeps NPHM's own coordinates. Returns the figures
    of the JSON line.
    """
    if frame not in FRAMES:
        raise ValueError(f"Unknown frame {frame!r}; choose one of {', '.join(FRAMES)}.")
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; choose another --out or pass --force to replace it.")
    start = time.perf_counter()
    model = load_nphm(spec, "cuda" if torch.cuda.is_available() else "cpu")
    z_id, z_exp = read_codes(codes, model) if codes is not None else (model.sample_identity_code(seed), None)
    extraction = extract_nphm(model, z_id, resolution, dense)
    vertices = torch.from_numpy(extraction.vertices).float()
    if z_exp is not None:
        vertices = model.nphm_deform(vertices, z_id, z_exp)
    vertices = vertices.double().numpy() if frame == "nphm" else nphm_to_ict(vertices.double().numpy())
    write_obj(out, vertices, extraction.faces)
    transform = {"scale_cm_per_unit": NPHM_UNIT_CM, "origin_in_ict_cm": NPHM_ORIGIN_IN_ICT_CM.tolist()}
    return {
        "backend": "nphm",
        "weights": spec,
        "codes": str(codes) if codes is not None else None,
        "seed": None if codes is not None else seed,
        "expression": z_exp is not None,
        "frame": "NPHM (FLAME x 4)" if frame == "nphm" else "ICT (centimetres, y up, face towards +z)",
        "nphm_to_ict": transform,
        "resolution": resolution,
        "dense": dense,
        "sdf_queries": extraction.grid.queries,
        "dense_queries": extraction.grid.dense_queries,
        "extraction_seconds": round(extraction.seconds, 3),
        "removed_components": extraction.removed_components,
        "removed_faces": extraction.removed_faces,
        **head_validity(vertices, extraction.faces),
        "mesh": str(out),
        "landmarks": None,  # NPHM has no 68 Multi-PIE landmarks
        "n_vertices": len(vertices),
        "n_faces": len(extraction.faces),
        "seconds": round(time.perf_counter() - start, 3),
    }
