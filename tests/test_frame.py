"""Tests of cliphead.uv.frame: a head in other units and axes is brought into the ICT frame and written back."""

from __future__ import annotations

import numpy as np
import pytest

from cliphead.meshes import MeshError, load_mesh, write_obj
from cliphead.uv.export import align_file
from cliphead.uv.frame import detect_frame, parse_frame


def rotation(axis: str, degrees: float) -> np.ndarray:
    """The rotation by ``degrees`` about a coordinate axis, rounded (these are quarter turns)."""
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    matrix = np.eye(3)
    matrix[[i, i, j, j], [i, j, i, j]] = [c, -s, s, c]
    return np.round(matrix)


#: How heads arrive: (name, centimetres per unit of the file, rotation applied to the ICT head).
ARRIVALS = [
    ("millimetres", 0.1, np.eye(3)),
    ("metres", 100.0, np.eye(3)),
    ("decimetres", 10.0, np.eye(3)),
    ("z up", 1.0, rotation("x", 90)),
    ("facing -z", 1.0, rotation("y", 180)),
    ("y down", 1.0, rotation("z", 180)),
    ("mm, z up, facing +y", 0.1, rotation("x", 90) @ rotation("y", 180)),
    ("lying on its side", 1.0, rotation("z", 90)),
]


@pytest.mark.parametrize(("name", "unit_cm", "turn"), ARRIVALS, ids=[arrival[0] for arrival in ARRIVALS])
def test_the_frame_is_found_from_the_head(remeshed_heads, name, unit_cm, turn):
    head = remeshed_heads[0]
    user = head.vertices @ turn.T / unit_cm
    frame = detect_frame(user, head.faces)
    assert frame.scale == unit_cm
    assert np.allclose(frame.to_ict(user), head.vertices, atol=1e-9)
    assert np.allclose(frame.to_user(frame.to_ict(user)), user)


def test_a_given_frame_matches_the_found_one(remeshed_heads):
    head = remeshed_heads[1]
    user = head.vertices @ (rotation("x", 90) @ rotation("y", 180)).T * 10.0  # mm, z up, face towards +y
    given, found = parse_frame("mm,z,y", user), detect_frame(user, head.faces)
    assert np.allclose(given.rotation, found.rotation) and given.scale == found.scale == 0.1
    assert parse_frame("ict", user).is_identity and detect_frame(head.vertices, head.faces).is_identity
    with pytest.raises(MeshError, match="UNITS,UP,FRONT"):
        parse_frame("inches,y,z", user)
    with pytest.raises(MeshError, match="must differ"):
        parse_frame("cm,y,-y", user)


def test_align_uv_maps_a_millimetre_z_up_head_and_writes_it_back_in_its_frame(remeshed_heads, tmp_path):
    head = remeshed_heads[0]
    user = head.vertices @ rotation("x", 90).T * 10.0
    write_obj(tmp_path / "head.obj", user, head.faces)
    metrics = align_file(tmp_path / "head.obj", tmp_path / "uv", size=128, use_landmarks=False)
    assert metrics["frame"]["source"] == "detected" and metrics["frame"]["up"] == "z"
    assert metrics["frame"]["scale_to_cm"] == 0.1 and any("ICT frame" in note for note in metrics["repairs"])
    written, _ = load_mesh(tmp_path / "uv" / "mesh.obj")
    assert np.allclose(written.min(axis=0), user.min(axis=0), atol=1e-3)  # in millimetres, z up, as it came
    assert np.allclose(written.max(axis=0), user.max(axis=0), atol=1e-3)
    assert metrics["qce_median"] < 2.0 and metrics["flipped_faces"] == 0
    refused = pytest.raises(MeshError, match="far from a head in centimetres")
    with refused:
        align_file(tmp_path / "head.obj", tmp_path / "strict", use_landmarks=False, repair=False)
