"""The embedded encoder lit-minilm: locked text tower, shipped image tower, CLIP score, bad input, quick training."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.clip.recipe import PRESETS
from cliphead.lab.world.dataset import load_render_set
from cliphead.clip import build_encoder
from cliphead.lab.clip.evaluation import ground_truth, zero_shot
from cliphead.clip.lit import DEFAULT_LIT_WEIGHTS
from cliphead.clip.score import clip_score, clip_scores
from cliphead.weights.manifest import MANIFEST, MAX_WEIGHTS_BYTES, sha256_of


@pytest.fixture(scope="module")
def encoder():
    return build_encoder("lit-minilm")


@pytest.fixture(scope="module")
def held_out():
    return load_render_set(PRESETS["quick"].eval_renders, workers=2)


def test_shipped_image_tower_matches_its_manifest():
    entry = json.loads(MANIFEST.read_text())[DEFAULT_LIT_WEIGHTS.name]
    assert sha256_of(DEFAULT_LIT_WEIGHTS) == entry["sha256"]
    assert DEFAULT_LIT_WEIGHTS.stat().st_size <= MAX_WEIGHTS_BYTES
    assert entry["command"] == "cliphead train clip --install"


def test_embeddings_are_unit_vectors_in_one_space(encoder):
    images = np.random.default_rng(0).integers(0, 256, (64, 96, 96, 3), dtype=np.uint8)
    image = encoder.encode_image(images)
    text = encoder.encode_text(["a face with red hair", "a bald old man with a grey beard"])
    assert image.shape == (64, 384) and text.shape == (2, 384)
    assert torch.allclose(image.norm(dim=1), torch.ones(64), atol=1e-5)
    assert torch.allclose(text.norm(dim=1), torch.ones(2), atol=1e-5)
    assert not image.requires_grad
    batch = torch.rand(2, 3, 96, 96, requires_grad=True)
    encoder.encode_image(batch, differentiable=True).sum().backward()
    assert batch.grad is not None and batch.grad.abs().sum() > 0


def test_zero_shot_hair_colour_on_held_out_renders(encoder, held_out):
    """The shipped tower names the hair colour of renders it never saw (10 classes, chance ~0.1)."""
    from cliphead.lab.world.prompts import zero_shot_prompts

    images = encoder.encode_image(held_out.images)
    truths = [ground_truth("hair_colour", r, e, {}) for r, e in zip(held_out.records, held_out.expressions())]
    n, accuracy, chance = zero_shot(images, truths, zero_shot_prompts("hair_colour"), encoder)
    assert n > 60 and accuracy > 0.7 and accuracy > chance + 0.4, (n, accuracy, chance)


def test_clip_score_prefers_the_right_prompt_and_averages_views(encoder):
    from cliphead.lab.world.painter import paint_texture
    from cliphead.lab.world.renders import head_bank
    from cliphead.render.lit import View, render_head

    head = head_bank(1, 0)[0]
    texture = paint_texture(Attributes(hair_colour="red", style="none"), 256, seed=0)
    views = [
        render_head(head, texture, View(yaw, 0.0, (0.3, 0.4, 0.87), 0.35, (1.0, 1.0, 1.0))) for yaw in (-30, 0, 30)
    ]
    right = clip_scores(encoder, "a face with red hair", views)
    wrong = clip_scores(encoder, "a face with blue hair", views)
    assert right.shape == (3,) and np.all(right > wrong)
    assert clip_score(encoder, "a face with red hair", views) == pytest.approx(right.mean(), abs=1e-6)


def test_bad_prompts_fail_clearly_or_warn(encoder):
    for bad in ("", "   \n\t"):
        with pytest.raises(ValueError, match="empty or whitespace"):
            encoder.encode_text([bad])
    with pytest.raises(TypeError, match="list of prompts"):
        encoder.encode_text("a face")
    with pytest.warns(UserWarning, match="truncated at the tokenizer limit of 256"):
        long = encoder.encode_text(["a face with red hair " * 80])
    assert long.shape == (1, 384)
    with pytest.warns(UserWarning, match="non-Latin"):
        encoder.encode_text(["赤い髪の顔"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode_text(["un visage aux cheveux roux"])  # Latin script: encoded without a warning


def test_bad_images_fail_clearly_and_other_sizes_are_resized(encoder):
    picture = np.random.default_rng(1).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    as_float = encoder.encode_image(picture.astype(np.float32) / 255)
    assert torch.allclose(encoder.encode_image(picture), as_float, atol=1e-5)
    assert encoder.encode_image(np.zeros((200, 150, 3), np.uint8)).shape == (1, 384)
    with pytest.raises(ValueError, match="RGB"):
        encoder.encode_image(np.zeros((96, 96, 4), np.uint8))
    with pytest.raises(TypeError, match="dtype int16"):
        encoder.encode_image(np.zeros((96, 96, 3), np.int16))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        encoder.encode_image(np.full((96, 96, 3), 255.0, np.float32))
    with pytest.raises(ValueError, match="at least one image"):
        encoder.encode_image([])
    with pytest.raises(ValueError, match="at least 8x8"):
        encoder.encode_image(torch.rand(1, 3, 4, 4))


def test_cli_score_clip_and_bad_encoder_spec(tmp_path):
    from PIL import Image

    path = tmp_path / "render.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(path)
    run = [sys.executable, "-m", "cliphead.cli", "score", "clip", str(path), str(path), "--prompt", "a grey face"]
    payload = json.loads(subprocess.run(run, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    assert len(payload["scores"]) == 2 and payload["scores"][0] == pytest.approx(payload["scores"][1])
    bad = subprocess.run(run + ["--encoder", "dalle:3"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown encoder spec" in bad.stderr


@pytest.mark.slow
def test_quick_training_writes_a_loadable_tower_and_resumes(tmp_path):
    out = tmp_path / "clip"
    command = [sys.executable, "-m", "cliphead.cli", "train", "clip", "--quick", "--out", str(out)]
    payload = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    weights = out / "lit_minilm_image.safetensors"
    first = weights.read_bytes()
    assert payload["steps"] == 30 and np.isfinite(payload["final_loss"])
    history = (out / "history.csv").read_text().splitlines()
    assert float(history[-1].split(",")[1]) < float(history[1].split(",")[1])  # the loss went down
    assert "hair_colour" in payload["zero_shot"] and 0.0 <= payload["R@5"] <= 1.0
    tower = build_encoder(f"lit-minilm:{weights}")
    assert tower.encode_image(np.zeros((96, 96, 3), np.uint8)).shape == (1, 384)
    subprocess.run(command, capture_output=True, text=True, check=True)  # resumes from the last checkpoint
    assert weights.read_bytes() == first


def test_plain_torch_minilm_matches_sentence_transformers(encoder):
    """The text tower runs MiniLM's weights without sentence-transformers; the space must be the same."""
    from sentence_transformers import SentenceTransformer

    from cliphead.clip.minilm import minilm_directory

    reference = SentenceTransformer(str(minilm_directory()), device="cpu")
    texts = [
        "a face with red hair",
        "A face of an old light-skinned man with grey hair, laughing",
        "x",
        "Héllo, 3D-head!",
    ]
    texts.append("a very long prompt " * 100)  # over the 256-token limit: both truncate
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = encoder.encode_text(texts)
    assert len(caught) == 1 and "truncated" in str(caught[0].message)
    theirs = torch.nn.functional.normalize(reference.encode(texts, convert_to_tensor=True), dim=-1)
    assert (ours - theirs).abs().max() < 1e-5


