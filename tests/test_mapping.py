"""Pair generation, the mapping networks, their training, text → head and the faithfulness measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cliphead.lab.world.vocabulary import EXPRESSION_PHRASES, caption_words
from cliphead.heads.expressions import EXPRESSION_LABELS
from cliphead.lab.mapping.prompts import (
    EXPRESSION_WORDINGS,
    HELD_OUT_EXPRESSIONS,
    NO_FACE_HELD_OUT,
    NO_FACE_TRAINING,
    SHARED_EXPRESSION_WORDS,
    evaluation_prompts,
    expression_training_prompts,
    identity_caption,
)

TINY_PAIRS = {"n_identities": 3, "views_per_identity": 2, "kept": 2, "seed": 7}


@pytest.fixture(scope="module")
def head_model():
    from cliphead.heads.checkpoints import load_head_model

    return load_head_model()


@pytest.fixture(scope="module")
def encoder():
    from cliphead.clip.registry import cached_encoder

    return cached_encoder()


@pytest.fixture(scope="module")
def tiny_renders():
    from cliphead.lab.mapping.pairs import IdentityPairConfig, load_identity_renders

    return load_identity_renders(IdentityPairConfig(**TINY_PAIRS), workers=1)


def test_extract_disk_gives_a_disk_the_aligned_uv_accepts(head_model):
    from cliphead.heads.generation import extract_canonical, extract_disk
    from cliphead.meshes import boundary_loops, euler_characteristic
    from cliphead.uv.aligned import aligned_uv
    from cliphead.uv.checks import prepare_head_mesh
    from cliphead.uv.distortion import quasi_conformal_error

    z_id = head_model.sample_identity_code(1)  # its zero level set has handles at this resolution
    plain = extract_canonical(head_model, z_id, 96)
    assert euler_characteristic(plain.faces) < 1
    disk = extract_disk(head_model, z_id, 96)
    assert euler_characteristic(disk.faces) == 1 and len(boundary_loops(disk.faces)) == 1
    assert 0 < disk.level <= 1.5 * disk.grid.spacing
    prepared = prepare_head_mesh(disk.vertices, disk.faces)
    landmarks = head_model.canonical_landmarks(z_id).detach().double().numpy()
    aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=landmarks)
    assert np.median(quasi_conformal_error(aligned.vertices, aligned.faces, aligned.uv)) < 2.0


def test_identity_renders_are_deterministic_and_consistent(tiny_renders, head_model):
    from cliphead.lab.mapping.pairs import IdentityPairConfig, identity_render_build

    renders = tiny_renders
    assert renders.images.shape == (6, 96, 96, 3) and renders.normals.shape == (2, 96, 96, 3)
    assert renders.codes.shape == (3, 64) and renders.measures.shape == (3, 9)
    assert np.array_equal(renders.identity, [0, 0, 1, 1, 2, 2])
    assert np.abs(renders.yaw).max() <= 60.0
    # Each image shows a head on its background; the normal map's face points at the camera (blue > 0.5).
    assert (renders.images.std(axis=(1, 2)) > 10).all()
    # Each code is the model's own sample for the seed the identity recorded.
    again = identity_render_build(IdentityPairConfig(**{**TINY_PAIRS, "n_identities": 1})).build(workers=1)
    assert np.array_equal(again["codes"][0], renders.codes[0])
    assert np.array_equal(again["images"][:2], renders.images[:2])
    for record, prompt in zip(renders.records, renders.prompts):
        assert record.age in prompt and record.gender in prompt and prompt.endswith("a neutral expression")


def test_identity_captions_name_the_measured_words(tiny_renders, encoder):
    from cliphead.lab.mapping.pairs import identity_pairs

    pairs = identity_pairs(tiny_renders, encoder)
    assert pairs.image_psi.shape == pairs.caption_psi.shape == (6, encoder.dim)
    assert np.allclose(np.linalg.norm(pairs.image_psi, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(pairs.z_id[2], tiny_renders.codes[1])
    for k, caption in enumerate(pairs.captions):
        words = tiny_renders.words(int(tiny_renders.identity[k]))
        assert caption.startswith(tiny_renders.prompts[k])
        for word in words.values():
            assert (word is None) or (f"a {word}" in caption)
    # With three identities the tertiles put exactly one identity below and one above on every measure.
    counts = [sum(tiny_renders.words(i)[name] is not None for i in range(3)) for name in tiny_renders.tertiles()]
    assert counts == [2] * 9


def test_identity_caption_joins_words():
    from cliphead.lab.world.attributes import Attributes

    caption = identity_caption(
        Attributes(age="old"), {"face_length": "long face", "chin": None, "nose_width": "wide nose"}
    )
    assert caption.endswith("a neutral expression, with a long face and a wide nose")
    assert identity_caption(Attributes(), {"chin": None}).endswith("a neutral expression")


def test_prompt_sets_are_disjoint():
    training = expression_training_prompts(4)
    assert len(training) == 4 * 23 and {label for _, label in training} == set(EXPRESSION_LABELS)
    assert 0.3 < np.mean([text.startswith("A face of") for text, _ in expression_training_prompts(40)]) < 0.7
    for label in EXPRESSION_LABELS:
        assert EXPRESSION_WORDINGS[label][:3] == EXPRESSION_PHRASES[label] and len(EXPRESSION_WORDINGS[label]) == 8
        held = set().union(*(caption_words(text) for text in HELD_OUT_EXPRESSIONS[label]))
        trained = set().union(*(caption_words(text) for text in EXPRESSION_WORDINGS[label]))
        assert held & trained <= SHARED_EXPRESSION_WORDS, label
    prompts = evaluation_prompts()
    assert len(prompts) == 2 * 23 * 3 + 18 * 3
    assert not {p.text for p in prompts} & {text for text, _ in training}
    assert not set(NO_FACE_HELD_OUT) & set(NO_FACE_TRAINING)


def test_mapping_mlp_shape_skip_and_round_trip(tmp_path):
    from cliphead.mapping.networks import MapperConfig, MappingMLP, load_mapper, save_mapper

    mapper = MappingMLP(MapperConfig(input_dim=12, output_dim=5, hidden=16))
    assert len(mapper.linears) == 8 and mapper.linears[3].in_features == 16 + 12
    mapper.set_output_statistics(torch.randn(50, 5) * 0.1 + 2.0)
    psi = torch.randn(4, 12)
    path = save_mapper(mapper, tmp_path / "m.safetensors", {"command": "test"}, dtype=torch.float32)
    loaded, provenance = load_mapper(path)
    assert provenance == {"command": "test"}
    assert torch.allclose(loaded(psi), mapper(psi))
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a cliphead mapper"):
        load_mapper(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError, match="train mappers"):
        load_mapper(tmp_path / "missing.safetensors")


def test_training_learns_a_held_out_mapping_and_the_cyclic_variant_runs():
    from cliphead.lab.mapping.training import (
        MapperTrainingConfig,
        TrainingSet,
        cyclic_ablation,
        summarise_ablation,
        train_mapper,
    )

    rng = np.random.default_rng(0)
    psi = rng.normal(size=(400, 16)).astype(np.float32)
    psi /= np.linalg.norm(psi, axis=1, keepdims=True)
    targets = (psi @ rng.normal(size=(16, 4)) * 0.1).astype(np.float32)
    data = TrainingSet(psi, targets, np.arange(400) // 2)
    train, held = data.split(0.1, seed=0)
    assert len(held) == 40 and not set(data.groups[train]) & set(data.groups[held])
    config = MapperTrainingConfig(epochs=15, learning_rate=1e-3)
    run = train_mapper(data, config, hidden=64, progress=False)
    baseline = float(targets[held].var(0).mean())
    assert run.held_out_mse < 0.2 * baseline
    assert run.history["held_out_mse"].iloc[-1] < run.history["held_out_mse"].iloc[0]
    rows, runs = cyclic_ablation({"toy": data}, seeds=(0, 1), config=MapperTrainingConfig(epochs=2), workers=2)
    assert list(rows["loss"]) == ["L2", "L2", "L2 + cyclic", "L2 + cyclic"]
    assert runs["toy", "L2 + cyclic", 0].backward is not None and runs["toy", "L2", 0].backward is None
    assert (runs["toy", "L2 + cyclic", 1].history["train_cyclic"] > 0).all()
    summary = summarise_ablation(rows)
    assert list(summary["seeds"]) == [2, 2] and summary["held_out_mse_std"].notna().all()


def test_input_noise_moves_psi_by_its_norm_and_validation_never_sees_evaluation_wordings():
    from cliphead.lab.mapping.training import noisy
    from cliphead.lab.mapping.wording_validation import VALIDATION_WORDINGS, wording_split

    psi = torch.nn.functional.normalize(torch.randn(500, 384), dim=-1)
    moved = noisy(psi, 0.3, torch.Generator().manual_seed(0))
    assert torch.allclose(moved.norm(dim=-1), torch.ones(500), atol=1e-5)
    assert 0.26 < float((moved - psi).norm(dim=-1).mean()) < 0.31  # 0.3 / sqrt(1 + 0.3²) after renormalising
    kept, left_out = wording_split()
    for label in EXPRESSION_LABELS:
        assert len(left_out[label]) == VALIDATION_WORDINGS
        assert kept[label] + left_out[label] == EXPRESSION_WORDINGS[label]
        assert not set(left_out[label]) & set(HELD_OUT_EXPRESSIONS[label])


def test_shipped_expression_noise_is_the_committed_sweeps_best():
    import pandas as pd

    from cliphead.lab.mapping.recipe import EXPRESSION_INPUT_NOISE

    sweep = pd.read_csv(Path(__file__).resolve().parent.parent / "results" / "mapper_exp_noise.csv")
    best = sweep.loc[sweep["validation_accuracy"] == sweep["validation_accuracy"].max(), "input_noise"].min()
    assert EXPRESSION_INPUT_NOISE == best, sweep


def test_expression_measure_recognises_every_label(head_model):
    from cliphead.heads.generation import extract_disk
    from cliphead.lab.mapping.evaluation import deformation_features, nearest_expression, region_points

    z_id = head_model.sample_identity_code(3)
    extraction = extract_disk(head_model, z_id, 64 + 32)
    landmarks = head_model.canonical_landmarks(z_id).detach().double().numpy()
    regions = region_points(extraction.vertices, landmarks)
    assert [len(points) for points in regions] == [200] * 4
    features = np.stack(
        [
            deformation_features(head_model, z_id, regions, head_model.expression_code(label))
            for label in EXPRESSION_LABELS
        ]
    )
    assert np.abs(features[0]).max() < 0.05  # neutral barely moves the surface (cm)
    gaps = np.linalg.norm(features[:, None] - features[None], axis=-1) + np.eye(len(features)) * 1e9
    # The eyelids close over the kept eyeballs, so "eyes closed" moves the surface by under 0.2 mm: the one
    # label the head model's geometry barely tells from neutral. Every other pair differs clearly.
    closed = EXPRESSION_LABELS.index("eyes closed")
    assert 0.005 < gaps[0, closed] < 0.05
    gaps[0, closed] = gaps[closed, 0] = 1e9
    assert gaps.min() > 0.2
    for label in ("laughing", "jaw left", "puffed cheeks", "raised brows"):
        code = head_model.expression_code(label)
        assert nearest_expression(head_model, z_id, regions, code * 0.9)[0] == label


def test_shipped_mappers_text_to_head(head_model, encoder):
    from cliphead.heads.generation import head_validity
    from cliphead.mapping.text2head import TextToHead
    from cliphead.meshes import euler_characteristic

    text_to_head = TextToHead(encoder, head_model=head_model)
    first = text_to_head("a laughing old man with a long face", resolution=96)
    second = text_to_head("a laughing old man with a long face", resolution=96)
    assert np.array_equal(first.head.vertices, second.head.vertices)
    assert head_validity(first.head.vertices, first.head.faces)["valid"]
    assert first.uv_ready and euler_characteristic(first.head.faces) == 1  # ready for `cliphead align uv`
    varied = text_to_head(
        "a laughing old man with a long face", variation=0.3, generator=torch.Generator().manual_seed(1), resolution=96
    )
    assert not torch.equal(varied.codes.z_id, first.codes.z_id) and torch.equal(varied.codes.z_exp, first.codes.z_exp)
    # A prompt with no face words gives a head near the latent mean: much nearer than a random sample (~1 σ).
    for prompt in NO_FACE_HELD_OUT:
        generated = text_to_head(prompt, resolution=96)
        assert generated.identity_sigma < 0.5 and not generated.out_of_distribution, prompt
        assert head_validity(generated.head.vertices, generated.head.faces)["valid"], prompt


def test_text2head_cli_writes_mesh_and_landmarks(tmp_path):
    out = tmp_path / "head.obj"
    command = [
        sys.executable,
        "-m",
        "cliphead.cli",
        "text2head",
        "a surprised young woman",
        "--out",
        str(out),
        "--res",
        "96",
    ]
    run = subprocess.run(command, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    payload = json.loads(run.stdout.strip().splitlines()[-1])
    assert payload["vertices"] > 5000 and payload["identity_sigma"] < 2.0
    landmarks = json.loads((tmp_path / "head.landmarks.json").read_text())
    assert landmarks["prompt"] == "a surprised young woman" and np.array(landmarks["landmarks"]).shape == (68, 3)
    assert len(landmarks["z_id"]) == 64 and len(landmarks["z_exp"]) == 32
    again = subprocess.run(command, check=False, capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr
    empty = subprocess.run(
        command[:4] + ["  ", "--out", str(tmp_path / "e.obj")], check=False, capture_output=True, text=True
    )
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_controlnet_appearance_step_runs_a_local_diffusers_pipeline(tmp_path):
    from cliphead.lab.tiny_diffusers import save_tiny_controlnet_pipeline

    from cliphead.lab.mapping.pairs import IdentityPairConfig, identity_render_build
    from cliphead.lab.mapping.synthesis import build_synthesis

    folder = save_tiny_controlnet_pipeline(tmp_path / "controlnet-pipeline")
    config = IdentityPairConfig(n_identities=1, views_per_identity=2, kept=2, synthesis=f"controlnet:{folder}", seed=7)
    arrays = identity_render_build(config).build(workers=1)
    assert arrays["images"].shape == (2, 96, 96, 3) and arrays["images"].dtype == np.uint8
    assert arrays["images"].std() > 1  # a random network still paints something
    assert np.array_equal(identity_render_build(config).build(workers=1)["images"], arrays["images"])  # seeded
    procedural = identity_render_build(IdentityPairConfig(**TINY_PAIRS | {"n_identities": 1})).build(workers=1)
    assert np.array_equal(procedural["codes"], arrays["codes"])  # same identity, another appearance step
    with pytest.raises(FileNotFoundError, match="hubs"):
        build_synthesis(f"controlnet:{tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="procedural"):
        build_synthesis("stable-diffusion")


@pytest.mark.slow
def test_train_mappers_quick_writes_loadable_weights_and_two_processes_train_alike(tmp_path):
    from cliphead.mapping.networks import load_mapper

    command = [sys.executable, "-m", "cliphead.cli", "train", "mappers", "--quick", "--out", str(tmp_path)]
    run = subprocess.run(command, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    payload = json.loads(run.stdout.strip().splitlines()[-1])
    assert payload["pairs"]["MLP_exp"] == 24 * 23 + len(NO_FACE_TRAINING)
    mapper, provenance = load_mapper(tmp_path / "mapper_id.safetensors")
    assert provenance["identity_source"] == "image+caption" and provenance["encoder"] == "lit-minilm"
    assert mapper.config.input_dim == 384 and mapper.config.output_dim == 64
    history = (tmp_path / "mapper_exp.history.csv").read_text().splitlines()
    assert history[0] == "epoch,train_l2,train_cyclic,held_out_mse" and len(history) == 5
    refused = subprocess.run([*command, "--install"], check=False, capture_output=True, text=True)
    assert refused.returncode == 2 and "--quick" in refused.stderr

    # On two processes under accelerate each takes half of every batch and the gradients are summed over both:
    # the loss curves are this run's up to the order of float sums, equal to 1e-5 relative (1e-8 measured).
    from two_processes import launched

    two = launched("train", "mappers", "--quick", out=tmp_path / "two")
    assert two.stdout.count("trained the mappers") == 1  # the main process reports, the other is quiet
    for name in ("mapper_id", "mapper_exp"):
        one_curve, two_curve = (pd.read_csv(folder / f"{name}.history.csv") for folder in (tmp_path, tmp_path / "two"))
        np.testing.assert_allclose(two_curve.train_l2, one_curve.train_l2, rtol=1e-5)
        np.testing.assert_allclose(two_curve.held_out_mse, one_curve.held_out_mse, rtol=1e-5)
