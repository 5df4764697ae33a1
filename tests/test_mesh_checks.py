"""Bad inputs to the UV pipeline: every one is repaired with a note or refused with a MeshError naming it.

Each test starts from a good open head (a marching-cubes ICT head cropped at the neck) and breaks one thing.
"""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from cliphead.heads.surfaces import skin_head, watertight_skin
from cliphead.meshes import (
    MeshError,
    boundary_loops,
    cap_loops,
    clean_mesh,
    euler_characteristic,
    face_areas,
    load_mesh,
    signed_volume,
)
from cliphead.uv.aligned import aligned_uv
from cliphead.uv.checks import prepare_head_mesh


@pytest.fixture(scope="module")
def head(remeshed_heads):
    """A good open head: (vertices, faces, landmarks)."""
    good = remeshed_heads[0]
    return good.vertices.copy(), good.faces.copy(), good.landmarks.copy()


@pytest.fixture(scope="module")
def prepared(head):
    return prepare_head_mesh(head[0], head[1])


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def outward(vertices: np.ndarray, faces: np.ndarray) -> bool:
    capped = cap_loops(vertices, faces, boundary_loops(faces))
    return signed_volume(*capped) > 0


def test_good_head_passes_untouched(head, prepared):
    vertices, faces, _ = head
    assert prepared.notes == []
    assert len(prepared.faces) == len(faces) and len(prepared.vertices) == len(vertices)
    assert outward(prepared.vertices, prepared.faces)


# --- unreadable files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "head.obj"
    with pytest.raises(MeshError, match="not found") as raised:
        load_mesh(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("name", ["garbage.obj", "garbage.ply", "garbage.stl"])
def test_garbage_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 40 + b"\x00\xff" * 100)
    with pytest.raises(MeshError, match="Could not read|holds no triangles") as raised:
        load_mesh(path)
    assert str(path) in str(raised.value)


def test_obj_without_faces(tmp_path):
    path = tmp_path / "points.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(MeshError, match="no triangles"):
        load_mesh(path)


def test_head_file_loads(head_mesh_file, head):
    vertices, faces = load_mesh(head_mesh_file)
    assert prepare_head_mesh(vertices, faces).notes == []
    assert len(faces) == len(head[1])


# --- refused coordinates and indices ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_vertex(head, value):
    vertices, faces, _ = head
    broken = vertices.copy()
    broken[123, 1] = value
    with pytest.raises(MeshError, match="NaN or infinite") as raised:
        prepare_head_mesh(broken, faces)
    assert "vertex 123" in str(raised.value)


def test_face_index_out_of_range(head):
    vertices, faces, _ = head
    broken = np.concatenate([faces, [[0, 1, len(vertices)]]])
    with pytest.raises(MeshError, match="outside the vertex array"):
        prepare_head_mesh(vertices, broken)


def test_quads_are_refused(head):
    vertices, _, _ = head
    with pytest.raises(MeshError, match="triangles"):
        prepare_head_mesh(vertices, np.array([[0, 1, 2, 3]]))


# --- repaired with a note ---------------------------------------------------------------------------------


def test_extra_components_keep_the_largest(head, prepared):
    vertices, faces, _ = head
    sphere = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    extra_vertices = np.asarray(sphere.vertices) + [40.0, 0.0, 0.0]
    both_vertices = np.concatenate([vertices, extra_vertices])
    both_faces = np.concatenate([faces, np.asarray(sphere.faces) + len(vertices)])
    result = prepare_head_mesh(both_vertices, both_faces)
    assert any("2 connected components" in note and "largest" in note for note in result.notes), result.notes
    assert len(result.faces) == len(faces)
    np.testing.assert_array_equal(result.vertices, prepared.vertices)
    np.testing.assert_array_equal(result.faces, prepared.faces)


def test_inward_orientation_is_flipped(head, prepared):
    vertices, faces, _ = head
    result = prepare_head_mesh(vertices, faces[:, ::-1])
    assert any("flipped" in note for note in result.notes), result.notes
    np.testing.assert_array_equal(result.vertices, prepared.vertices)
    np.testing.assert_array_equal(result.faces, prepared.faces)
    assert outward(result.vertices, result.faces)


