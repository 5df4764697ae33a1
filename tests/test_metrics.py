"""Surface metrics against analytic cases: concentric spheres, a shifted copy, a region restriction."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from cliphead.heads.metrics import sample_surface, surface_metrics


@pytest.fixture(scope="module")
def sphere():
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=10.0)  # cm
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


def test_samples_lie_on_the_surface_with_outward_normals(sphere):
    sample = sample_surface(*sphere, 20000, seed=1)
    radius = np.linalg.norm(sample.points, axis=1)
    assert radius.max() <= 10.0 + 1e-9 and radius.min() > 9.98  # icosphere chords sit just inside
    assert np.einsum("ij,ij->i", sample.normals, sample.points / radius[:, None]).min() > 0.99
    # Uniform by area: each octant holds an eighth of the points.
    octant = (sample.points > 0).astype(int) @ [1, 2, 4]
    assert np.abs(np.bincount(octant, minlength=8) / 20000 - 0.125).max() < 0.01


def test_concentric_spheres_give_the_radius_gap(sphere):
    vertices, faces = sphere
    inner = sample_surface(vertices * 0.97, faces, 60000, seed=2)  # 3 mm smaller
    outer = sample_surface(vertices, faces, 60000, seed=3)
    metrics = surface_metrics(inner, outer)
    assert metrics["chamfer_l1_mm"] == pytest.approx(3.0, abs=0.2)  # plus point-sampling noise
    assert metrics["normal_consistency"] > 0.99
    assert metrics["f_score_1mm"] == 0.0 and metrics["f_score_5mm"] == 1.0


def test_identical_surfaces_score_perfectly_and_a_shift_is_seen(sphere):
    vertices, faces = sphere
    a, b = sample_surface(vertices, faces, 60000, seed=4), sample_surface(vertices, faces, 60000, seed=5)
    same = surface_metrics(a, b)
    # Two samples of one surface differ by the sampling spacing (~1.4 mm here), which shrinks as 1/sqrt(N).
    assert same["chamfer_l1_mm"] < 1.0 and same["f_score_5mm"] == 1.0
    denser = surface_metrics(
        sample_surface(vertices, faces, 240000, seed=4), sample_surface(vertices, faces, 240000, seed=5)
    )
    assert denser["chamfer_l1_mm"] == pytest.approx(same["chamfer_l1_mm"] / 2, rel=0.1)
    shifted = surface_metrics(sample_surface(vertices + [0.5, 0, 0], faces, 60000, seed=6), b)
    assert 1.5 < shifted["chamfer_l1_mm"] < 5.0 and shifted["f_score_1mm"] < same["f_score_1mm"]


def test_region_averages_only_points_inside(sphere):
    vertices, faces = sphere
    front = lambda points: points[:, 2] > 5.0  # noqa: E731 - a cap of the sphere
    moved = vertices.copy()
    moved[moved[:, 2] < 0] *= 0.9  # only the back half differs
    predicted, target = sample_surface(moved, faces, 60000, seed=7), sample_surface(vertices, faces, 60000, seed=8)
    whole, front_only = surface_metrics(predicted, target), surface_metrics(predicted, target, region=front)
    assert front_only["chamfer_l1_mm"] < 1.0 < whole["chamfer_l1_mm"]
    with pytest.raises(ValueError, match="region"):
        surface_metrics(
            sample_surface(vertices, faces, 100, seed=9),
            sample_surface(vertices, faces, 100),
            region=lambda p: p[:, 0] > 99,
        )
