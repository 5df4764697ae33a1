"""The explorer (notebook 10, `cliphead explore`): what a change re-uses, what the 3D view receives, errors."""

from __future__ import annotations

import base64
import io
import json

import nbformat
import numpy as np
import pytest
from PIL import Image

PROMPT = "an old man with a grey beard"


@pytest.fixture(scope="module")
def panel():
    from cliphead.explorer import explorer

    return explorer(prompt=PROMPT)


def test_an_identity_slider_re_extracts_the_head_and_keeps_the_texture(panel):
    session = panel.session
    first = session.view
    assert set(first.seconds) == {"text", "geometry", "normal map", "texture", "rectification"}
    panel.identity[0].value = 2.0  # what releasing the slider does
    moved = session.view
    assert moved.texture is first.texture and set(moved.seconds) == {"geometry"}
    assert "texture re-used" in panel.timing.value
    # A new surface in the same layout: other vertices, UVs inside the same square, landmarks moved.
    assert len(moved.head.vertices) != len(first.head.vertices) or not np.allclose(
        moved.head.vertices, first.head.vertices
    )
    assert moved.head.uv.min() >= 0.0 and moved.head.uv.max() <= 1.0
    assert np.linalg.norm(moved.head.landmarks - first.head.landmarks, axis=1).mean() > 0.05  # cm
    panel.identity[0].value = 0.0


def test_an_expression_moves_the_extracted_surface_without_extracting_again(panel):
    session = panel.session
    before = session.view
    panel.expression.value = "surprised"
    after = session.view
    assert after.head.faces is before.head.faces and after.head.uv is before.head.uv  # the same extraction
    assert after.texture is before.texture
    mouth = np.linalg.norm(after.head.landmarks[48:68] - before.head.landmarks[48:68], axis=1)
    assert mouth.max() > 0.2  # the mouth moved by more than 2 mm
    panel.strength.value = 0.0  # no offset from neutral
    neutral = session.view
    assert after.head.faces is neutral.head.faces
    panel.expression.value, panel.strength.value = "from the prompt", 1.0


def test_the_view_receives_the_mesh_and_the_texture_unchanged(panel):
    view, viewer = panel.session.view, panel.viewer
    positions = np.frombuffer(viewer.positions, dtype="<f4").reshape(-1, 3)
    indices = np.frombuffer(viewer.indices, dtype="<u4").reshape(-1, 3)
    uvs = np.frombuffer(viewer.uvs, dtype="<f4").reshape(-1, 2)
    normals = np.frombuffer(viewer.normals, dtype="<f4").reshape(-1, 3)
    assert np.abs(positions - view.head.vertices).max() < 1e-5 and (indices == view.head.faces).all()
    assert np.abs(uvs - view.head.uv).max() < 1e-6 and np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-4)
    texture = np.asarray(Image.open(io.BytesIO(viewer.texture)), dtype=float) / 255.0
    assert texture.shape == view.texture.shape and np.abs(texture - view.texture).max() <= 0.5 / 255 + 1e-6
    assert len(np.frombuffer(viewer.landmarks, dtype="<f4")) == 68 * 3
    # The GLB link holds the same mesh.
    import trimesh

    encoded = panel.download.value.split("base64,")[1].split('"')[0]
    glb = trimesh.load(io.BytesIO(base64.b64decode(encoded)), file_type="glb", force="mesh")
    assert len(glb.faces) == len(view.head.faces)


def test_without_a_front_end_the_panel_is_a_picture_of_the_head(panel):
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(bundle["image/png"]))), dtype=float) / 255.0
    assert picture.shape[1] == 3 * picture.shape[0]  # front, three-quarter, profile
    assert (np.abs(picture - 1.0).max(axis=2) > 0.05).mean() > 0.1  # a head on the white background


def test_errors_show_in_the_panel_and_leave_the_head(panel):
    shown = panel.session.view
    panel.prompt.value = "   "
    assert "Type a prompt first" in panel.error.value and panel.progress.bar_style == "danger"
    assert panel.session.view is shown
    with pytest.raises(ValueError, match="Unknown expression 'yawning'"):
        panel.session.reshape(expression="yawning")


def test_texture_off_shows_the_uv_checker_and_the_normal_map_stays(panel):
    panel.prompt.value = PROMPT  # after the error test's empty prompt: generates again
    panel.textured.value = False
    view = panel.session.view
    assert view.texture is None and "texture" not in view.seconds and panel.viewer.mode == "UV checker"
    assert panel.viewer.texture == b"" and len(panel.viewer.normal_map) > 1000  # the GLB wears it
    panel.textured.value = True
    assert panel.viewer.normal_map == b""  # not computed for a textured head until the view shows it
    panel.mode.value = "normal map"
    normal_map = np.asarray(Image.open(io.BytesIO(panel.viewer.normal_map)), dtype=float) / 255.0
    assert np.abs(normal_map - panel.session.view.normal_map).max() <= 0.5 / 255 + 1e-6
    panel.mode.value = "texture"
    assert panel.session.view.texture is not None and panel.error.value == ""


def test_the_served_notebook_is_valid_and_builds_the_panel():
    from cliphead.cli.explore import explorer_notebook

    notebook = nbformat.reads(json.dumps(explorer_notebook("a smiling woman")), as_version=4)
    nbformat.validate(notebook)
    assert "explorer(prompt='a smiling woman')" in notebook.cells[1].source
