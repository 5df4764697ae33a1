"""`cliphead generate`: the whole pipeline with the embedded models, its files and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image


RUN = [sys.executable, "-m", "cliphead.cli"]
#: ``cliphead`` with ICT-FaceKit and the user cache out of reach: finding either raises, and on exit the
#: run prints which lab modules it loaded (none may be: inference never builds anything from the lab).
GUARDED_RUN = [
    sys.executable,
    "-c",
    "import atexit, sys\n"
    "import cliphead.assets as assets\n"
    "def refuse(*args, **kwargs):\n"
    "    raise AssertionError('inference touched ICT-FaceKit or the user cache')\n"
    "assets.find_ict_facekit = assets.load_cached_npz = refuse\n"
    "atexit.register(lambda: print('lab modules:', sorted(m for m in sys.modules if m.startswith('cliphead.lab'))))\n"
    "from cliphead.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n",
]


def finished(command: list[str], **kwargs) -> dict:
    """The return code and output of a command, as JSON can hold them."""
    run = subprocess.run(command, capture_output=True, text=True, **kwargs)
    return {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}


def generate_guarded(folder: Path) -> dict:
    """One head from a guarded run: an empty ICT folder and cache, neither reachable."""
    empty = {"CLIPHEAD_ICT_DIR": str(folder / "no-ict"), "CLIPHEAD_CACHE": str(folder / "no-cache")}
    for path in empty.values():
        Path(path).mkdir()
    command = [*GUARDED_RUN, "generate", "a laughing old man with a grey beard", "--out", str(folder / "head")]
    return finished(command + ["--res", "128", "--steps", "10"], env={**os.environ, **empty})


def generate_batch(folder: Path) -> dict:
    """A prompt file's two heads, one model load."""
    prompts = folder / "prompts.txt"
    prompts.write_text("# two prompts, one model load\na young woman with red hair\nan old man with a white beard\n")
    command = [*RUN, "generate", "--prompts", str(prompts), "--out", str(folder / "batch"), "--res", "96"]
    return finished(command + ["--steps", "8", "--no-rectify"])


# Each run is made once for all xdist workers; the first two tests need one each, so the two workers
# start one run each.
@pytest.fixture(scope="module")
def generated(built_once):
    """The guarded run's head folder and its output."""
    folder, record = built_once("generated", generate_guarded)
    return folder / "head", SimpleNamespace(**record)


@pytest.fixture(scope="module")
def generated_batch(built_once):
    """The batch's output folder and its output."""
    folder, record = built_once("generated-batch", generate_batch)
    return folder / "batch", SimpleNamespace(**record)


@pytest.mark.slow
def test_generate_writes_every_file(generated):
    import trimesh

    out, single = generated
    assert single.returncode == 0, single.stderr[-2000:]
    for name in (
        "head.obj",
        "head.mtl",
        "texture.png",
        "head.glb",
        "head.landmarks.json",
        "uv_normal.png",
        "preview.png",
        "turntable.gif",
        "meta.json",
    ):
        assert (out / name).is_file(), name
    glb = trimesh.load(out / "head.glb", force="mesh")
    assert glb.visual.uv.shape == (len(glb.vertices), 2) and glb.visual.material.baseColorTexture is not None
    assert 0.1 < np.ptp(glb.vertices[:, 1]) < 0.5  # metres: a head is 20-40 cm tall
    gif = Image.open(out / "turntable.gif")
    assert gif.n_frames == 24
    meta = json.loads((out / "meta.json").read_text())
    assert set(meta["seconds"]) == {"text", "geometry", "normal map", "texture", "rectification"}
    assert len(meta["backends"]["texture"]["weights_sha256"]) == 3 and meta["settings"]["sampling"]["steps"] == 10
    assert len(json.loads((out / "head.landmarks.json").read_text())["landmarks"]) == 68
    *_, json_line, guard_line = single.stdout.strip().splitlines()
    assert json.loads(json_line)["heads"][0]["total_seconds"] > 0
    assert guard_line == "lab modules: []"


def test_generate_runs_a_prompt_file_into_subfolders(generated_batch):
    out, batch = generated_batch
    assert batch.returncode == 0, batch.stderr[-2000:]
    folders = sorted(path.name for path in out.iterdir())
    assert folders == ["00_a_young_woman_with_red_hair", "01_an_old_man_with_a_white_beard"]
    heads = json.loads(batch.stdout.strip().splitlines()[-1])["heads"]
    assert [h["rectified"] for h in heads] == [False, False]


def test_generate_refuses_to_overwrite(generated):
    out, _ = generated
    again = subprocess.run([*RUN, "generate", "a face", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


def test_generate_needs_a_prompt(tmp_path):
    result = subprocess.run([*RUN, "generate", "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert result.returncode == 2 and "PROMPT" in result.stderr


@pytest.mark.slow
def test_generate_textures_a_given_mesh_in_its_own_frame(generated, tmp_path):
    """The generated head, turned z-up in millimetres and without its landmarks, textured with --mesh."""
    from cliphead.meshes import load_mesh, write_obj

    out, single = generated
    assert single.returncode == 0, single.stderr[-2000:]
    vertices, faces = load_mesh(out / "head.obj")
    turned = vertices @ np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]).T * 10.0  # y up -> z up, cm -> mm
    write_obj(tmp_path / "scan.obj", turned, faces)
    result = subprocess.run(
        [*GUARDED_RUN, "generate", "an old woman with red lipstick", "--mesh", str(tmp_path / "scan.obj")]
        + ["--out", str(tmp_path / "textured"), "--steps", "8"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = {path.name for path in (tmp_path / "textured").iterdir()}
    assert names >= {"head.obj", "texture.png", "head.glb", "head.landmarks.json", "preview.png", "meta.json"}
    meta = json.loads((tmp_path / "textured" / "meta.json").read_text())
    assert "z_id" not in meta and meta["mesh"]["landmarks"] == "detected"
    assert meta["mesh"]["frame"]["up"] == "z" and meta["mesh"]["frame"]["scale_to_cm"] == 0.1
    written, _ = load_mesh(tmp_path / "textured" / "head.obj")
    assert np.allclose(written.min(axis=0), turned.min(axis=0), atol=0.05)  # millimetres, z up, as given
    assert result.stdout.strip().splitlines()[-1] == "lab modules: []"
