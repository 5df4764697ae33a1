"""Tests of cliphead.heads: the ICT linear model, labelled expressions, skin surfaces, re-meshing."""

from __future__ import annotations

import igl
import numpy as np
import pytest
from conftest import HEAD_CASES

from cliphead import assets
from cliphead.heads.expressions import EXPRESSION_LABELS, EXPRESSIONS, expression_weights, normalise_label
from cliphead.heads.ict import N_IDENTITY_MODES, PARTS, SKIN_LAST_VERTEX, _parse_positions
from cliphead.heads.remesh import NECK_PLANE_Y, remesh_head
from cliphead.heads.surfaces import N_SKIN_OPENINGS, sample_identity, skin_head, watertight_skin
from cliphead.meshes import MeshError, boundary_loops, euler_characteristic, signed_volume

CHIN = 8
BROWS = np.arange(17, 27)


def landmarks_of(model, label: str) -> np.ndarray:
    return model.vertices(expression=expression_weights(label, model.expression_names))[model.landmark_vertices]


# --- the linear model -------------------------------------------------------------------------------


def test_model_shapes(ict_model):
    n = 26719
    assert ict_model.neutral.shape == (n, 3)
    assert ict_model.identity_modes.shape == (N_IDENTITY_MODES, n, 3) == (100, n, 3)
    assert ict_model.expression_modes.shape == (53, n, 3)
    assert len(ict_model.expression_names) == 53
    assert ict_model.landmark_vertices.shape == (68,)
    assert ict_model.landmark_vertices.max() <= SKIN_LAST_VERTEX
    assert ict_model.triangles.min() == 0 and ict_model.triangles.max() == n - 1
    assert ict_model.triangle_uv_indices.shape == ict_model.triangles.shape
    assert ict_model.triangle_uv_indices.max() < len(ict_model.uv)
    assert PARTS["eye_extras"][1] == n - 1
    # ICT frame: centimetres, y up, the face (nose tip, landmark 30) towards +z.
    nose = ict_model.neutral[ict_model.landmark_vertices[30]]
    assert nose[2] > 8.0 and abs(nose[0]) < 1e-3


def test_neutral_vertices_equal_the_neutral_mesh(ict_model):
    vertices = ict_model.vertices()
    assert vertices.dtype == np.float64
    np.testing.assert_array_equal(vertices, ict_model.neutral.astype(np.float64))
    np.testing.assert_array_equal(ict_model.vertices(np.zeros(100), np.zeros(53)), vertices)


@pytest.mark.parametrize("mode", [0, 57])
def test_identity_mode_reproduces_its_shape_file(ict_model, mode):
    shape = _parse_positions(assets.shape_file(assets.find_ict_facekit(), f"identity{mode:03d}"))
    weights = np.zeros(mode + 1)
    weights[mode] = 1.0
    np.testing.assert_allclose(ict_model.vertices(weights), shape, atol=1e-5, rtol=0)
    assert np.abs(shape - ict_model.neutral).max() > 0.01  # a real mode, not the neutral


def test_expression_shape_file(ict_model):
    name = "jawOpen"
    shape = _parse_positions(assets.shape_file(assets.find_ict_facekit(), name))
    weights = np.zeros(53)
    weights[ict_model.expression_index(name)] = 1.0
    np.testing.assert_allclose(ict_model.vertices(expression=weights), shape, atol=1e-5, rtol=0)


def test_vertices_argument_errors(ict_model):
    with pytest.raises(ValueError, match="At most 100"):
        ict_model.vertices(np.zeros(101))
    with pytest.raises(ValueError, match="53"):
        ict_model.vertices(expression=np.zeros(52))
    with pytest.raises(KeyError, match="browDown_L"):
        ict_model.expression_index("notAShape")


# --- labelled expressions ------------------------------------------------------------------------------


def test_twenty_three_labels_with_valid_weights(ict_model):
    assert len(EXPRESSION_LABELS) == 23 == len(set(EXPRESSION_LABELS))
    assert EXPRESSION_LABELS[0] == "neutral"
    for label, table in EXPRESSIONS.items():
        for name, value in table.items():
            assert 0.0 <= value <= 1.0, (label, name)
            assert name in ict_model.expression_names or {f"{name}_L", f"{name}_R"} <= set(ict_model.expression_names)
        weights = expression_weights(label, ict_model.expression_names)
        assert weights.shape == (53,)
        assert ((weights >= 0) & (weights <= 1)).all()
        assert (np.count_nonzero(weights) == 0) == (label == "neutral")


def test_unsided_weight_applies_to_both_sides(ict_model):
    names = ict_model.expression_names
    weights = expression_weights("happy", names)
    assert weights[names.index("mouthSmile_L")] == weights[names.index("mouthSmile_R")] == 0.8
    smirk = expression_weights("smirk", names)
    assert smirk[names.index("mouthSmile_L")] == 0.8 and smirk[names.index("mouthSmile_R")] == 0.0


def test_strength_scales_and_clips(ict_model):
    names = ict_model.expression_names
    base = expression_weights("laughing", names)
    np.testing.assert_allclose(expression_weights("laughing", names, 0.5), base * 0.5)
    doubled = expression_weights("laughing", names, 2.0)
    assert doubled.max() == 1.0
    np.testing.assert_allclose(doubled, np.clip(base * 2, 0, 1))