def test_inconsistent_orientation_is_made_consistent(head, prepared):
    vertices, faces, _ = head
    mixed = faces.copy()
    right = vertices[faces].mean(axis=1)[:, 0] < 0
    mixed[right] = mixed[right][:, ::-1]
    result = prepare_head_mesh(vertices, mixed)
    assert any("inconsistent" in note for note in result.notes), result.notes
    np.testing.assert_array_equal(np.sort(result.faces, axis=1), np.sort(prepared.faces, axis=1))
    agreement = np.einsum(
        "ij,ij->i", face_normals(result.vertices, result.faces), face_normals(prepared.vertices, prepared.faces)
    )
    assert (agreement > 0.999).all()
    assert outward(result.vertices, result.faces)


def test_degenerate_faces_are_removed(head, prepared):
    vertices, faces, _ = head
    a, b, c = faces[10]
    midpoint = len(vertices)
    extended = np.concatenate([vertices, [(vertices[a] + vertices[b]) / 2]])
    degenerate = np.array([[a, a, c], [a, b, midpoint], [b, c, b]])  # repeated corners, and collinear corners
    assert (face_areas(extended, degenerate) < 1e-12).all()
    result = prepare_head_mesh(extended, np.concatenate([faces, degenerate]))
    assert any("removed 3 degenerate" in note for note in result.notes), result.notes
    assert len(result.faces) == len(faces)
    np.testing.assert_array_equal(result.vertices, prepared.vertices)  # the midpoint, now unused, is dropped


def test_duplicated_faces_are_removed(head):
    vertices, faces, _ = head
    result = prepare_head_mesh(vertices, np.concatenate([faces, faces[:5], faces[7:8, [1, 2, 0]]]))
    assert any("removed 6 duplicated" in note for note in result.notes), result.notes
    assert len(result.faces) == len(faces)


def test_coincident_vertices_are_welded(head):
    vertices, faces, _ = head
    duplicated = np.concatenate([vertices, vertices])
    split = faces.copy()
    split[::2] += len(vertices)  # every other face uses the copies: many components until welded
    result = clean_mesh(duplicated, split)
    assert result.notes == []
    assert len(result.vertices) == len(vertices) and len(result.faces) == len(faces)


# --- refused topology -----------------------------------------------------------------------------------


def test_closed_mesh_is_refused_without_the_repair(ict_model):
    closed = watertight_skin(skin_head(ict_model))
    with pytest.raises(MeshError, match="closed") as raised:
        prepare_head_mesh(closed.vertices, closed.faces, repair=False)
    assert "neck" in str(raised.value)


def test_closed_mesh_is_cut_at_its_neck(ict_model):
    head = skin_head(ict_model)
    closed = watertight_skin(head)
    result = prepare_head_mesh(closed.vertices, closed.faces)
    assert any("cut at its neck" in note for note in result.notes), result.notes
    # Below the chin (landmark 8) and above the bottom of the skin: the neck.
    assert closed.vertices[:, 1].min() < result.figures["neck_cut_y"] < head.landmarks[8, 1] - 2.0
    assert euler_characteristic(result.faces) == 1 and len(boundary_loops(result.faces)) == 1
    aligned = aligned_uv(result.vertices, result.faces, landmarks=head.landmarks)
    assert np.isfinite(aligned.uv).all()


def cheek_hole(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, radius: float = 0.8) -> np.ndarray:
    """The faces within ``radius`` cm of a point of the left cheek (between the jaw line and the nose)."""
    target = (landmarks[2] + landmarks[31]) / 2
    centre = vertices[np.argmin(np.linalg.norm(vertices - target, axis=1))]
    return np.linalg.norm(vertices[faces].mean(axis=1) - centre, axis=1) < radius


def test_extra_hole_is_refused_without_the_repair(head):
    vertices, faces, landmarks = head
    hole = cheek_hole(vertices, faces, landmarks)
    assert 3 <= hole.sum() < 200
    holed = faces[~hole]
    assert len(boundary_loops(holed)) == 2
    with pytest.raises(MeshError, match=r"1 hole\(s\) besides the neck") as raised:
        prepare_head_mesh(vertices, holed, repair=False)
    assert "--no-repair" in str(raised.value)


