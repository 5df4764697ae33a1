"""The command line as a user runs it: files written, the JSON last line, clear errors, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cliphead.heads.io import read_landmarks
from cliphead.meshes import load_mesh, read_obj_uv


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "cliphead.cli", *args], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def last_json(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "head.obj"
    payload = last_json(
        run("head", "sample", "--seed", "4", "--expression", "smirk", "--remesh", "96", "--out", str(out))
    )
    assert payload["n_vertices"] > 5000 and payload["expression"] == "smirk"
    return out


def test_help_explains_every_command():
    for command in (
        ["--help"],
        ["head", "sample", "--help"],
        ["uv", "align", "--help"],
        ["render", "--help"],
        ["bench", "uv", "--help"],
        ["reproduce", "--help"],
        ["assets", "check", "--help"],
    ):
        result = run(*command)
        assert "usage: cliphead" in result.stdout


@pytest.mark.parametrize("command", ["generate", "texture"])
def test_sampling_flags_default_to_the_samplers_defaults(command):
    from dataclasses import asdict

    from cliphead.cli import build_parser
    from cliphead.texture.sampling import DEFAULT_SAMPLING

    positional = {"generate": ["a prompt"], "texture": ["mesh_dir", "a prompt"]}[command]
    args = build_parser().parse_args([command, *positional, "--out", "out"])
    flags = {
        "steps": args.steps,
        "guidance_scale": args.guidance,
        "control_strength": args.control_strength,
        "guidance_rescale": args.guidance_rescale,
        "clamp_colours": not args.no_colour_clamp,
    }
    assert flags == {key: value for key, value in asdict(DEFAULT_SAMPLING).items() if key != "seed"}


def test_assets_check_reports_the_model():
    payload = last_json(run("assets", "check"))
    assert payload["n_vertices"] == 26719 and payload["n_landmarks"] == 68


def test_head_sample_writes_mesh_and_landmarks(sampled):
    vertices, faces = load_mesh(sampled)
    landmarks = read_landmarks(sampled.with_name("head.landmarks.json"))
    distance = np.linalg.norm(vertices[None] - landmarks[:, None], axis=-1).min(axis=1)
    assert np.median(distance) < 0.3  # the landmarks lie on (or next to) the re-meshed surface, in cm


def test_head_sample_never_overwrites(sampled):
    result = run("head", "sample", "--out", str(sampled), check=False)
    assert result.returncode == 2 and "--force" in result.stderr and "Traceback" not in result.stderr


def test_uv_align_writes_everything_and_reports_json(sampled, tmp_path):
    out = tmp_path / "uv"
    metrics = last_json(run("uv", "align", str(sampled), "--out", str(out), "--size", "256"))
    for name in ("mesh.obj", "mesh.mtl", "uv_normal.png", "preview.png", "metrics.json", "landmarks_uv.json"):
        assert (out / name).is_file(), name
    assert metrics == json.loads((out / "metrics.json").read_text())
    for key in ("qce_median", "ase_median", "n_vertices", "n_faces", "seconds"):
        assert key in metrics
    assert 1.0 <= metrics["qce_median"] < 2.0 and metrics["landmark_warp"] is True
    vertices, _ = load_mesh(out / "mesh.obj")
    uv = read_obj_uv(out / "mesh.obj")
    assert uv.shape == (len(vertices), 2) == (metrics["n_vertices"], 2)
    assert Image.open(out / "uv_normal.png").size == (256, 256)
    again = run("uv", "align", str(sampled), "--out", str(out), check=False)
    assert again.returncode == 2 and "--force" in again.stderr


def test_uv_align_refuses_bad_input_cleanly(tmp_path):
    garbage = tmp_path / "bad.obj"
    garbage.write_bytes(b"\x00\xff not a mesh")
    result = run("uv", "align", str(garbage), "--out", str(tmp_path / "o"), check=False)
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_uv_align_of_a_closed_head_suggests_the_neck_crop(tmp_path):
    closed = tmp_path / "closed.obj"
    import trimesh

    trimesh.creation.icosphere(4, radius=12.0).export(closed)
    result = run("uv", "align", str(closed), "--out", str(tmp_path / "o"), check=False)
    assert result.returncode == 2 and "closed" in result.stderr and "--crop-neck" in result.stderr


def test_render_textured_views(sampled, tmp_path):
    aligned = tmp_path / "uv"
    run("uv", "align", str(sampled), "--out", str(aligned), "--size", "128")
    payload = last_json(
        run(
            "render",
            str(aligned / "mesh.obj"),
            "--texture",
            str(aligned / "uv_normal.png"),
            "--kind",
            "textured",
            "--size",
            "96",
            "--out",
            str(tmp_path / "views"),
        )
    )
    assert len(payload["files"]) == 4
    front = np.asarray(Image.open(tmp_path / "views" / "textured_front.png"))
    assert (front.reshape(-1, 3) != 255).any(axis=1).mean() > 0.2  # the head covers the picture


def test_bench_uv_reports_steps_and_baseline_ratio():
    payload = last_json(run("bench", "uv", "--resolution", "64", "--repeats", "1"))
    for key in (
        "seconds_check",
        "seconds_cut",
        "seconds_harmonic",
        "seconds_landmark_warp",
        "seconds_baseline_harmonic_circle",
        "ratio_align_to_baseline",
    ):
        assert payload[key] > 0, key
    assert payload["ratio_align_to_baseline"] == pytest.approx(
        payload["seconds_align"] / payload["seconds_baseline_harmonic_circle"], rel=0.01
    )
