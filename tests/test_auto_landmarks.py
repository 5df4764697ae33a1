"""Tests of cliphead.uv.auto_landmarks: the 68 landmarks of a head mesh found by FaceMesh on renders of it."""

from __future__ import annotations

import numpy as np
import pytest

from cliphead.lab.uv.landmark_map import surface_landmarks
from cliphead.meshes import MeshError, load_mesh, read_obj_uv, write_obj
from cliphead.uv.aligned import ANCHORED_LANDMARKS, uv_at_points
from cliphead.uv.auto_landmarks import LandmarkMap, detect_head_landmarks, load_landmark_map
from cliphead.uv.export import align_file
from cliphead.uv.layout import boundary_curve


@pytest.fixture(scope="module")
def detected(remeshed_heads):
    """Landmarks found on the re-meshed neutral and laughing heads (their own landmarks are known)."""
    return [detect_head_landmarks(head.vertices, head.faces) for head in remeshed_heads[:2]]


def test_landmark_map_renormalises_over_unseen_candidates():
    landmark_map = LandmarkMap(np.array([[0, 1], [1, 2]]), np.array([[0.25, 0.75], [0.5, 0.5]]))
    candidates = np.array([[2.0, 0.0, 0.0], [np.nan] * 3, [np.nan] * 3])
    found = landmark_map.apply(candidates)
    assert np.allclose(found[0], [2.0, 0.0, 0.0]) and np.isnan(found[1]).all()


def test_the_shipped_map_is_a_convex_combination_for_every_landmark():
    landmark_map = load_landmark_map()
    assert landmark_map.indices.shape[0] == landmark_map.weights.shape[0] == 68
    assert (landmark_map.weights >= 0).all() and np.allclose(landmark_map.weights.sum(axis=1), 1.0, atol=1e-4)


def test_detected_landmarks_lie_near_the_known_ones(remeshed_heads, detected):
    for head, found in zip(remeshed_heads, detected):
        error_mm = 10.0 * np.linalg.norm(found - surface_landmarks(head), axis=1)
        assert np.mean(error_mm) < 4.0, np.mean(error_mm)  # the lab measures 50 heads against 3 mm
        assert np.median(error_mm[[36, 39, 42, 45]]) < 3.0  # the eye corners


def true_landmark_offsets(folder, head) -> np.ndarray:
    """How far the head's known (anchored) landmarks land from the layout's targets under the map in ``folder``."""
    vertices, faces = load_mesh(folder / "mesh.obj")
    landmarks_uv = uv_at_points(vertices, faces, read_obj_uv(folder / "mesh.obj"), head.landmarks)
    targets = boundary_curve("conformal").landmarks_uv
    return np.linalg.norm(landmarks_uv - targets, axis=1)[ANCHORED_LANDMARKS]


def test_align_uv_warps_a_mesh_without_landmarks_onto_the_layout(remeshed_heads, tmp_path):
    head = remeshed_heads[0]
    write_obj(tmp_path / "head.obj", head.vertices, head.faces)
    metrics = align_file(tmp_path / "head.obj", tmp_path / "uv", size=128)
    assert metrics["landmarks"] == "detected" and metrics["landmark_warp"] is True
    assert metrics["qce_median"] < 2.0 and metrics["flipped_faces"] == 0
    plain = align_file(tmp_path / "head.obj", tmp_path / "plain", size=128, use_landmarks=False)
    assert plain["landmarks"] == "none" and plain["landmark_warp"] is False
    warped, unwarped = (true_landmark_offsets(tmp_path / name, head) for name in ("uv", "plain"))
    assert np.median(warped) < 0.01 and np.median(warped) < 0.5 * np.median(unwarped), (warped, unwarped)


def test_a_mesh_that_is_not_a_head_is_refused_by_name():
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=3, radius=10.0)
    with pytest.raises(MeshError, match="FaceMesh found a face in 0 of 3 renders"):
        detect_head_landmarks(np.asarray(sphere.vertices), np.asarray(sphere.faces))
