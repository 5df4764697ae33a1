"""Saving and loading ControlNet_uv: the embedded weights (safetensors) and the named backends.

The embedded model is three fp16 safetensors files — autoencoder, UNet, ControlNet — each under the
16 MB a shipped file may have, each carrying the model config in its metadata.
A backend spec names what :func:`load_texture_model` builds:

- ``embedded``: the shipped files in ``cliphead/weights`` (or a folder given as ``embedded:DIR``);
- ``stable-diffusion:BASE[,CONTROLNET]``: a Stable Diffusion folder and a ControlNet folder in the
  diffusers ``from_pretrained`` layout (e.g. a ControlNet fine-tuned by ``cliphead train texture
  --base BASE``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from cliphead.assets import AssetNotFoundError
from cliphead.texture.models import (
    ControlNetUV,
    TextureModelConfig,
    build_autoencoder,
    build_scheduler,
    build_unet,
    controlnet_from_unet,
    load_stable_diffusion,
)
from cliphead.texture.text import MiniLMTokenStates
from cliphead.weights.manifest import WEIGHTS_DIR, read_description, save_weights

FORMAT = "cliphead-controlnet-uv-3"
PARTS = ("vae", "unet", "controlnet")


def part_path(folder: Path, part: str) -> Path:
    return Path(folder) / f"texture_{part}.safetensors"


def save_texture_model(model: ControlNetUV, config: TextureModelConfig, folder: Path) -> list[Path]:
    """Write the embedded model's three parts into ``folder`` (fp16, from CPU copies of the tensors, wherever the
    model is); refuses a file over 16 MB."""
    folder.mkdir(parents=True, exist_ok=True)
    description = {"format": FORMAT, "config": config.to_dict()}
    paths = []
    for part, module in model.modules().items():
        tensors = {name: t.detach().to("cpu", torch.float16).contiguous() for name, t in module.state_dict().items()}
        paths.append(save_weights(tensors, part_path(folder, part), description))
    return paths


def _description(path: Path) -> dict:
    description = read_description(path)
    if description.get("format") != FORMAT:
        raise ValueError(f"{path} is not a ControlNet_uv part (format {description.get('format')!r})")
    return description


def embedded_config(folder: Path = WEIGHTS_DIR) -> TextureModelConfig:
    """The model config the embedded weights in ``folder`` carry in their metadata."""
    return TextureModelConfig.from_dict(_description(part_path(folder, "unet"))["config"])


def load_embedded(folder: Path = WEIGHTS_DIR) -> ControlNetUV:
    """The embedded ControlNet_uv from ``folder`` (default: the shipped weights), float32, eval mode."""

    missing = [part for part in PARTS if not part_path(folder, part).is_file()]
    if missing:
        raise AssetNotFoundError(
            f"No ControlNet_uv weights ({', '.join(f'texture_{m}.safetensors' for m in missing)}) in {folder}. "
            "The embedded default ships with the package; regenerate it with `cliphead train texture --install`."
        )
    try:
        config = embedded_config(folder)
        unet = build_unet(config)
        modules = {
            "vae": build_autoencoder(config),
            "unet": unet,
            "controlnet": controlnet_from_unet(unet, config.texture_size, config.latent_size),
        }
        for part, module in modules.items():
            module.load_state_dict({k: v.float() for k, v in load_file(part_path(folder, part)).items()})
    except (SafetensorError, KeyError, RuntimeError, ValueError, json.JSONDecodeError) as error:
        raise AssetNotFoundError(
            f"The ControlNet_uv weights in {folder} are damaged or of another version ({error}). "
            "Reinstall the package or regenerate them with `cliphead train texture --install`."
        ) from error
    return ControlNetUV(
        vae=modules["vae"],
        unet=modules["unet"],
        controlnet=modules["controlnet"],
        scheduler=build_scheduler(config),
        text=MiniLMTokenStates(),
        name="embedded",
        latent_scale=1.0,
        texture_size=config.texture_size,
    ).eval()


@lru_cache(maxsize=2)
def load_texture_model(spec: str = "embedded") -> ControlNetUV:
    """The ControlNet_uv a backend spec names (module doc), loaded once per process."""

    kind, _, argument = spec.partition(":")
    if kind == "embedded":
        return load_embedded(Path(argument) if argument else WEIGHTS_DIR)
    if kind == "stable-diffusion" and argument:
        base, _, controlnet = argument.partition(",")
        return load_stable_diffusion(Path(base), Path(controlnet) if controlnet else None).eval()
    if kind == "official":
        raise ValueError(
            "The official backend textures a head in the released layout from its mesh: use `cliphead generate "
            "--texture-backend official:… --layout official:…` (e.g. with --mesh), not a folder already in the "
            "aligned layout."
        )
    raise ValueError(
        f"Unknown texture backend {spec!r}: use 'embedded', 'embedded:DIR' or 'stable-diffusion:BASE[,CONTROLNET]'."
    )
