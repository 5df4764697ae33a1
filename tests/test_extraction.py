"""Coarse-to-fine SDF evaluation: the same marching-cubes mesh as the dense grid, from far fewer queries."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.measure import marching_cubes

from cliphead.heads.extraction import evaluate_coarse_to_fine, extract_mesh


def blobs_and_ring(points: np.ndarray) -> np.ndarray:
    """An exact-ish SDF: two spheres and a thin torus (a thin part a coarse grid alone would miss)."""
    sphere_a = np.linalg.norm(points - [0.2, 0.0, 0.0], axis=1) - 0.5
    sphere_b = np.linalg.norm(points + [0.3, 0.1, 0.0], axis=1) - 0.35
    ring = np.sqrt((np.linalg.norm(points[:, [0, 2]], axis=1) - 0.6) ** 2 + points[:, 1] ** 2) - 0.06
    return np.minimum(np.minimum(sphere_a, sphere_b), ring)


def dense_mesh(sdf, grid):
    n = grid.values.shape[0]
    axis = grid.low[0] + grid.spacing * np.arange(n)
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    values = sdf(points).reshape(grid.values.shape).astype(np.float32)
    vertices, faces, _, _ = marching_cubes(values, 0.0, spacing=(grid.spacing,) * 3)
    return vertices + grid.low, faces


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_same_mesh_as_the_dense_grid(scale):
    def sdf(points):
        return scale * blobs_and_ring(points)

    grid = evaluate_coarse_to_fine(sdf, [-1, -1, -1], [1, 1, 1], resolution=128, lipschitz=scale)
    assert grid.values.shape == (129, 129, 129)
    vertices, faces = extract_mesh(grid)
    dense_vertices, dense_faces = dense_mesh(sdf, grid)
    assert vertices.shape == dense_vertices.shape and faces.shape == dense_faces.shape
    np.testing.assert_allclose(vertices, dense_vertices, atol=1e-6)
    assert grid.queries * 5 < grid.dense_queries


def test_ten_times_fewer_queries_at_256():
    grid = evaluate_coarse_to_fine(blobs_and_ring, [-1, -1, -1], [1, 1, 1], resolution=256)
    assert grid.values.shape == (257, 257, 257)
    assert grid.dense_queries >= 10 * grid.queries, (grid.queries, grid.dense_queries)


def test_a_neck_cut_through_vertices_leaves_no_degenerate_face():
    from cliphead.heads.remesh import crop_below
    from cliphead.meshes import degenerate_faces

    # A marching-cubes sphere cut a hair's breadth above a row of its vertices: the slice's new vertices land
    # within the weld tolerance of the old ones, and welding collapses faces (91 here) unless they are dropped.
    values = np.linalg.norm(np.mgrid[-1:1:33j, -1:1:33j, -1:1:33j], axis=0) - 0.7
    vertices, faces, _, _ = marching_cubes(values.astype(np.float32), 0.0, spacing=(2 / 32,) * 3)
    plane = float(np.sort(vertices[:, 1])[len(vertices) // 3]) + 1e-8
    cut_vertices, cut_faces = crop_below(vertices, faces.astype(np.int64), plane)
    degenerate, duplicated = degenerate_faces(cut_vertices, cut_faces)
    assert not degenerate.any() and not duplicated.any()
    assert np.array_equal(np.unique(cut_faces), np.arange(len(cut_vertices)))  # no unreferenced vertex
    assert cut_vertices[:, 1].min() >= plane - 1e-7
