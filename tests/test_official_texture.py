"""The released CLIP-Head texture stage and UV layout, without the released weights.

The weights and layout files are the user's; here they are stand-ins in the exact formats: tiny diffusers
folders (``save_pretrained``) for Stable Diffusion 2.1-base + ControlNet_uv and SD 2-inpainting, and a
reference OBJ + seam indices made from one of the project's heads.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import igl
import numpy as np
import pytest
from official_fakes import save_fake_official_layout
from cliphead.lab.tiny_diffusers import save_tiny_controlnet_pipeline, save_tiny_inpainting_pipeline

from cliphead.meshes import MeshError
from cliphead.texture.backends import check_layout
from cliphead.texture.official import (
    OfficialSettings,
    encode_official_normals,
    official_normal_map,
    parse_official_spec,
)
from cliphead.texture.official_rectify import inpaint_mask, paste_face
from cliphead.uv.official import load_official_layout, official_uv, read_uv_obj, weld_seam

#: Settings small enough for the tiny pipelines on a CPU: 2 steps, 64 px passes.
TINY = {"steps": 2, "pass_size": 64, "seam_size": 64, "warp_size": 64}


@pytest.fixture(scope="module")
def heads():
    """Two of the embedded model's neutral heads, welded back along the aligned layout's seam (ICT frame)."""
    from cliphead.heads.checkpoints import cached_head_model
    from cliphead.uv.aligned import aligned_model_head

    model = cached_head_model(None)
    cut = [aligned_model_head(model, model.sample_identity_code(seed), None, 96) for seed in (0, 1)]
    return [weld_seam(head.vertices, head.faces) for head in cut]


@pytest.fixture(scope="module")
def layout_files(heads, tmp_path_factory):
    return save_fake_official_layout(*heads[0], tmp_path_factory.mktemp("official_layout"))


def test_normal_encoding_is_the_released_one():
    # uint8(255 (n + 2π) / 4π), channels (n_z, n_y, n_x): 1 → 147, 0 → 127, -1 → 107.
    normals = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    assert encode_official_normals(normals).tolist() == [[147, 127, 127], [127, 127, 147], [127, 107, 127]]


def test_the_layout_round_trips_its_reference_and_lays_out_another_head(heads, layout_files):
    layout = load_official_layout("official:{},{}".format(*layout_files))
    _, _, reference_uv = read_uv_obj(layout_files[0])
    same = official_uv(*heads[0], layout)
    assert np.abs(same.uv - reference_uv).max() < 1e-5
    # A cut head whose seam copies moved by rounding (as after a frame change) welds back into one surface.
    cut = official_uv(*heads[1], layout)
    jittered = cut.vertices + np.random.default_rng(0).normal(0, 1e-9, cut.vertices.shape)
    welded_vertices, welded_faces = weld_seam(jittered, cut.faces)
    assert len(welded_vertices) == len(heads[1][0]) and len(igl.boundary_loop_all(welded_faces)) == 1
    other = official_uv(welded_vertices, welded_faces, layout)
    assert other.uv.min() >= 0.0 and other.uv.max() <= 1.0
    corners = other.uv[other.faces]
    doubled_areas = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    assert (doubled_areas < 0).mean() < 0.001  # a bijective map: no face turned over
    assert len(igl.boundary_loop_all(other.faces)) == 1 and len(other.seam) == len(cut.seam)
    # The seam runs down the back of the head, behind the face.
    assert (other.vertices[other.seam, 2] < heads[1][0][:, 2].mean()).mean() > 0.5

    face_window = official_normal_map(other.vertices, other.faces, other.uv, 128)
    assert face_window.dtype == np.uint8 and (face_window == 0).all(axis=-1).any()  # black where no surface maps
    covered = face_window[(face_window > 0).any(axis=-1)]
    assert covered.min() >= 107 and covered.max() <= 147


def test_wrong_layout_files_are_refused(layout_files, tmp_path):
    reference, seam = layout_files
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_official_layout(f"official:{tmp_path / 'missing.obj'},{seam}")
    np.save(tmp_path / "far.npy", np.array([10**7]))
    with pytest.raises(MeshError, match="is not the seam of"):
        load_official_layout(f"official:{reference},{tmp_path / 'far.npy'}")
    (tmp_path / "plain.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    with pytest.raises(MeshError, match="texture coordinates"):
        load_official_layout(f"official:{tmp_path / 'plain.obj'},{seam}")
    with pytest.raises(ValueError, match="REF_OBJ,SEAM_NPY"):
        load_official_layout("official:only-one-file.obj")


def test_backend_and_layout_are_refused_apart_and_specs_say_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="go together"):
        check_layout("official:cn,base=b,inpaint=i", "aligned")
    with pytest.raises(ValueError, match="go together"):
        check_layout("embedded", "official:ref.obj,seam.npy")
    with pytest.raises(ValueError, match="Unknown UV layout"):
        check_layout("embedded", "paper")
    with pytest.raises(ValueError, match="base=SD21_BASE_DIR"):
        parse_official_spec(f"official:{tmp_path}")
    with pytest.raises(FileNotFoundError, match="not a diffusers controlnet folder"):
        parse_official_spec(f"official:{tmp_path},base={tmp_path},inpaint={tmp_path}")


def test_the_cli_settings_flag_names_every_official_setting():
    from cliphead.cli.pipeline import OFFICIAL_FIELDS

    assert OFFICIAL_FIELDS == [field.name for field in dataclasses.fields(OfficialSettings)]


def test_rectification_moves_the_full_textures_face_onto_the_face_pass():
    """A painter texture, lit by its head's normals so FaceMesh sees a face, with its face moved by 4% of the
    crop: the warp brings FaceMesh's points back onto the unmoved face's, directly and through a canonical set
    of face UVs (here the unmoved face's own points)."""
    from scipy.ndimage import shift

    from cliphead.facemesh import facemesh_points
    from cliphead.lab.world.attributes import sample_attributes
    from cliphead.lab.world.painter import paint_texture
    from cliphead.lab.world.renders import head_bank
    from cliphead.texture.crop import face_box
    from cliphead.texture.landmarks import SHADING_BLUR, lambert_shade
    from cliphead.uv.bake import uv_normal_map

    head = head_bank(1, 0)[0]
    painted = paint_texture(sample_attributes(np.random.default_rng(2)), 512, 2)
    lit = lambert_shade(painted, uv_normal_map(head.vertices, head.faces, head.uv, 512), SHADING_BLUR * 512)
    texture = (lit * 255).round().astype(np.uint8)
    left, top, side = (int(round(value)) for value in face_box().pixels(512))
    box = (left, top, side, side)
    face = texture[top : top + side, left : left + side]
    moved = texture.copy()
    moved[top : top + side, left : left + side] = shift(face, (side * 0.04, side * 0.03, 0), order=1, mode="nearest")
    direct = paste_face(moved, face, box, 256, None)
    assert direct.rectification.warped and direct.rectification.error_before > 0.03
    assert direct.rectification.error_after < direct.rectification.error_before / 2
    canonical = facemesh_points(face.astype(np.float32) / 255)[:468] / side
    routed = paste_face(moved, face, box, 256, np.clip(canonical, 0, 1))
    assert routed.rectification.error_after < routed.rectification.error_before / 2
    mask = inpaint_mask(np.ones_like(texture), box, direct.covered, frame=10, dilation=25)
    assert mask[top - 5, left + side // 2].all() and not mask[top + side // 2, left + side // 2].any()


def test_generate_runs_the_official_backend_end_to_end_on_tiny_pipelines(layout_files, tmp_path):
    base = save_tiny_controlnet_pipeline(tmp_path / "sd21-base")
    inpaint = save_tiny_inpainting_pipeline(tmp_path / "sd2-inpainting")
    out = tmp_path / "head"
    command = [sys.executable, "-m", "cliphead.cli", "generate", "a woman with red hair", "--res", "96"]
    command += ["--texture-backend", f"official:{base / 'controlnet'},base={base},inpaint={inpaint}"]
    command += ["--layout", "official:{},{}".format(*layout_files), "--official-settings", json.dumps(TINY)]
    run = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["backends"]["layout"]["backend"].startswith("official:") and meta["settings"]["official"]["steps"] == 2
    assert {"sampling", "rectify"}.isdisjoint(meta["settings"]) and meta["seconds"]["inpaint"] > 0
    from PIL import Image

    texture = np.asarray(Image.open(out / "texture.png"))
    assert texture.shape[:2] == (64, 64) and texture.std() > 0
    normals = np.asarray(Image.open(out / "uv_normal.png"))
    assert normals.max() <= 147 and np.median(normals[normals.sum(axis=-1) > 0]) >= 107
    mismatched = subprocess.run(
        [*command[:-4], "--out", str(tmp_path / "refused")], capture_output=True, text=True
    )  # the official backend without its layout
    assert mismatched.returncode == 2 and "go together" in mismatched.stderr