def test_mouth_open_lowers_the_chin(ict_model):
    drop = ict_model.neutral[ict_model.landmark_vertices[CHIN], 1] - landmarks_of(ict_model, "mouth open")[CHIN, 1]
    assert drop > 0.5


def test_raised_brows_lift_the_brows(ict_model):
    lift = landmarks_of(ict_model, "raised brows")[BROWS, 1] - ict_model.neutral[ict_model.landmark_vertices[BROWS], 1]
    assert (lift > 0.3).all()
    # ... and leave the chin where it was.
    assert (
        abs(landmarks_of(ict_model, "raised brows")[CHIN, 1] - ict_model.neutral[ict_model.landmark_vertices[CHIN], 1])
        < 0.05
    )


def test_label_normalisation(ict_model):
    assert (
        normalise_label("mouth_open")
        == normalise_label("Mouth-Open")
        == normalise_label("  mouth   OPEN ")
        == "mouth open"
    )
    np.testing.assert_array_equal(
        expression_weights("mouth_open", ict_model.expression_names),
        expression_weights("Mouth-Open", ict_model.expression_names),
    )


def test_unknown_label_lists_the_labels(ict_model):
    with pytest.raises(KeyError) as raised:
        expression_weights("ecstatic", ict_model.expression_names)
    message = str(raised.value)
    assert "ecstatic" in message
    for label in EXPRESSION_LABELS:
        assert label in message


# --- surfaces ----------------------------------------------------------------------------------------


def test_sample_identity_is_seeded():
    np.testing.assert_array_equal(sample_identity(3), sample_identity(3))
    assert not np.array_equal(sample_identity(3), sample_identity(4))
    assert sample_identity(3, 10).shape == (10,)


def test_skin_has_four_openings(ict_model):
    skin = skin_head(ict_model, sample_identity(0), "happy")
    assert len(skin.vertices) == SKIN_LAST_VERTEX + 1
    assert len(boundary_loops(skin.faces)) == N_SKIN_OPENINGS == 4
    np.testing.assert_array_equal(skin.landmarks, skin.vertices[ict_model.landmark_vertices])


@pytest.mark.parametrize("seed, expression", HEAD_CASES)
def test_watertight_skin_is_closed_and_outward(ict_model, seed, expression):
    skin = skin_head(ict_model, sample_identity(seed), expression)
    closed = watertight_skin(skin)
    assert boundary_loops(closed.faces) == []
    assert euler_characteristic(closed.faces) == 2  # a sphere
    assert signed_volume(closed.vertices, closed.faces) > 1000.0  # cm^3, a head's volume
    assert len(closed.vertices) == len(skin.vertices) + 4
    winding = igl.fast_winding_number(closed.vertices, closed.faces, np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 100.0]]))
    np.testing.assert_allclose(winding, [1.0, 0.0], atol=1e-2)  # the fast winding number is approximate


def test_watertight_skin_refuses_other_meshes(ict_model):
    skin = skin_head(ict_model)
    # A hole in the forehead: the face whose centre is nearest a point above the brows.
    centres = skin.vertices[skin.faces].mean(axis=1)
    forehead = np.argmin(np.linalg.norm(centres - skin.landmarks[27] - [0.0, 5.0, 0.0], axis=1))
    skin.faces = np.delete(skin.faces, forehead, axis=0)
    with pytest.raises(MeshError, match="found 5 boundary loops"):
        watertight_skin(skin)


# --- re-meshing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(HEAD_CASES)))
def test_remeshed_head_is_a_disk_above_the_neck(remeshed_heads, index):
    head = remeshed_heads[index]
    loops = boundary_loops(head.faces)
    assert len(loops) == 1
    assert euler_characteristic(head.faces) == 1
    assert head.vertices[:, 1].min() >= NECK_PLANE_Y - 1e-6
    np.testing.assert_allclose(head.vertices[loops[0], 1], NECK_PLANE_Y, atol=1e-6)
    assert len(np.unique(head.faces)) == len(head.vertices)  # no unused vertices
    assert head.landmarks.shape == (68, 3)


@pytest.mark.parametrize("index", range(len(HEAD_CASES)))
def test_remeshed_head_follows_the_skin(ict_model, remeshed_heads, index):
    seed, expression = HEAD_CASES[index]
    closed = watertight_skin(skin_head(ict_model, sample_identity(seed), expression))
    head = remeshed_heads[index]
    to_skin = np.sqrt(igl.point_mesh_squared_distance(head.vertices, closed.vertices, closed.faces)[0])
    above = closed.vertices[closed.vertices[:, 1] >= NECK_PLANE_Y]
    to_head = np.sqrt(igl.point_mesh_squared_distance(above, head.vertices, head.faces)[0])
    chamfer = (to_skin.mean() + to_head.mean()) / 2
    # The level set is taken up to one voxel outside the skin to keep the head a disk (heads.remesh).
    voxel = np.ptp(closed.vertices, axis=0).max() * 1.1 / 95
    assert chamfer < voxel, (chamfer, voxel)


def test_remesh_refuses_a_coarse_grid(ict_model):
    closed = watertight_skin(skin_head(ict_model))
    with pytest.raises(ValueError, match="too coarse"):
        remesh_head(closed.vertices, closed.faces, resolution=8)
