"""Sampling a UV texture from ControlNet_uv (CLIP-Head §2.3, supplementary §3).

One loop serves the embedded model and a user's Stable Diffusion + ControlNet: a multistep solver
(UniPC) over the training schedule, classifier-free guidance, and the ControlNet's residuals scaled
by the control strength (supplementary §3 keeps it below 1 so that the texture is not a slave of the
normal map). Deterministic from the seed: the initial noise comes from a seeded generator.

Two corrections against guided colours over-exposing:

- **colour clamp** (the static thresholding of Imagen, Saharia et al. 2022, applied where it is
  exact): the embedded autoencoder's first latent channels are block averages of the texture
  (:mod:`.autoencoder`), so the clean latent the solver predicts at each step has its colour anchor
  clamped to the averages an image in [-1, 1] can have. A Stable Diffusion VAE has no such channels
  and is left alone;
- **guidance rescale** (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are
  Flawed", §3.4): the guided prediction rescaled to the conditional one's standard deviation, mixed
  with the unscaled one by ``guidance_rescale``.

Guidance 7.5 with the clamp and without the rescale, in 8 solver steps, is the default: on the
validation set of :mod:`cliphead.lab.texture.sampling_validation` (prompts and heads the texture
evaluation does not use) it found the most requested attributes, above guidance 3 the clamp raised
the colours found while the rescale did not, and 8 is the fewest steps that found as many attributes
and colours as 20. That set is small and does not rank settings a few points apart: on the
texture evaluation ``guidance_scale=3, clamp_colours=False`` finds as many colours and more
stylisations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cliphead.clip.encoder import checked_prompts
from cliphead.texture.models import ControlNetUV
from cliphead.texture.text import PromptConditioning


@dataclass(frozen=True)
class SamplingSettings:
    """Solver steps, classifier-free guidance scale, ControlNet strength, and the two colour corrections
    (module doc): guidance rescale factor in [0, 1] and the colour clamp. The noise is not a setting:
    its seed is an argument of :func:`generate_textures`."""

    steps: int = 8
    guidance_scale: float = 7.5
    control_strength: float = 0.9
    guidance_rescale: float = 0.0
    clamp_colours: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.steps <= 1000:
            raise ValueError(f"steps must be 1..1000, got {self.steps}")
        if self.guidance_scale < 0 or self.control_strength < 0:
            raise ValueError("guidance scale and control strength must be non-negative")
        if not 0.0 <= self.guidance_rescale <= 1.0:
            raise ValueError(f"guidance rescale must be in [0, 1], got {self.guidance_rescale}")


DEFAULT_SAMPLING = SamplingSettings()


def as_model_images(images: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """(n, S, S, 3) uint8 or [0, 1] float images → (n, 3, S, S) float32 in [-1, 1] on ``device``. uint8 images
    travel there as bytes and are divided by 255 there (IEEE division: the same floats on every device)."""
    uint8 = images.dtype == np.uint8
    tensor = torch.from_numpy(images.astype(np.uint8 if uint8 else np.float32)).to(device)
    array = tensor.float() / 255.0 if uint8 else tensor
    return array.permute(0, 3, 1, 2).contiguous() * 2.0 - 1.0


def hint_tensor(normal_maps: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """UV normal maps ``(n, S, S, 3)`` in [0, 1] (or uint8) → the ControlNet's ``(n, 3, size, size)`` in [-1, 1]."""
    import torch.nn.functional as F

    hints = normal_maps if isinstance(normal_maps, torch.Tensor) else as_model_images(np.asarray(normal_maps))
    if hints.shape[-1] != size:
        hints = F.interpolate(hints, size=(size, size), mode="area" if hints.shape[-1] > size else "bilinear")
    return hints


def denoise(
    model: ControlNetUV,
    hints: torch.Tensor,
    prompts: PromptConditioning,
    empty: PromptConditioning,
    settings: SamplingSettings,
    noise: torch.Tensor,
) -> torch.Tensor:
    """The latent textures of ``hints`` (n, 3, S, S) under ``prompts`` (n of them; ``empty``: the empty prompt),
    from ``noise``; all of them on the model's device."""
    from diffusers import UniPCMultistepScheduler

    scheduler = UniPCMultistepScheduler.from_config(model.scheduler.config)
    scheduler.set_timesteps(settings.steps, device=noise.device)
    guided = settings.guidance_scale != 1.0
    text = (prompts.after_unconditional(empty) if guided else prompts).denoiser_inputs()
    control = torch.cat([hints, hints]) if guided else hints
    bounds = colour_bounds(model) if settings.clamp_colours else None
    latents = noise * scheduler.init_noise_sigma
    with torch.no_grad():
        for t in scheduler.timesteps:
            batch = torch.cat([latents, latents]) if guided else latents
            batch = scheduler.scale_model_input(batch, t)
            predicted = model.predict(batch, t, text, control, settings.control_strength)
            if guided:
                unconditional, conditional = predicted.chunk(2)
                predicted = unconditional + settings.guidance_scale * (conditional - unconditional)
                predicted = rescaled_guidance(predicted, conditional, settings.guidance_rescale)
            if bounds is not None:
                predicted = colour_clamped(predicted, latents, model.scheduler, int(t), bounds)
            latents = scheduler.step(predicted, t, latents).prev_sample
    return latents


