"""ControlNet_uv training on a device: the gpu preset, its command line, and the CPU device being today's CPU run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from cliphead.lab.texture.data import TextureDataConfig, TextureTriples
from cliphead.lab.texture.recipe import INSTALLABLE, PRESETS, run_command, train_texture
from cliphead.lab.texture.training import train_texture_model
from cliphead.weights.manifest import MAX_WEIGHTS_BYTES


def test_gpu_preset_is_larger_than_full_and_its_weights_files_fit():
    from cliphead.texture.models import embedded_controlnet

    gpu, full = PRESETS["gpu"], PRESETS["full"]
    assert gpu.batch > full.batch and gpu.autoencoder_batch > full.autoencoder_batch
    assert gpu.data.n_textures > full.data.n_textures and gpu.data.n_heads > full.data.n_heads
    phases = ("autoencoder_steps", "unet_steps", "controlnet_steps", "anneal_steps")
    assert sum(getattr(gpu, name) for name in phases) > sum(getattr(full, name) for name in phases)
    assert 0.99 < gpu.ema_decay < 1.0 and "gpu" in INSTALLABLE
    model = embedded_controlnet(gpu.model)
    for part, module in model.modules().items():
        fp16_bytes = 2 * sum(tensor.numel() for tensor in module.state_dict().values())
        assert fp16_bytes <= MAX_WEIGHTS_BYTES - 2**20, part  # a MiB left for the safetensors header


def test_train_texture_takes_a_preset_and_a_device():
    from cliphead.cli import build_parser
    from cliphead.cli.train import TEXTURE_PRESETS, _preset, _run_folder

    assert TEXTURE_PRESETS == tuple(PRESETS)
    parse = build_parser().parse_args
    args = parse(["train", "texture", "--preset", "gpu", "--device", "cuda", "--install"])
    assert (_preset(args), args.device, args.install) == ("gpu", "cuda", True)
    assert str(_run_folder(args, "runs/texture")) == "runs/texture-gpu"
    default = parse(["train", "texture"])
    assert (_preset(default), default.device, str(_run_folder(default, "runs/texture"))) == (
        "full",
        "cpu",
        "runs/texture",
    )
    assert _preset(parse(["train", "texture", "--quick"])) == _preset(parse(["train", "texture", "--preset", "quick"]))
    with pytest.raises(ValueError, match="--quick is --preset quick"):
        _preset(parse(["train", "texture", "--quick", "--preset", "gpu"]))
    with pytest.raises(SystemExit):
        parse(["train", "texture", "--preset", "huge"])
    with pytest.raises(ValueError, match="full or gpu preset"):
        train_texture(None, "quick", install=True)


def test_run_commands_name_the_preset_and_the_device_as_the_manifest_records_them():
    assert (
        run_command("gpu", "cuda", False, None, True, None)
        == "cliphead train texture --preset gpu --device cuda --install"
    )
    assert run_command("full", "cpu", False, None, True, None) == "cliphead train texture --install"
    assert run_command("quick", "cpu", False, None, False, None) == "cliphead train texture --quick"
    assert (
        run_command("full", "cpu", True, 1000, True, None)
        == "cliphead train texture --anneal --anneal-steps 1000 --install"
    )


def test_the_prepared_device_command_trains_the_gpu_preset_on_cuda_and_fits_a_device_call():
    import shlex

    from cliphead.cli import build_parser
    from cliphead.lab.texture import recipe

    command = recipe.GPU_DEVICE_COMMAND
    assert len(command) <= 2000 and command in recipe.__doc__ and len(recipe.GPU_DEVICE_CARRY) <= 8
    words = shlex.split(command.split("python3 -m cliphead.cli ")[1].split(" && ")[0])
    args = build_parser().parse_args(words)
    assert (args.preset, args.device, args.install) == ("gpu", "cuda", True)


def test_model_images_are_the_same_floats_as_numpy_makes():
    from cliphead.texture.sampling import as_model_images

    values = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    expected = torch.from_numpy(values.astype(np.float32) / 255.0).permute(0, 3, 1, 2) * 2.0 - 1.0
    assert torch.equal(as_model_images(values), expected)
    assert torch.equal(as_model_images(values, "cpu"), as_model_images(values.astype(np.float32) / 255.0))


def _tiny_triples() -> TextureTriples:
    """Random maps and textures at 64 px with a caption each: enough to run every phase without building data."""
    rng = np.random.default_rng(0)
    config = TextureDataConfig(n_heads=2, n_textures=4, size=64, captions_per_texture=1)

    def images(n: int) -> np.ndarray:
        return rng.integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)

    captions = np.array([["a red face"], ["a man with blue hair"], ["an old woman"], ["green lipstick"]])
    return TextureTriples(config, images(2), images(2), np.array(["neutral"] * 2), images(4), images(4), (), captions)


def test_training_on_the_cpu_device_is_the_default_training():
    steps = {"autoencoder_steps": 2, "unet_steps": 2, "controlnet_steps": 2, "anneal_steps": 2}
    config = replace(PRESETS["quick"], **steps, autoencoder_batch=2, batch=2, snapshots=0)
    triples = _tiny_triples()
    default_model, default_record = train_texture_model(config, triples=triples)
    cpu_model, cpu_record = train_texture_model(config, triples=triples, device="cpu")
    assert default_record.frame()["loss"].tolist() == cpu_record.frame()["loss"].tolist()
    assert np.array_equal(default_record.snapshots[-1][2], cpu_record.snapshots[-1][2])
    for part, module in default_model.modules().items():
        other = cpu_model.modules()[part].state_dict()
        assert all(torch.equal(tensor, other[name]) for name, tensor in module.state_dict().items()), part
    assert cpu_model.device == torch.device("cpu")
