"""ControlNet_uv: training triples, the embedded model, sampling, the Stable Diffusion path, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from cliphead.texture.sampling import SamplingSettings, generate_textures


@pytest.fixture(scope="module")
def quick_triples():
    from cliphead.lab.texture.data import load_texture_triples
    from cliphead.lab.texture.recipe import PRESETS

    return load_texture_triples(PRESETS["quick"].data)


@pytest.fixture(scope="module")
def shipped_model():
    from cliphead.texture.checkpoints import load_texture_model

    return load_texture_model("embedded")


@pytest.fixture(scope="module")
def layout_normal_map():
    from cliphead.lab.world.renders import head_bank
    from cliphead.uv.bake import uv_normal_map

    head = head_bank(1, 0)[0]
    return uv_normal_map(head.vertices, head.faces, head.uv, 512)


def test_face_box_frames_every_landmark_target_and_round_trips():
    from cliphead.lab.world.regions import template_texels
    from cliphead.texture.crop import face_box

    box = face_box()
    targets = template_texels(512).landmarks_px
    inside = box.to_crop(targets, 128, 512)
    assert inside.min() > 5 and inside.max() < 123  # every target inside the crop, with a margin
    np.testing.assert_allclose(box.to_texture(inside, 128, 512), targets, atol=1e-9)


def test_triples_pair_maps_and_textures_in_both_views(quick_triples):
    config = quick_triples.config
    assert quick_triples.normals_whole.shape == (config.n_heads, config.size, config.size, 3)
    assert quick_triples.textures_face.shape == (config.n_textures, config.size, config.size, 3)
    assert quick_triples.captions.shape == (config.n_textures, config.captions_per_texture)
    whole = quick_triples.normals_whole.astype(float) / 255
    face = quick_triples.normals_face.astype(float) / 255
    # The whole layout has background (zero) corners; the face window is all surface.
    assert whole[:, 0, 0].max() == 0.0
    assert np.linalg.norm(face * 2 - 1, axis=-1).min() > 0.5
    # Normals of the face window look out of the face (+z) around its centre.
    quarter = config.size // 4
    centre = face[:, quarter:-quarter, quarter:-quarter] * 2 - 1
    assert (centre[..., 2].mean(axis=(1, 2)) > 0.6).all()


def test_triples_batches_are_deterministic(quick_triples):
    a = quick_triples.sample(np.random.default_rng(3), 4)
    b = quick_triples.sample(np.random.default_rng(3), 4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] == b[2]
    assert a[1].min() >= -1 and a[1].max() <= 1


@pytest.mark.parametrize("anchor_pool", [4, 2])
def test_colour_anchor_carries_the_texture_averaged_over_its_blocks(anchor_pool):
    from cliphead.texture.autoencoder import ColourAnchoredAutoencoder

    torch.manual_seed(0)
    autoencoder = ColourAnchoredAutoencoder(detail_channels=4, block_channels=(8, 16, 16), anchor_pool=anchor_pool)
    images = torch.rand(6, 3, 32, 32) * 2 - 1
    autoencoder.eval().fit_standardisation(images)
    with torch.no_grad():
        latents = autoencoder.encode(images).latent_dist.mean
    assert latents.shape == (6, 3 * (4 // anchor_pool) ** 2 + 4, 8, 8)
    # Standardised over the images it was fitted on: every channel has mean 0 and spread 1.
    np.testing.assert_allclose(latents.mean(dim=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(latents.std(dim=(0, 2, 3)), 1.0, atol=1e-4)
    # With the decoder's output layer silenced, decoding gives back the block averages, upsampled.
    torch.nn.init.zeros_(autoencoder.decoder.conv_out.weight)
    torch.nn.init.zeros_(autoencoder.decoder.conv_out.bias)
    with torch.no_grad():
        decoded = autoencoder.decode(latents).sample
    averages = torch.nn.functional.avg_pool2d(images, anchor_pool)
    expected = torch.nn.functional.interpolate(averages, scale_factor=anchor_pool, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(decoded, expected, atol=1e-5)


@pytest.mark.slow
def test_quick_training_learns_round_trips_and_two_processes_train_alike(tmp_path, quick_triples):
    from cliphead.texture.checkpoints import load_embedded
    from cliphead.lab.texture.recipe import train_texture

    payload = train_texture(tmp_path, "quick")
    history = pd.read_csv(tmp_path / "history.csv")
    for phase in ("autoencoder", "unet", "controlnet"):  # 30, 40 and 40 steps
        losses = history[history["phase"] == phase]["loss"]
        assert losses.tail(10).mean() < losses.head(10).mean(), phase
    assert set(payload["final_loss"]) == {"autoencoder", "unet", "controlnet", "anneal"}
    snapshots = np.load(tmp_path / "snapshots.npz")
    assert snapshots["textures"].shape[:2] == (3, 2)  # two over phase 3 and one after phase 4, of the two prompts
    assert snapshots["steps"].tolist() == [20, 40, 60]
    model = load_embedded(tmp_path)
    assert model.texture_size == 64
    hints = quick_triples.normals_whole[:2]
    first = generate_textures(model, hints, ["a face with red hair", "blue hair"], SamplingSettings(steps=4), seed=1)
    again = generate_textures(model, hints, ["a face with red hair", "blue hair"], SamplingSettings(steps=4), seed=1)
    np.testing.assert_array_equal(first, again)

    # Phase 4 alone on those weights: the same sizes, new weights, snapshots numbered on from the run's.
    annealed = train_texture(tmp_path / "annealed", "quick", anneal=tmp_path)
    assert set(annealed["final_loss"]) == {"anneal"}
    # the run's history holds one phase 4 already, so this one draws other batches and noise
    assert json.loads((tmp_path / "annealed" / "training.json").read_text())["config"]["seed"] == 1
    assert np.load(tmp_path / "annealed" / "snapshots.npz")["steps"].tolist() == [80]
    before, after = model.unet.state_dict(), load_embedded(tmp_path / "annealed").unet.state_dict()
    assert any(not torch.equal(before[name], after[name]) for name in before)
    with pytest.raises(ValueError, match="shipped weights"):
        train_texture(tmp_path / "refused", anneal=tmp_path, install=True)

    # On two processes under accelerate the denoisers' batches are split (noise and timesteps drawn for the whole
    # batch); the autoencoder draws its posterior samples per process, so the curves agree within that noise:
    # each phase's mean loss within 5% of this run's (2.3% at most measured).
    from two_processes import launched

    assert launched("train", "texture", "--quick", out=tmp_path / "two").stdout.count("trained ControlNet_uv") == 1
    two = pd.read_csv(tmp_path / "two" / "history.csv")
    assert two.shape == history.shape
    np.testing.assert_allclose(two.groupby("phase").loss.mean(), history.groupby("phase").loss.mean(), rtol=0.05)


def test_weight_average_follows_the_weights_at_its_decay():
    from cliphead.lab.texture.training import WeightAverage

    layer = torch.nn.Linear(3, 2)
    start = layer.weight.detach().clone()
    average = WeightAverage([layer], decay=0.75)
    with torch.no_grad():
        layer.weight.add_(4.0)
    average.update()
    average.update()
    average.apply()  # after two updates towards start + 4: start + 4 * (1 - 0.75²)
    np.testing.assert_allclose(layer.weight.detach(), start + 4.0 * (1 - 0.75**2), rtol=1e-6, atol=1e-6)


def test_shipped_weights_are_listed_small_and_intact():
    from cliphead.weights.manifest import MANIFEST, WEIGHTS_DIR, verify_manifest

    entries = json.loads(MANIFEST.read_text())
    parts = [f"texture_{part}.safetensors" for part in ("vae", "unet", "controlnet")]
    assert all(verify_manifest()[name] for name in parts)
    sizes = [(WEIGHTS_DIR / name).stat().st_size for name in parts]
    assert max(sizes) <= 16 * 2**20 and sum(sizes) <= 40 * 2**20
    assert entries["texture_vae.safetensors"]["command"] == "cliphead train texture --install"
    denoisers = (
        "cliphead train texture --install (at commit b4c657e), then cliphead train texture --anneal --install, "
        "then cliphead train texture --anneal --anneal-steps 1000 --install"
    )
    assert all(entries[f"texture_{part}.safetensors"]["command"] == denoisers for part in ("unet", "controlnet"))
    history = __import__("pandas").read_csv(WEIGHTS_DIR / "texture_controlnet.history.csv")
    assert list(dict.fromkeys(history["phase"])) == ["controlnet", "anneal"]


def test_shipped_model_is_seeded_and_diverse(shipped_model, layout_normal_map):
    prompt = "a young woman with red hair"
    a = generate_textures(shipped_model, layout_normal_map[None], [prompt], seed=5)
    b = generate_textures(shipped_model, layout_normal_map[None], [prompt], seed=5)
    c = generate_textures(shipped_model, layout_normal_map[None], [prompt], seed=6)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.005


@pytest.mark.parametrize("prompt", ["a bowl of cereal riding a skateboard", "zxqv glorp"])
def test_a_prompt_never_seen_still_gives_a_valid_texture(shipped_model, layout_normal_map, prompt):
    from cliphead.lab.world.regions import REGION_NAMES, region_masks

    texture = generate_textures(shipped_model, layout_normal_map[None], [prompt])[0]
    assert texture.shape == (shipped_model.texture_size,) * 2 + (3,)
    assert np.isfinite(texture).all() and texture.min() >= 0 and texture.max() <= 1
    masks = region_masks(shipped_model.texture_size)
    for name in REGION_NAMES:  # every region of the layout is painted: neither empty black nor blown out
        weight = masks[name] > 0.5
        if weight.any():
            mean = texture[weight].mean()
            assert 0.02 < mean < 0.99, (name, mean)


def test_colour_clamp_bounds_the_predicted_colour_anchor_and_nothing_else(shipped_model):
    from cliphead.texture.sampling import colour_bounds, colour_clamped

    low, high = colour_bounds(shipped_model)
    # The bounds are the anchors of an all-black and an all-white texture.
    size = shipped_model.texture_size
    extremes = shipped_model.vae.encode(torch.tensor([-1.0, 1.0])[:, None, None, None].expand(2, 3, size, size))
    anchors = extremes.latent_dist.mean[:, : low.shape[1]]
    torch.testing.assert_close(anchors[0], low[0].expand_as(anchors[0]))
    torch.testing.assert_close(anchors[1], high[0].expand_as(anchors[1]))
    schedule = shipped_model.scheduler
    latents, predicted = (3.0 * torch.randn(2, 1, 7, 8, 8, generator=torch.Generator().manual_seed(0))).unbind(0)
    for timestep in (999, 500, 20):
        clamped = colour_clamped(predicted, latents, schedule, timestep, (low, high))
        alpha_bar = schedule.alphas_cumprod[timestep]
        clean = alpha_bar.sqrt() * latents - (1 - alpha_bar).sqrt() * clamped  # x̂₀ of a v prediction
        before = alpha_bar.sqrt() * latents - (1 - alpha_bar).sqrt() * predicted
        anchor = clean[:, : low.shape[1]]
        assert (anchor >= low - 1e-4).all() and (anchor <= high + 1e-4).all()
        assert (before[:, : low.shape[1]] > high).any()  # the draw did need clamping
        torch.testing.assert_close(clean[:, low.shape[1] :], before[:, low.shape[1] :])


def test_guidance_rescale_restores_the_conditional_spread():
    from cliphead.texture.sampling import rescaled_guidance

    generator = torch.Generator().manual_seed(1)
    conditional, unconditional = torch.randn(2, 3, 4, 8, 8, generator=generator).unbind(0)
    guided = unconditional + 7.5 * (conditional - unconditional)
    full = rescaled_guidance(guided, conditional, 1.0)
    torch.testing.assert_close(full.std(dim=(1, 2, 3)), conditional.std(dim=(1, 2, 3)))
    torch.testing.assert_close(rescaled_guidance(guided, conditional, 0.0), guided)
    torch.testing.assert_close(rescaled_guidance(guided, conditional, 0.7), 0.7 * full + 0.3 * guided)


def test_the_sampler_is_chosen_on_prompts_and_heads_the_evaluation_does_not_use():
    from cliphead.lab.texture.evaluation import FRAMES, TextureEvalConfig, evaluation_prompts
    from cliphead.texture.sampling import DEFAULT_SAMPLING
    from cliphead.lab.texture.sampling_validation import (
        CANDIDATES,
        VALIDATION_FRAMES,
        VALIDATION_HEAD_SEED,
        validation_prompts,
    )

    assert not set(VALIDATION_FRAMES.values()) & set(FRAMES.values())
    assert not {text for text, _, _ in validation_prompts()} & {prompt.text for prompt in evaluation_prompts()}
    assert VALIDATION_HEAD_SEED != TextureEvalConfig().seed
    attributes = {attribute for _, attribute, _ in validation_prompts()}
    assert attributes == {"hair_colour", "skin", "lipstick", "beard_colour", "style"}
    assert DEFAULT_SAMPLING in CANDIDATES  # the default is one of the compared settings


def test_unseen_colour_words_are_in_no_training_caption_and_name_a_measured_hair_colour():
    from cliphead.lab.texture.evaluation import UNSEEN_HAIR_WORDS, UNSEEN_WORD_ATTRIBUTE, evaluation_prompts
    from cliphead.lab.world.vocabulary import HAIR_WORDS, training_vocabulary

    assert len(UNSEEN_HAIR_WORDS) >= 8
    assert not set(UNSEEN_HAIR_WORDS) & training_vocabulary()
    assert set(UNSEEN_HAIR_WORDS.values()) == set(HAIR_WORDS)
    asked = [p for p in evaluation_prompts() if p.attribute == UNSEEN_WORD_ATTRIBUTE]
    assert [p.text.split()[-1] for p in asked] == list(UNSEEN_HAIR_WORDS)
    assert [p.value for p in asked] == [p.overrides["hair_colour"] for p in asked] == list(UNSEEN_HAIR_WORDS.values())


def test_shipped_model_draws_skin_and_hair_from_the_prompt_through_cross_attention(shipped_model, quick_triples):
    from cliphead.lab.texture.evaluation import prompt_knowledge

    knowledge = prompt_knowledge(shipped_model, quick_triples, n=48)
    r2 = knowledge.set_index(["region", "prompt read as"])["r2_L"]
    # From pure noise the prompt sets most of the skin's lightness (0.70 of its variance over these 48 textures when
    # measured; 0.91 over 96 full-size ones) and half the hair's (0.52; 0.70), all of it through the token states;
    # the pooled embedding alone sets none. Before the anneal (phase 4) the hair's was 0.23 over the 96.
    assert r2["lower_neck", "whole prompt"] > 0.5
    assert r2["hair", "whole prompt"] > 0.35
    for region in ("lower_neck", "hair"):
        assert abs(r2[region, "token states only"] - r2[region, "whole prompt"]) < 0.05
        assert r2[region, "pooled embedding only"] < 0.1


def test_stable_diffusion_path_fine_tunes_and_samples(tmp_path, quick_triples):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from cliphead.lab.tiny_diffusers import save_tiny_controlnet_pipeline

    from cliphead.texture.checkpoints import load_texture_model
    from cliphead.lab.texture.recipe import train_texture

    base = save_tiny_controlnet_pipeline(tmp_path / "sd")
    before = load_texture_model(f"stable-diffusion:{base}")
    payload = train_texture(tmp_path / "run", "quick", base=str(base))
    assert set(payload["final_loss"]) == {"controlnet"}
    tuned = load_texture_model(f"stable-diffusion:{base},{tmp_path / 'run' / 'controlnet'}")
    # The base stays frozen: the fine-tuned ControlNet is the only part that changed.
    for name, tensor in tuned.unet.state_dict().items():
        assert torch.equal(tensor, before.unet.state_dict()[name])
    changed = [not torch.equal(t, before.controlnet.state_dict()[n]) for n, t in tuned.controlnet.state_dict().items()]
    assert any(changed)
    settings = SamplingSettings(steps=3)
    textures = generate_textures(tuned, quick_triples.normals_whole[:2], ["red hair", "a beard"], settings, seed=2)
    assert textures.shape == (2, 16, 16, 3) and np.isfinite(textures).all()
    np.testing.assert_array_equal(
        textures, generate_textures(tuned, quick_triples.normals_whole[:2], ["red hair", "a beard"], settings, seed=2)
    )


def test_unknown_backend_and_bad_maps_are_clear_errors(shipped_model):
    from cliphead.texture.checkpoints import load_texture_model
    from cliphead.texture.generate import texture_head

    with pytest.raises(ValueError, match="Unknown texture backend"):
        load_texture_model("dall-e")
    with pytest.raises(ValueError, match="finite"):
        texture_head(shipped_model, np.full((64, 64, 3), np.nan), "a face")


@pytest.mark.slow
def test_cli_textures_an_align_uv_folder(head_mesh_file, tmp_path):
    uv_dir, out = tmp_path / "uv", tmp_path / "textured"
    run = [sys.executable, "-m", "cliphead.cli"]
    subprocess.run([*run, "align", "uv", str(head_mesh_file), "--out", str(uv_dir)], check=True, capture_output=True)
    result = subprocess.run(
        [*run, "texture", str(uv_dir), "a man with blue hair", "--out", str(out), "--steps", "10"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("texture.png", "texture_full.png", "head.obj", "head.mtl", "preview.png", "meta.json"):
        assert (out / name).is_file(), name
    assert meta["sampling"]["steps"] == 10 and meta["backend"] == "embedded"
    assert "mtllib head.mtl" in (out / "head.obj").read_text()[:100]
    again = subprocess.run([*run, "texture", str(uv_dir), "a man", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_real_esrgan_generator_loads_its_file_and_upscales_four_times(tmp_path, suffix):
    from safetensors.torch import save_file

    from cliphead.texture.upscale import RRDBConfig, RRDBNet, load_upscaler, upscale

    torch.manual_seed(0)
    generator = RRDBNet(RRDBConfig(features=8, blocks=2, growth=4))
    path = tmp_path / f"tiny{suffix}"
    if suffix == ".pth":
        torch.save({"params_ema": generator.state_dict()}, path)  # the released files' nesting
    else:
        save_file(generator.state_dict(), path)
    loaded = load_upscaler(path)
    assert loaded.config == generator.config
    texture = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    result = upscale(texture, loaded)
    assert result.shape == (64, 64, 3) and np.isfinite(result).all()
    with torch.no_grad():
        expected = generator(torch.from_numpy(texture).permute(2, 0, 1)[None]).clamp(0, 1)[0].permute(1, 2, 0)
    np.testing.assert_allclose(result, expected.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="RRDBNet"):
        save_file({"conv_first.weight": torch.zeros(8, 3, 3, 3)}, tmp_path / "bad.safetensors")
        load_upscaler(tmp_path / "bad.safetensors")


def test_earlier_texture_weights_are_read_from_the_history(tmp_path):
    from cliphead.lab.texture.before_after import weights_at
    from cliphead.texture.checkpoints import PARTS, part_path
    from cliphead.weights.manifest import WEIGHTS_DIR

    folder = weights_at("HEAD", tmp_path / "head")
    for part in PARTS:  # the shipped files are committed: HEAD's are the same bytes
        assert part_path(folder, part).read_bytes() == part_path(WEIGHTS_DIR, part).read_bytes()
    with pytest.raises(FileNotFoundError, match="not in this checkout's history"):
        weights_at("0" * 40, tmp_path / "nowhere")
