"""Heads from a parametric head model: fast extraction, forward expression, landmarks, validity.

CLIP-Head eq. 1: the identity SDF ``F_id(·, z_id)`` is extracted by SDF queries and marching cubes,
and the expression decoder moves the surface. Here extraction is coarse-to-fine
(:mod:`cliphead.heads.extraction`): a 33³ grid, then three doublings that query only the cells the
surface may cross, so 257³ costs about 1M queries instead of 17M. The canonical mesh is cropped
at the neck plane exactly like the re-meshing of :mod:`cliphead.heads.remesh`, then, for an
expression, its vertices (and the 68 landmarks) go through one pass of the forward deformation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from cliphead.heads.extraction import GridSDF, evaluate_coarse_to_fine, extract_mesh
from cliphead.heads.remesh import NECK_PLANE_Y, OFFSETS_VOXELS, crop_below
from cliphead.heads.neural import box_bounds
from cliphead.heads.surfaces import Head
from cliphead.meshes import (
    MeshError,
    boundary_loops,
    cap_loops,
    euler_characteristic,
    remove_unreferenced,
    vertex_components,
)

#: Band widening for a learned SDF, which is a distance only approximately (see extraction.py).
LIPSCHITZ = 1.5
COARSE_RESOLUTION = 33
QUERY_BATCH = 65536


class ParametricHeadModel(Protocol):
    """What extraction, sampling and fitting need from an NPHM-style model (CLIP-Head eq. 1)."""

    latent_mean: torch.Tensor
    latent_std: torch.Tensor

    def sdf_field(self, z_id: torch.Tensor): ...  # (P, 3) cm points → (P,) signed distances (cm)
    def deform(self, points: torch.Tensor, z_id: torch.Tensor, z_exp: torch.Tensor) -> torch.Tensor: ...
    def canonical_landmarks(self, z_id: torch.Tensor) -> torch.Tensor: ...
    def sample_identity_code(self, seed: int) -> torch.Tensor: ...
    def expression_code(self, name: str) -> torch.Tensor: ...


@dataclass
class Extraction:
    """A canonical mesh with the cost of getting it."""

    vertices: np.ndarray
    faces: np.ndarray
    grid: GridSDF
    seconds: float
    removed_components: int = 0
    removed_faces: int = 0
    capped_loops: int = 0
    level: float = 0.0  # the level set extracted (cm outside the zero level set)


def largest_component(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The connected component with most faces; returns it with the number of components and faces dropped."""
    if len(faces) == 0:
        return vertices, faces, 0, 0
    face_labels = vertex_components(len(vertices), faces)[faces[:, 0]]
    labels, counts = np.unique(face_labels, return_counts=True)
    keep = face_labels == labels[np.argmax(counts)]
    kept_vertices, kept_faces, _ = remove_unreferenced(vertices, faces[keep])
    return kept_vertices, kept_faces, len(labels) - 1, int((~keep).sum())


def sdf_grid(model: ParametricHeadModel, z_id: torch.Tensor, resolution: int = 256, dense: bool = False) -> GridSDF:
    """The identity's SDF on the model's cube, coarse-to-fine (or on the dense grid, for comparison)."""
    with torch.no_grad():
        field = model.sdf_field(z_id)

        def sdf(points: np.ndarray) -> np.ndarray:
            return field(torch.from_numpy(points).float()).numpy()

        if dense:  # every node of the grid the coarse-to-fine evaluation ends on
            levels = max(0, round(np.log2((resolution - 1) / (COARSE_RESOLUTION - 1))))
            nodes = int(np.ceil((resolution - 1) / 2**levels)) * 2**levels + 1
            return evaluate_coarse_to_fine(sdf, *box_bounds(), nodes, nodes, LIPSCHITZ, QUERY_BATCH)
        return evaluate_coarse_to_fine(sdf, *box_bounds(), resolution, COARSE_RESOLUTION, LIPSCHITZ, QUERY_BATCH)


def extract_canonical(
    model: ParametricHeadModel, z_id: torch.Tensor, resolution: int = 256, dense: bool = False
) -> Extraction:
    """Marching cubes of the identity's zero level set, cropped at ``y = NECK_PLANE_Y``, largest component."""
    start = time.perf_counter()
    grid = sdf_grid(model, z_id, resolution, dense)
    vertices, faces, removed, removed_faces = largest_component(*crop_below(*extract_mesh(grid), NECK_PLANE_Y))
    loops = sorted(boundary_loops(faces), key=len) if len(faces) else []
    if len(loops) > 1:  # the neck is the longest loop; close the slivers' loops
        vertices, faces = cap_loops(vertices, faces, loops[:-1])
    capped = max(len(loops) - 1, 0)
    return Extraction(vertices, faces, grid, time.perf_counter() - start, removed, removed_faces, capped)


def extract_disk(model: ParametricHeadModel, z_id: torch.Tensor, resolution: int = 96) -> Extraction:
    """A canonical mesh that is a disk (one neck boundary, no handles), as the aligned UV map needs.

    A learned SDF's thin slits (lips, nostrils, ear folds) give marching cubes tunnels; like the
    re-meshing of :mod:`cliphead.heads.remesh`, the level set is taken a fraction of a voxel outside
    the surface (the smallest offset of :data:`~cliphead.heads.remesh.OFFSETS_VOXELS` that gives a
    disk after the neck crop), which closes them. At resolution 96 the first offset (0.25 voxel,
    0.9 mm) serves 19 random identities in 20.
    """
    start = time.perf_counter()
    grid = sdf_grid(model, z_id, resolution)
    for offset in OFFSETS_VOXELS:
        level = offset * grid.spacing
        vertices, faces, removed, removed_faces = largest_component(
            *crop_below(*extract_mesh(grid, level), NECK_PLANE_Y)
        )
        if len(faces) and euler_characteristic(faces) == 1 and len(boundary_loops(faces)) == 1:
            return Extraction(vertices, faces, grid, time.perf_counter() - start, removed, removed_faces, 0, level)
    raise MeshError(
        f"The head of this code is not a disk at resolution {resolution} even {OFFSETS_VOXELS[-1]} voxels outside "
        "its surface; try another resolution."
    )


def neural_head(
    model: ParametricHeadModel,
    z_id: torch.Tensor,
    z_exp: torch.Tensor | None = None,
    resolution: int = 256,
    canonical: Extraction | None = None,
) -> tuple[Head, Extraction]:
    """The head of ``z_id`` (with the expression ``z_exp``), with its 68 landmarks moved along.

    ``canonical`` reuses an extraction of the same identity, so another expression costs only the
    deformation pass.
    """
    canonical = canonical or extract_canonical(model, z_id, resolution)
    with torch.no_grad():
        vertices = torch.from_numpy(canonical.vertices).float()
        landmarks = model.canonical_landmarks(z_id)
        if z_exp is not None:
            vertices = model.deform(vertices, z_id, z_exp)
            landmarks = model.deform(landmarks, z_id, z_exp)
    head = Head(vertices.double().numpy(), canonical.faces.copy(), landmarks.double().numpy())
    return head, canonical


def head_validity(vertices: np.ndarray, faces: np.ndarray) -> dict[str, int | bool]:
    """One connected component, one boundary loop (the neck): what a sampled head must be."""
    used = np.unique(faces)
    components = len(np.unique(vertex_components(len(vertices), faces)[used])) if len(faces) else 0
    loops = len(boundary_loops(faces)) if len(faces) else 0
    return {"components": components, "boundary_loops": loops, "valid": components == 1 and loops == 1}