def rescaled_guidance(guided: torch.Tensor, conditional: torch.Tensor, factor: float) -> torch.Tensor:
    """Lin et al. 2024, Eq. 15-16: ``guided`` rescaled to the per-item standard deviation of
    ``conditional``, mixed with ``guided`` itself by ``factor`` (0 leaves it unchanged)."""
    if factor == 0.0:
        return guided
    dims = tuple(range(1, guided.ndim))
    ratio = conditional.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True).clamp_min(1e-8)
    return factor * guided * ratio + (1.0 - factor) * guided


def colour_bounds(model: ControlNetUV) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Lowest and highest value of each colour-anchor channel, ``(1, C, 1, 1)`` each, in the denoiser's
    latent units (other channels unbounded), or None when the model's autoencoder has no colour anchor."""
    if not hasattr(model.vae, "anchor_bounds"):
        return None
    low, high = model.vae.anchor_bounds()
    return low * model.latent_scale, high * model.latent_scale


def colour_clamped(
    predicted: torch.Tensor, latents: torch.Tensor, schedule, timestep: int, bounds: tuple[torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """The prediction (ε or v, as ``schedule.config.prediction_type``) whose clean latent x̂₀ is clamped
    to ``bounds``: x̂₀ = α·x_t − σ·v (v) or (x_t − σ·ε) / α (ε), and the prediction that gives the
    clamped x̂₀ back (the module doc's colour clamp)."""
    alpha_bar = schedule.alphas_cumprod[timestep].to(latents.device)  # training moves the schedule to its device
    alpha, sigma = alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt()
    kind = schedule.config.prediction_type
    if kind == "v_prediction":
        clean = alpha * latents - sigma * predicted
    elif kind == "epsilon":
        if alpha < 1e-4:  # pure noise: x̂₀ is not defined by ε
            return predicted
        clean = (latents - sigma * predicted) / alpha
    else:
        raise ValueError(f"the colour clamp needs an epsilon or v prediction, not {kind!r}")
    low, high = bounds
    clamped = clean.clone()
    channels = low.shape[1]
    clamped[:, :channels] = torch.maximum(torch.minimum(clean[:, :channels], high), low)
    if kind == "v_prediction":
        return (alpha * latents - clamped) / sigma.clamp_min(1e-8)
    return (latents - alpha * clamped) / sigma.clamp_min(1e-8)


def decode(model: ControlNetUV, latents: torch.Tensor) -> np.ndarray:
    """Latents (on the model's device) → ``(n, S, S, 3)`` float32 RGB textures in [0, 1], a numpy array."""
    with torch.no_grad():
        images = model.vae.decode(latents / model.latent_scale).sample
    return ((images.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).float().cpu().numpy()


def generate_textures(
    model: ControlNetUV,
    normal_maps: np.ndarray | torch.Tensor,
    prompts: Sequence[str],
    settings: SamplingSettings = DEFAULT_SAMPLING,
    seed: int = 0,
) -> np.ndarray:
    """One texture per (UV normal map, prompt): ``(n, S, S, 3)`` float32 in [0, 1] at the model's size.

    Item ``k`` draws its noise from a CPU generator seeded ``seed + k``, so a texture does not depend on what
    else is in the batch, nor (but for the device's arithmetic) on the device the model is on.
    """

    prompts = checked_prompts(list(prompts))
    device = model.device
    hints = hint_tensor(normal_maps, model.texture_size).to(device)
    if len(hints) != len(prompts):
        raise ValueError(f"{len(hints)} normal maps for {len(prompts)} prompts")
    latent_size = model.unet.config.sample_size
    channels = model.unet.config.in_channels
    noise = torch.cat(
        [
            torch.randn((1, channels, latent_size, latent_size), generator=torch.Generator().manual_seed(seed + k))
            for k in range(len(prompts))
        ]
    ).to(device)
    return decode(model, denoise(model, hints, model.text(prompts), model.text([""]), settings, noise))