def test_extra_hole_is_filled_by_the_repair(head):
    vertices, faces, landmarks = head
    holed = faces[~cheek_hole(vertices, faces, landmarks)]
    result = prepare_head_mesh(vertices, holed)
    assert any("filled 1 hole(s)" in note for note in result.notes), result.notes
    assert result.figures["holes_filled"] == 1
    assert len(boundary_loops(result.faces)) == 1
    assert euler_characteristic(result.faces) == 1
    assert outward(result.vertices, result.faces)
    # The filled head still parametrises.
    aligned = aligned_uv(result.vertices, result.faces, landmarks=landmarks)
    assert np.isfinite(aligned.uv).all()


def with_fin(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The head with one extra face standing on an edge of face 100 (that edge then has three faces)."""
    a, b, c = faces[100]
    fin = vertices[a] + 2.0 * np.cross(vertices[b] - vertices[a], vertices[c] - vertices[a])
    return np.concatenate([vertices, [fin]]), np.concatenate([faces, [[a, b, len(vertices)]]])


def test_non_manifold_edge_is_refused_without_the_repair(head):
    with pytest.raises(MeshError, match="non-manifold"):
        prepare_head_mesh(*with_fin(*head[:2]), repair=False)


def test_non_manifold_edge_is_split_and_the_fin_dropped(head):
    vertices, faces, _ = head
    result = prepare_head_mesh(*with_fin(vertices, faces))
    assert result.figures == {"non_manifold_edges": 1, "split_vertices": 2}
    assert any("split 1 non-manifold edge" in note for note in result.notes), result.notes
    # The head keeps every face; its split vertices move a hair's breadth apart (at most 0.1 mm here).
    assert len(result.faces) == len(faces)
    assert np.allclose(np.sort(result.vertices, axis=0), np.sort(vertices, axis=0), atol=0.01)


def test_vertices_welded_across_two_sheets_are_split(head):
    """Two far-apart vertices of the head welded into one (a pinch): the two fans get their own copies again."""
    vertices, faces, landmarks = head
    nose, back = np.argmin(np.linalg.norm(vertices - landmarks[30], axis=1)), np.argmin(vertices[:, 2])
    welded = np.where(faces == back, nose, faces)
    result = prepare_head_mesh(vertices, welded)
    assert result.figures["split_vertices"] == 1 and len(result.faces) == len(faces)
    assert euler_characteristic(result.faces) == 1 and len(boundary_loops(result.faces)) == 1


def sphere_with_loop(loop_radius: float, tube_radius: float, resolution: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """A head-sized sphere with a ring half sunk into its back (a handle, like a hair loop), open at the bottom."""
    from skimage.measure import marching_cubes

    axis = np.linspace(-12.0, 12.0, resolution)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    sphere = np.sqrt(x**2 + y**2 + z**2) - 10.0
    # A ring in the plane x = 0 centred on the sphere's surface at the back, upper half.
    cy, cz = 10.0 * np.sin(0.6), -10.0 * np.cos(0.6)
    ring = np.sqrt((np.sqrt((y - cy) ** 2 + (z - cz) ** 2) - loop_radius) ** 2 + x**2) - tube_radius
    vertices, faces, _, _ = marching_cubes(np.minimum(sphere, ring), 0.0, spacing=(axis[1] - axis[0],) * 3)
    vertices += axis[0]
    keep = vertices[faces].mean(axis=1)[:, 1] > -8.0
    opened = clean_mesh(vertices, faces[keep])
    return opened.vertices, opened.faces


def test_handle_is_removed_by_re_meshing_with_a_closing():
    vertices, faces = sphere_with_loop(1.6, 0.5)
    assert len(boundary_loops(faces)) == 1 and euler_characteristic(faces) == -1
    result = prepare_head_mesh(vertices, faces)
    assert euler_characteristic(result.faces) == 1 and len(boundary_loops(result.faces)) == 1
    assert result.figures["handles_removed"] == 1 and result.figures["closing_voxels"] >= 1
    # Away from the loop the surface stays put: the sphere's front is within a fraction of a millimetre.
    front = result.vertices[result.vertices[:, 2] > 5.0]
    assert np.abs(np.linalg.norm(front, axis=1) - 10.0).max() < 0.1
    assert 5.0 < result.figures["hausdorff_mm"] < 21.0  # the closing reaches no farther than the loop (radius 2.1 cm)


def test_handle_is_refused_without_the_repair_or_when_too_wide():
    torus = trimesh.creation.torus(major_radius=8.0, minor_radius=3.0)  # ring in the xy plane, head-sized
    vertices, faces = np.asarray(torus.vertices), np.asarray(torus.faces)
    # Open a "neck" at the bottom of the ring.
    keep = np.linalg.norm(vertices[faces].mean(axis=1) - [0.0, -11.0, 0.0], axis=1) > 2.0
    faces = faces[keep]
    assert len(boundary_loops(faces)) == 1 and euler_characteristic(faces) == -1
    with pytest.raises(MeshError, match=r"1 handle\(s\)") as raised:
        prepare_head_mesh(vertices, faces, repair=False)
    assert "Euler characteristic -1" in str(raised.value)
    with pytest.raises(MeshError, match=r"1 handle\(s\) that no closing of up to \d+ voxels removes"):
        prepare_head_mesh(vertices, faces)


# --- refused placement ------------------------------------------------------------------------------------


def test_metres_are_refused(head):
    vertices, faces, _ = head
    with pytest.raises(MeshError, match="metres: scale by 100"):
        prepare_head_mesh(vertices * 0.01, faces)


def test_millimetres_are_refused(head):
    vertices, faces, _ = head
    with pytest.raises(MeshError, match="far from a head in centimetres") as raised:
        prepare_head_mesh(vertices * 10.0, faces)
    assert "metres" not in str(raised.value).replace("centimetres", "")


def test_off_centre_is_refused(head):
    vertices, faces, _ = head
    with pytest.raises(MeshError, match="centred at") as raised:
        prepare_head_mesh(vertices + [50.0, 0.0, 0.0], faces)
    assert "x = 0" in str(raised.value)


def test_upside_down_is_refused(head):
    vertices, faces, _ = head
    mirrored = vertices * [1.0, -1.0, 1.0]  # y negated; reversing the faces keeps them outward
    flipped_faces = faces[:, ::-1]
    assert outward(mirrored, flipped_faces)
    with pytest.raises(MeshError, match="not upright"):
        prepare_head_mesh(mirrored, flipped_faces)
    # A proper rotation (180 degrees about z) is refused alike.
    with pytest.raises(MeshError, match="not upright"):
        prepare_head_mesh(vertices * [-1.0, -1.0, 1.0], faces)


@pytest.mark.parametrize("defect", ["welded lips", "holes", "decimated 10k"])
def test_repaired_corpus_heads_map_to_clean_meshes(defect):
    """The map of a repaired head has no zero-area or duplicated face and no unreferenced vertex."""
    from cliphead.lab.uv.defects import corpus_case
    from cliphead.meshes import degenerate_faces
    from cliphead.uv.incoming import align_head

    case = corpus_case("ict", 0, defect)
    aligned = align_head(case.vertices, case.faces, use_landmarks=False).aligned
    zero_area, duplicated = degenerate_faces(aligned.vertices, aligned.faces)
    assert not zero_area.any() and not duplicated.any()
    assert len(np.unique(aligned.faces)) == len(aligned.vertices)


def test_a_surface_folding_across_the_midline_is_re_meshed():
    """Vertex clustering folds this head's surface back and forth across x = 0 near the nose and neck: the seam's
    plane meets it in pieces the seam cannot cut along; the repair re-meshes it through its winding number."""
    from cliphead.lab.uv.defects import corpus_case
    from cliphead.uv.distortion import distortion_summary
    from cliphead.uv.incoming import align_head
    from cliphead.uv.seam import MidlineError, cut_to_disk

    case = corpus_case("ict", 4, "decimated 30k")
    prepared = prepare_head_mesh(case.vertices, case.faces)  # the other repairs leave the fold
    with pytest.raises(MidlineError, match="3 boundary loops leaving the plane x = 0"):
        cut_to_disk(prepared.vertices, prepared.faces)
    result = align_head(case.vertices, case.faces, use_landmarks=False)
    assert result.prepared.figures["midline_remeshed"] == 1
    assert any(note.startswith("re-meshed through the winding number: the plane x = 0") for note in result.notes)
    assert 0.0 < result.prepared.figures["hausdorff_mm"] < 25.0  # the neck band cut away, 1.5 voxels higher
    aligned = result.aligned
    summary = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    assert summary["qce_median"] < 1.3 and summary["flipped_faces"] <= 0.002 * len(aligned.faces)