def test_beard_colour_split_by_hair_adds_up_to_the_zero_shot_accuracy(encoder, held_out):
    """The hair groups partition the faces with a beard, and their accuracies average to evaluation.zero_shot's."""
    from cliphead.lab.world.prompts import zero_shot_ensembles
    from cliphead.lab.clip.binding import HAIR_GROUPS, beard_colour_by_hair

    images = encoder.encode_image(held_out.images)
    rows = beard_colour_by_hair(encoder, held_out, images)
    groups = [row for row in rows if row["group"] in HAIR_GROUPS]
    truths = [ground_truth("beard_colour", r, e, {}) for r, e in zip(held_out.records, held_out.expressions())]
    n, accuracy, _ = zero_shot(images, truths, zero_shot_ensembles("beard_colour"), encoder)
    assert sum(row["images"] for row in groups) == n > 20
    assert sum(row["accuracy"] * row["images"] for row in groups) / n == pytest.approx(accuracy)
    named = rows[-1]
    assert named["group"] == "wrong answers naming the hair colour" and 0 <= named["accuracy"] <= 1


def test_the_text_tower_binds_beard_colour_to_the_hair():
    """Sentences naming one hair and another beard colour mostly score highest for the hair's colour (notebook 02)."""
    from cliphead.lab.clip.binding import caption_oracle, colour_direction_cosine, oracle_sentences

    sentences = oracle_sentences()
    assert len(sentences) == 90 * 9 and all(hair != beard for _, hair, beard in sentences)
    encoder = build_encoder("lit-minilm")
    oracle = caption_oracle(encoder)
    assert oracle["right"] < 0.3 and oracle["hair_named"] > 0.6, oracle
    assert colour_direction_cosine(encoder) > 0.9
