"""The command line as a user runs it: files written, the JSON last line, clear errors, no tracebacks."""

from __future__ import annotations

import argparse
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
        run("sample", "head", "--seed", "4", "--expression", "smirk", "--remesh", "96", "--out", str(out))
    )
    assert payload["n_vertices"] > 5000 and payload["expression"] == "smirk"
    return out


def test_help_shows_the_grammar_and_every_command():
    result = run("--help")
    assert "usage: cliphead" in result.stdout and "VERB [OBJECT] ARGS" in result.stdout
    for listed in (
        "generate, text2head, texture, render, explore, reproduce",
        "sample head|world",
        "align uv",
        "score clip",
    ):
        assert listed in result.stdout, listed


def test_every_command_has_help_with_examples(capsys):
    from cliphead.cli import build_parser, register_commands

    parser = build_parser()
    tree = register_commands(argparse.ArgumentParser(prog="cliphead"))
    verbs = {command.split()[0] for command in tree.with_object}
    assert len(tree.standalone) + len(tree.with_object) == 26 and len(verbs) == 9
    for command in [*tree.standalone, *tree.with_object, *verbs]:
        with pytest.raises(SystemExit) as done:
            parser.parse_args([*command.split(), "--help"])
        text = capsys.readouterr().out
        assert done.value.code == 0 and text.startswith(f"usage: cliphead {command} "), command
        assert f"\n  cliphead {command}" in "\n" + text.split("\nexamples:\n")[1], command


@pytest.mark.parametrize(
    "old", [["assets", "check"], ["head", "sample"], ["appearance", "sample"], ["uv", "align"], ["clip", "score"]]
)
def test_the_old_command_names_are_gone(old, capsys):
    from cliphead.cli import build_parser

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*old, "--help"])
    assert done.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_runtime_commands_never_load_the_lab_and_lab_commands_load_it_when_they_run(sampled, tmp_path):
    """The parser loads neither the lab nor torch (``cliphead --help`` answers in about a second); runtime commands
    run without the lab; a lab command loads it when it runs."""
    runtime = [
        ["check", "assets"],
        ["sample", "head", "--seed", "1", "--out", str(tmp_path / "ict.obj")],
        ["align", "uv", str(sampled), "--out", str(tmp_path / "uv"), "--size", "64"],
        [
            "render",
            str(tmp_path / "uv" / "mesh.obj"),
            "--views",
            "front,30",
            "--size",
            "48",
            "--out",
            str(tmp_path / "v"),
        ],
    ]
    lab = ["sample", "world", "--size", "128", "--captions", "2", "--no-preview", "--out", str(tmp_path / "world")]
    script = "\n".join(
        [
            "import json, sys",
            "from cliphead.cli import build_parser, main",
            "def lab(): return sorted(name for name in sys.modules if name.startswith('cliphead.lab'))",
            "build_parser()",
            "assert 'torch' not in sys.modules, 'building the parser (cliphead --help) imports torch'",
            "print('LAB', json.dumps(lab()))",
            f"for argv in {runtime!r}: assert main(argv) == 0, argv",
            "print('LAB', json.dumps(lab()))",
            f"assert main({lab!r}) == 0",
            "print('LAB', json.dumps(lab()))",
        ]
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = [json.loads(line[4:]) for line in result.stdout.splitlines() if line.startswith("LAB ")]
    assert loaded[0] == [] and loaded[1] == []  # the parser, then four runtime commands
    assert "cliphead.lab.world.records" in loaded[2]
    assert sorted(path.name for path in (tmp_path / "v").iterdir()) == [
        "normal_30.0.png",
        "normal_front.png",
        "normal_views.png",
    ]


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


def test_check_assets_reports_the_model():
    payload = last_json(run("check", "assets"))
    assert payload["n_vertices"] == 26719 and payload["n_landmarks"] == 68


def test_sample_head_writes_mesh_and_landmarks(sampled):
    vertices, faces = load_mesh(sampled)
    landmarks = read_landmarks(sampled.with_name("head.landmarks.json"))
    distance = np.linalg.norm(vertices[None] - landmarks[:, None], axis=-1).min(axis=1)
    assert np.median(distance) < 0.3  # the landmarks lie on (or next to) the re-meshed surface, in cm


def test_sample_head_never_overwrites(sampled):
    result = run("sample", "head", "--out", str(sampled), check=False)
    assert result.returncode == 2 and "--force" in result.stderr and "Traceback" not in result.stderr


def test_align_uv_writes_everything_and_reports_json(sampled, tmp_path):
    out = tmp_path / "uv"
    metrics = last_json(run("align", "uv", str(sampled), "--out", str(out), "--size", "256"))
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
    again = run("align", "uv", str(sampled), "--out", str(out), check=False)
    assert again.returncode == 2 and "--force" in again.stderr


def test_align_uv_refuses_bad_input_cleanly(tmp_path):
    garbage = tmp_path / "bad.obj"
    garbage.write_bytes(b"\x00\xff not a mesh")
    result = run("align", "uv", str(garbage), "--out", str(tmp_path / "o"), check=False)
    assert result.returncode == 2 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_align_uv_of_a_closed_sphere_cuts_it_then_finds_no_face(tmp_path):
    closed = tmp_path / "closed.obj"
    import trimesh

    trimesh.creation.icosphere(4, radius=12.0).export(closed)
    result = run("align", "uv", str(closed), "--out", str(tmp_path / "o"), check=False)
    assert result.returncode == 2 and "FaceMesh found a face in 0 of 3 renders" in result.stderr
    strict = run("align", "uv", str(closed), "--out", str(tmp_path / "o"), "--no-repair", check=False)
    assert strict.returncode == 2 and "closed" in strict.stderr and "--crop-neck" in strict.stderr


def test_render_textured_views(sampled, tmp_path):
    aligned = tmp_path / "uv"
    run("align", "uv", str(sampled), "--out", str(aligned), "--size", "128")
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
    baseline = payload["baseline"]
    timings = {timing["label"]: timing for timing in payload["timings"]}
    assert baseline["label"] == "harmonic map to a circle (libigl)" and baseline["seconds"] > 0
    for label in ("check", "cut", "harmonic", "landmark_warp", "align with the landmark warp"):
        assert timings[label]["seconds"] > 0, label
    align = timings["align (check, cut, boundary, harmonic)"]
    # Seconds are rounded to 4 decimals in the payload, the ratio (of the unrounded times) to 3.
    low = (align["seconds"] - 5e-5) / (baseline["seconds"] + 5e-5) - 5e-4
    high = (align["seconds"] + 5e-5) / (baseline["seconds"] - 5e-5) + 5e-4
    assert low <= align["over_baseline"] <= high
    assert payload["targets"][0]["label"] == "align with the landmark warp"
    # The repair stage's path is held to three same-run harmonic solves.
    repair = payload["targets"][1]
    assert repair["label"].startswith("align with the repair stage") and timings[repair["label"]]["seconds"] > 0
    assert abs(repair["target_seconds"] - 3 * baseline["seconds"]) < 1e-3 and isinstance(repair["met"], bool)


def test_train_refuses_to_install_a_quick_model_before_training(tmp_path):
    result = run("train", "head-model", "--quick", "--install", "--out", str(tmp_path / "run"), check=False)
    assert result.returncode == 2 and "drop --quick" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # refused before any scan was built or step trained
