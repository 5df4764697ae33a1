"""The neural head model's parts on their own: scan data, tri-plane sampling, weights files, fitting maths."""

from __future__ import annotations

import dataclasses

import igl
import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from cliphead.assets import AssetNotFoundError
from cliphead.heads.checkpoints import load_head_model, save_head_model
from cliphead.heads.fitting import chamfer, fit_linear
from cliphead.heads.neural import NeuralHeadConfig, NeuralHeadModel, sample_triplane
from cliphead.lab.heads.recipe import PRESETS
from cliphead.lab.heads.scans import SOLID_FLOOR_Y, load_scans
from cliphead.heads.surfaces import watertight_skin

SCANS = PRESETS["quick"].scans

TINY = NeuralHeadConfig(
    identity_dim=8,
    expression_dim=4,
    channels=4,
    detail_resolution=16,
    basis_resolution=8,
    hidden=16,
    deformation_resolution=16,
    deformation_hidden=16,
    identity_projection=4,
)


@pytest.fixture(scope="module")
def quick_scans(ict_model):
    return load_scans(ict_model, SCANS)


def test_scan_sdf_samples_are_exact_distances_with_winding_number_sign(quick_scans):
    identity = quick_scans.identity_weights[3]
    closed = watertight_skin(quick_scans.head(identity))
    points, values = quick_scans.sdf_points[3][:2000].astype(float), quick_scans.sdf_values[3][:2000]
    inside = igl.fast_winding_number(closed.vertices, closed.faces, points) > 0.5
    distance = np.sqrt(igl.point_mesh_squared_distance(points, closed.vertices, closed.faces)[0])
    expected = np.maximum(np.where(inside, -distance, distance), SOLID_FLOOR_Y - points[:, 1])  # cut under the neck
    assert np.allclose(values, expected, atol=1e-3)
    assert 0.2 < (values < 0).mean() < 0.8
    # Surface samples lie on the surface, and their normals are unit vectors.
    on_surface = quick_scans.surface_points[3].astype(float)
    assert np.sqrt(igl.point_mesh_squared_distance(on_surface, closed.vertices, closed.faces)[0]).max() < 1e-3
    assert np.allclose(np.linalg.norm(quick_scans.surface_normals[3], axis=1), 1, atol=1e-5)


def test_scan_correspondences_follow_the_expression(quick_scans):
    rng = np.random.default_rng(0)
    identity, expression = quick_scans.identity_weights[0], quick_scans.expression_weights[12]  # "mouth open"
    canonical, posed = quick_scans.skin_points(identity, expression, 5000, rng)
    still, moved = quick_scans.skin_points(identity, np.zeros_like(expression), 100, rng)
    assert np.array_equal(still, moved)
    # The jaw opens: the lowest face points move down by centimetres, the back of the head stays.
    motion = posed - canonical
    assert motion[:, 1].min() < -1.0
    assert np.abs(motion[canonical[:, 2] < -5]).max() < 0.05


def test_scan_sets_are_deterministic_and_hold_out_unseen_people(ict_model, quick_scans):
    again = load_scans(ict_model, SCANS)
    assert np.array_equal(again.sdf_values, quick_scans.sdf_values)
    assert quick_scans.expression_names[:23][-1] == "lips rolled in"
    train, held_out = quick_scans.identity_weights, quick_scans.held_out_identity_weights
    assert np.abs(train[:, None] - held_out[None]).max(-1).min() > 0.5
    # Held-out people and blends come from their own seed streams: a bigger set holds the same ones first.
    bigger = dataclasses.replace(
        SCANS, identities=13, held_out_identities=3, surface_points=200, near_points=200, volume_points=100
    )
    assert bigger.key() != SCANS.key()
    other = load_scans(ict_model, bigger)
    assert np.array_equal(other.held_out_identity_weights[:2], held_out)
    assert np.array_equal(other.identity_weights[:12], train)
    assert np.array_equal(other.held_out_expression_weights, quick_scans.held_out_expression_weights)


def test_explicit_bilinear_matches_grid_sample_and_has_second_derivatives():
    torch.manual_seed(0)
    planes = torch.randn(2, 3, 5, 12, 12, dtype=torch.float64)
    points = (torch.rand(2, 300, 3, dtype=torch.float64) * 1.9 - 0.95).requires_grad_(True)
    fast = sample_triplane(planes, points)
    explicit = sample_triplane(planes, points, twice_differentiable=True)
    assert torch.allclose(fast, explicit, atol=1e-12)
    gradient = torch.autograd.grad(explicit.sum(), points, create_graph=True)[0]
    step = 1e-6
    shifted = points.detach().clone()
    shifted[..., 0] += step
    numeric = (sample_triplane(planes, shifted).sum(-1) - fast.detach().sum(-1)) / step
    assert torch.allclose(gradient[..., 0], numeric, atol=1e-4)
    gradient.pow(2).sum().backward()  # eikonal-style loss: needs d(gradient)/d(planes)
    assert points.grad is not None


def test_weights_round_trip_through_safetensors(tmp_path):
    torch.manual_seed(1)
    model = NeuralHeadModel(TINY, ("neutral", "happy"))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    model.identity_codes = torch.randn(5, TINY.identity_dim)
    path = save_head_model(model, tmp_path / "tiny.safetensors", dtype=torch.float32)
    loaded = load_head_model(path)
    assert loaded.config == TINY and loaded.expression_names == ("neutral", "happy")
    points = torch.randn(200, 3) * 5
    z_id, z_exp = torch.randn(TINY.identity_dim) * 0.1, torch.randn(TINY.expression_dim) * 0.1
    with torch.no_grad():
        assert torch.equal(model.sdf_field(z_id)(points), loaded.sdf_field(z_id)(points))
        assert torch.equal(model.deform(points, z_id, z_exp), loaded.deform(points, z_id, z_exp))
    assert torch.equal(loaded.identity_codes, model.identity_codes)


def test_missing_or_foreign_weights_fail_with_the_fix(tmp_path):
    with pytest.raises(AssetNotFoundError, match="train head-model"):
        load_head_model(tmp_path / "absent.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a cliphead head model"):
        load_head_model(broken)


def test_linear_fit_recovers_weights_and_chamfer_is_symmetric(quick_scans):
    identity = quick_scans.held_out_identity_weights[0]
    target = quick_scans.skin_vertices(identity)
    weights, fitted = fit_linear(target, quick_scans.skin_neutral, quick_scans.skin_identity_modes)
    assert np.allclose(weights, identity, atol=1e-6) and np.allclose(fitted, target, atol=1e-6)
    truncated, _ = fit_linear(target, quick_scans.skin_neutral, quick_scans.skin_identity_modes[:20])
    assert len(truncated) == 20
    a, b = torch.randn(300, 3), torch.randn(200, 3)

    def two_sided(x, y):
        return chamfer(x, y, cKDTree(y.numpy()), torch.arange(len(y)))

    assert torch.isclose(two_sided(a, b), two_sided(b, a)) and two_sided(a, a) == 0
    brute = torch.cdist(a, b)
    assert torch.isclose(two_sided(a, b), 0.5 * (brute.min(1).values.mean() + brute.min(0).values.mean()))
