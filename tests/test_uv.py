"""Tests of cliphead.uv: the aligned parametrisation, distortion measures, the UV normal map, UV I/O."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HEAD_CASES

from cliphead.meshes import boundary_loops, euler_characteristic, load_mesh, read_obj_uv, write_obj
from cliphead.uv.aligned import ANCHORED_LANDMARKS, aligned_uv, landmark_warp, uv_at_points
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.distortion import area_scale_error, distortion_summary, quasi_conformal_error
from cliphead.lab.uv.evaluation import alignment_spread, evaluate_head, original_uv_summary
from cliphead.uv.layout import CURVES, boundary_curve
from cliphead.uv.seam import cut_to_disk

NOSE_TIP = 30


@pytest.fixture(scope="module")
def prepared_heads(remeshed_heads):
    return [prepare_head_mesh(head.vertices, head.faces) for head in remeshed_heads]


@pytest.fixture(scope="module")
def aligned_maps(remeshed_heads, prepared_heads):
    """{(head index, curve, with landmarks): AlignedUV}."""
    maps = {}
    for index, (head, prepared) in enumerate(zip(remeshed_heads, prepared_heads)):
        for curve in CURVES:
            for use_landmarks in (False, True):
                landmarks = head.landmarks if use_landmarks else None
                maps[index, curve, use_landmarks] = aligned_uv(prepared.vertices, prepared.faces, curve, landmarks)
    return maps


def grid_mesh(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A planar n x n grid of points in z = 0 (irregularly jittered), triangulated counter-clockwise."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="xy")
    points = np.stack([x.ravel(), y.ravel(), np.zeros(n * n)], axis=1)
    inner = (points[:, 0] > 0) & (points[:, 0] < 1) & (points[:, 1] > 0) & (points[:, 1] < 1)
    points[inner, :2] += np.random.default_rng(0).uniform(-0.2, 0.2, (inner.sum(), 2)) / n
    faces = []
    for row in range(n - 1):
        for col in range(n - 1):
            a, b, c, d = row * n + col, row * n + col + 1, (row + 1) * n + col + 1, (row + 1) * n + col
            faces += [[a, b, c], [a, c, d]]
    return points, np.asarray(faces)


def distance_to_polyline(points: np.ndarray, polyline: np.ndarray) -> np.ndarray:
    """Distance of every point to the nearest segment of ``polyline``."""
    a, b = polyline[:-1], polyline[1:]
    keep = np.linalg.norm(b - a, axis=1) > 0  # consecutive segments share their end points
    a, b = a[keep], b[keep]
    ab = b - a
    t = np.clip(np.einsum("pij,ij->pi", points[:, None] - a[None], ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None] - closest, axis=-1).min(axis=1)


# --- the aligned map on re-meshed heads ---------------------------------------------------------------


def test_prepared_heads_need_no_repair(prepared_heads, remeshed_heads):
    for prepared, head in zip(prepared_heads, remeshed_heads):
        assert prepared.notes == []
        assert len(prepared.faces) == len(head.faces)


@pytest.mark.parametrize("use_landmarks", [False, True])
@pytest.mark.parametrize("index", range(len(HEAD_CASES)))
def test_aligned_uv_quality(aligned_maps, index, use_landmarks):
    aligned = aligned_maps[index, "conformal", use_landmarks]
    assert aligned.landmark_warp == use_landmarks
    assert aligned.uv.shape == (len(aligned.vertices), 2)
    assert np.isfinite(aligned.uv).all()
    assert aligned.uv.min() >= 0.0 and aligned.uv.max() <= 1.0
    assert len(boundary_loops(aligned.faces)) == 1 and euler_characteristic(aligned.faces) == 1
    summary = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    assert summary["qce_median"] < 2.0, summary  # the paper's aligned map: 4.311
    assert summary["flipped_faces"] < 0.005 * len(aligned.faces), summary
    assert np.isfinite(summary["ase_median"])


@pytest.mark.parametrize("curve", CURVES)
@pytest.mark.parametrize("use_landmarks", [False, True])
@pytest.mark.parametrize("index", range(len(HEAD_CASES)))
def test_boundary_lies_on_the_fixed_curve(aligned_maps, prepared_heads, index, curve, use_landmarks):
    aligned = aligned_maps[index, curve, use_landmarks]
    layout = boundary_curve(curve)
    polyline = np.concatenate([segment for segment in layout.segments])
    assert distance_to_polyline(aligned.uv[aligned.boundary], polyline).max() < 1e-6
    # The anchors: the seam cut is deterministic, so cutting again gives the same disk and anchor positions.
    disk = cut_to_disk(prepared_heads[index].vertices, prepared_heads[index].faces)
    np.testing.assert_array_equal(disk.vertices, aligned.vertices)
    np.testing.assert_array_equal(disk.boundary, aligned.boundary)
    anchors_uv = aligned.uv[disk.boundary[disk.anchor_positions]]
    np.testing.assert_allclose(anchors_uv, layout.anchors, atol=1e-9, rtol=0)
    # The crown is at the top of the layout, the front of the neck at the bottom.
    assert anchors_uv[0, 1] > anchors_uv[2, 1]


def test_anchors_are_where_the_layout_says(prepared_heads):
    """The disk's anchors are the crown (top of the midline) and the neck's back (both copies) and front."""
    prepared = prepared_heads[0]
    disk = cut_to_disk(prepared.vertices, prepared.faces)
    crown, back_right, front, back_left = disk.vertices[disk.boundary[disk.anchor_positions]]
    assert disk.anchor_positions[0] == 0
    np.testing.assert_allclose([crown[0], back_right[0], front[0], back_left[0]], 0.0, atol=1e-6)
    np.testing.assert_allclose(back_right, back_left, atol=1e-9)  # the seam's two copies of one point
    assert crown[1] > prepared.vertices[:, 1].mean()
    assert front[2] > back_left[2]
    assert back_left[1] == pytest.approx(prepared.vertices[:, 1].min(), abs=1e-6)


def test_landmark_warp_aligns_the_heads(remeshed_heads):
    spreads = {}
    for use_landmarks in (False, True):
        evaluations = [
            evaluate_head(head, seed, expression, "conformal", use_landmarks)
            for head, (seed, expression) in zip(remeshed_heads, HEAD_CASES)
        ]
        spreads[use_landmarks] = alignment_spread(np.stack([e.landmarks_uv for e in evaluations]))
    assert spreads[True].shape == (68,)
    assert spreads[True].max() < 0.01
    # Pinned by the warp; the fold repair may move a few around the mouth, within the bar.
    assert np.median(spreads[True][ANCHORED_LANDMARKS]) < 0.001
    assert spreads[False].mean() > 5 * spreads[True].mean()


def test_warped_landmarks_land_on_the_template(remeshed_heads, aligned_maps):
    layout = boundary_curve("conformal")
    for index, head in enumerate(remeshed_heads):
        aligned = aligned_maps[index, "conformal", True]
        landed = uv_at_points(aligned.vertices, aligned.faces, aligned.uv, head.landmarks[ANCHORED_LANDMARKS])
        np.testing.assert_allclose(landed, layout.landmarks_uv[ANCHORED_LANDMARKS], atol=1e-3)


def test_alignment_spread_definition():
    positions = np.zeros((2, 68, 2))
    positions[1, 5] = [0.3, 0.4]  # landmark 5 is 0.5 apart on two heads: 0.25 from their mean on each
    spread = alignment_spread(positions)
    assert spread[5] == pytest.approx(0.25)
    assert np.count_nonzero(spread) == 1


def test_landmark_warp_moves_landmarks_and_keeps_the_boundary():
    vertices, _ = grid_mesh(12)
    uv = vertices[:, :2].copy()
    boundary = np.nonzero((uv == 0).any(axis=1) | (uv == 1).any(axis=1))[0]
    sources = np.array([[0.4, 0.4], [0.6, 0.55]])
    targets = sources + [[0.03, -0.02], [-0.01, 0.02]]
    warped = landmark_warp(uv, boundary, sources, targets)
    np.testing.assert_array_equal(warped[boundary], uv[boundary])
    # The warp is a function of the plane: evaluated where the landmarks are, it lands on the targets.
    moved = landmark_warp(np.concatenate([uv, sources]), boundary, sources, targets)[len(uv) :]
    np.testing.assert_allclose(moved, targets, atol=1e-5)


def test_uv_at_points_interpolates():
    vertices, faces = grid_mesh(5)
    uv = vertices[:, :2] * [2.0, 3.0] + [0.1, -0.2]  # affine: barycentric interpolation is exact
    points = np.array([[0.33, 0.41, 0.0], [0.8, 0.15, 0.5]])  # the second lies off the plane
    expected = np.array([[0.33, 0.41], [0.8, 0.15]]) * [2.0, 3.0] + [0.1, -0.2]
    np.testing.assert_allclose(uv_at_points(vertices, faces, uv, points), expected, atol=1e-12)


def test_original_uv_summary_is_worse_than_aligned(ict_model, aligned_maps):
    original = original_uv_summary(ict_model, 0, "neutral")
    aligned = aligned_maps[0, "conformal", False]
    ours = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    assert np.isfinite(original["qce_median"]) and original["qce_median"] >= 1.0
    assert ours["qce_median"] < original["qce_median"]


# --- distortion measures on known maps ---------------------------------------------------------------


@pytest.mark.parametrize("tilted", [False, True])
def test_similarity_map_is_conformal_and_area_preserving(tilted):
    vertices, faces = grid_mesh()
    angle, scale = 0.7, 0.37
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    uv = vertices[:, :2] @ rotation.T * scale + [0.2, 0.1]
    if tilted:  # the same planar mesh rotated and moved in 3D: distortion is intrinsic
        c, s = np.cos(1.1), np.sin(1.1)
        vertices = (
            vertices @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]]).T @ np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]).T
            + 5
        )
    np.testing.assert_allclose(quasi_conformal_error(vertices, faces, uv), 1.0, atol=1e-9, rtol=0)
    np.testing.assert_allclose(area_scale_error(vertices, faces, uv), 0.0, atol=1e-9)
    summary = distortion_summary(vertices, faces, uv)
    assert summary["flipped_faces"] == 0
    assert summary["qce_median"] == pytest.approx(1.0, abs=1e-9)


def test_anisotropic_stretch_has_qce_two():
    vertices, faces = grid_mesh()
    uv = vertices[:, :2] * [2.0, 1.0]
    np.testing.assert_allclose(quasi_conformal_error(vertices, faces, uv), 2.0, atol=1e-12, rtol=0)
    # A uniform stretch scales every face alike: no area scale error after normalisation.
    np.testing.assert_allclose(area_scale_error(vertices, faces, uv), 0.0, atol=1e-12)


def test_area_scale_error_of_uneven_areas():
    # Two unit right triangles; in UV the second is twice as large (by area) as the first.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 0, 0], [6, 0, 0], [5, 1, 0]], dtype=float)
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    uv = np.array([[0, 0], [1, 0], [0, 1], [3, 0], [3 + np.sqrt(2), 0], [3, np.sqrt(2)]])
    # Relative areas: 3D 1/2, 1/2; UV 1/3, 2/3.
    np.testing.assert_allclose(area_scale_error(vertices, faces, uv), np.log([2 / 3, 4 / 3]), atol=1e-12)
    np.testing.assert_allclose(quasi_conformal_error(vertices, faces, uv), 1.0, atol=1e-12)


def test_flipped_triangles_have_infinite_qce():
    vertices, faces = grid_mesh()
    uv = vertices[:, :2].copy()
    mirrored = uv * [-1.0, 1.0]
    assert np.isinf(quasi_conformal_error(vertices, faces, mirrored)).all()
    # One face flipped in place: swap one face's corners in UV only (per-corner uv faces).
    uv_faces = faces.copy()
    uv_faces[7] = uv_faces[7, [0, 2, 1]]
    qce = quasi_conformal_error(vertices, faces, uv, uv_faces)
    assert np.isinf(qce[7]) and np.isfinite(np.delete(qce, 7)).all()
    assert distortion_summary(vertices, faces, uv, uv_faces)["flipped_faces"] == 1
    # A UV triangle collapsed to a segment: sigma2 is round-off, the QCE huge (not always inf, see report).
    collapsed = uv.copy()
    collapsed[faces[3, 2]] = (collapsed[faces[3, 0]] + collapsed[faces[3, 1]]) / 2
    assert quasi_conformal_error(vertices, faces, collapsed)[3] > 1e6


# --- baking the UV normal map -----------------------------------------------------------------------


def test_uv_normal_map_of_a_head(aligned_maps):
    aligned = aligned_maps[0, "conformal", True]
    size = 256
    image = uv_normal_map(aligned.vertices, aligned.faces, aligned.uv, size)
    assert image.shape == (size, size, 3) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    covered = image.any(axis=-1)
    assert 0.2 < covered.mean() < 0.8
    assert not covered[0, 0] and not covered[size // 2, 1]  # outside the layout: black
    lengths = np.linalg.norm(image[covered] * 2 - 1, axis=-1)
    np.testing.assert_allclose(lengths, 1.0, atol=0.02)
    u, v = boundary_curve("conformal").landmarks_uv[NOSE_TIP]
    nose = image[int((1 - v) * size), int(u * size)] * 2 - 1
    assert nose[2] > 0.7, nose  # the nose tip faces forward (+z)


# --- reading and writing UVs ------------------------------------------------------------------------


def test_obj_uv_round_trip(aligned_maps, tmp_path):
    aligned = aligned_maps[1, "conformal", True]
    path = tmp_path / "aligned.obj"
    write_obj(path, aligned.vertices, aligned.faces, aligned.uv, texture_name="texture.png")
    vertices, faces = load_mesh(path)
    np.testing.assert_allclose(vertices, aligned.vertices, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(faces, aligned.faces)
    np.testing.assert_allclose(read_obj_uv(path), aligned.uv, atol=1e-5, rtol=0)
    assert "map_Kd texture.png" in (tmp_path / "aligned.mtl").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aligned.mtl", "aligned.obj"]  # no temporary files left


def test_obj_without_uv(head_mesh_file, remeshed_heads):
    assert read_obj_uv(head_mesh_file) is None
    vertices, faces = load_mesh(head_mesh_file)
    np.testing.assert_allclose(vertices, remeshed_heads[0].vertices, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(faces, remeshed_heads[0].faces)


def test_shipped_layout_is_what_the_command_makes(tmp_path):
    import json

    from cliphead.lab.uv.layout_build import write_layout
    from cliphead.uv.layout import LAYOUT_FILE

    shipped = json.loads(LAYOUT_FILE.read_text())
    made = json.loads(write_layout(tmp_path / "layout.json").read_text())
    assert made["provenance"] == shipped["provenance"]
    for name, curve in shipped["curves"].items():
        regenerated = made["curves"][name]
        np.testing.assert_allclose(regenerated["landmarks_uv"], curve["landmarks_uv"], atol=1e-5)
        assert [len(s) for s in regenerated["segments"]] == [len(s) for s in curve["segments"]]
        np.testing.assert_allclose(
            np.concatenate(regenerated["segments"]), np.concatenate(curve["segments"]), atol=1e-5
        )
