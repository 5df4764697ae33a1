"""Sampling a UV texture from ControlNet_uv (CLIP-Head §2.3, supplementary §3).

One loop serves the embedded model and a user's Stable Diffusion + ControlNet: a multistep solver
(UniPC) over the training schedule, classifier-free guidance, and the ControlNet's residuals scaled
by the control strength (supplementary §3 keeps it below 1 so that the texture is not a slave of the
normal map). Deterministic from the seed: the initial noise comes from a seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cliphead.texture.models import ControlNetUV
from cliphead.texture.text import PromptConditioning


@dataclass(frozen=True)
class SamplingSettings:
    """Solver steps, classifier-free guidance scale, ControlNet strength and the noise seed."""

    steps: int = 20
    guidance_scale: float = 3.0
    control_strength: float = 0.9
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 1000:
            raise ValueError(f"steps must be 1..1000, got {self.steps}")
        if self.guidance_scale < 0 or self.control_strength < 0:
            raise ValueError("guidance scale and control strength must be non-negative")


DEFAULT_SAMPLING = SamplingSettings()


def hint_tensor(normal_maps: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """UV normal maps ``(n, S, S, 3)`` in [0, 1] (or uint8) → the ControlNet's ``(n, 3, size, size)`` in [-1, 1]."""
    import torch.nn.functional as F

    from cliphead.texture.data import as_model_images

    hints = normal_maps if isinstance(normal_maps, torch.Tensor) else as_model_images(np.asarray(normal_maps))
    if hints.shape[-1] != size:
        hints = F.interpolate(hints, size=(size, size), mode="area" if hints.shape[-1] > size else "bilinear")
    return hints


def denoise(
    model: ControlNetUV, hints: torch.Tensor, prompts: PromptConditioning, empty: PromptConditioning,
    settings: SamplingSettings, noise: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """The latent textures of ``hints`` (n, 3, S, S) under ``prompts`` (n of them; ``empty``: the empty prompt)."""
    from diffusers import UniPCMultistepScheduler

    scheduler = UniPCMultistepScheduler.from_config(model.scheduler.config)
    scheduler.set_timesteps(settings.steps)
    guided = settings.guidance_scale != 1.0
    text = (prompts.after_unconditional(empty) if guided else prompts).denoiser_inputs()
    control = torch.cat([hints, hints]) if guided else hints
    latents = noise * scheduler.init_noise_sigma
    with torch.no_grad():
        for t in scheduler.timesteps:
            batch = torch.cat([latents, latents]) if guided else latents
            batch = scheduler.scale_model_input(batch, t)
            predicted = model.predict(batch, t, text, control, settings.control_strength)
            if guided:
                unconditional, conditional = predicted.chunk(2)
                predicted = unconditional + settings.guidance_scale * (conditional - unconditional)
            latents = scheduler.step(predicted, t, latents).prev_sample
    return latents


def decode(model: ControlNetUV, latents: torch.Tensor) -> np.ndarray:
    """Latents → ``(n, S, S, 3)`` float32 RGB textures in [0, 1]."""
    with torch.no_grad():
        images = model.vae.decode(latents / model.latent_scale).sample
    return ((images.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).float().numpy()


def generate_textures(
    model: ControlNetUV, normal_maps: np.ndarray | torch.Tensor, prompts: Sequence[str], settings: SamplingSettings = DEFAULT_SAMPLING
) -> np.ndarray:  # fmt: skip
    """One texture per (UV normal map, prompt): ``(n, S, S, 3)`` float32 in [0, 1] at the model's size.

    Item ``k`` draws its noise from ``settings.seed + k``, so a texture does not depend on what else
    is in the batch.
    """
    from cliphead.clip.encoder import checked_prompts

    prompts = checked_prompts(list(prompts))
    hints = hint_tensor(normal_maps, model.texture_size)
    if len(hints) != len(prompts):
        raise ValueError(f"{len(hints)} normal maps for {len(prompts)} prompts")
    latent_size = model.unet.config.sample_size
    channels = model.unet.config.in_channels
    noise = torch.cat([
        torch.randn((1, channels, latent_size, latent_size), generator=torch.Generator().manual_seed(settings.seed + k))
        for k in range(len(prompts))
    ])  # fmt: skip
    return decode(model, denoise(model, hints, model.text(prompts), model.text([""]), settings, noise))
