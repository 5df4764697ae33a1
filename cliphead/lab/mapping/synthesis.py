"""The appearance step of identity-pair generation: normal map + template prompt → image.

CLIP-Head §2.1 (Fig. 2, right) renders the normal map of a rotated neutral head and lets a
ControlNet conditioned on it synthesise a photo guided by a template prompt; the CLIP image
embedding of that photo is the pair's ψ. The step is pluggable (:func:`build_synthesis`):

- ``procedural`` (default): paint a random appearance with the procedural painter
  (:func:`~cliphead.lab.world.painter.paint_texture`) onto the head's aligned UV and render it in
  the same pose; the template prompt is the paper caption of the painted attributes, so image and
  prompt agree exactly.
- ``controlnet:PIPELINE_DIR[,CONTROLNET_DIR]``: the real step, a diffusers
  ``StableDiffusionControlNetPipeline`` loaded from local directories (``from_pretrained`` with
  ``local_files_only``; no hub access): a Stable Diffusion folder and a normal-map ControlNet folder
  (or one folder holding a saved ControlNet pipeline). The normal map is the control image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.renders import BankHead
from cliphead.render.lit import View, render_head

SYNTHESIS_HELP = (
    "'procedural' (the painter, offline, default) or 'controlnet:PIPELINE_DIR[,CONTROLNET_DIR]' "
    "(a local diffusers Stable Diffusion + normal-map ControlNet)"
)


@dataclass(frozen=True)
class SynthesisRequest:
    """What the appearance step gets for one pair."""

    head: BankHead  # the neutral mesh with its aligned UV
    view: View  # the random rotation about the vertical axis (and light, background)
    normal_map: np.ndarray  # (S, S, 3) float in [0, 1], the control hint
    prompt: str  # the template prompt
    attributes: Attributes  # the appearance the prompt was written from
    seed: int


class AppearanceSynthesis(Protocol):
    name: str

    def __call__(self, request: SynthesisRequest) -> np.ndarray: ...  # (S, S, 3) float in [0, 1]


class ProceduralSynthesis:
    """The embedded default: the painted attributes on the aligned UV, rendered in the pair's pose."""

    name = "procedural"

    def __init__(self, texture_size: int = 256) -> None:
        self.texture_size = texture_size

    def __call__(self, request: SynthesisRequest) -> np.ndarray:
        from cliphead.lab.world.painter import paint_texture

        texture = paint_texture(request.attributes, self.texture_size, seed=request.seed)
        return render_head(request.head, texture, request.view, request.normal_map.shape[0])


class ControlNetSynthesis:
    """A local diffusers ControlNet pipeline conditioned on the normal map (the paper's step)."""

    name = "controlnet"

    def __init__(self, pipeline_dir: Path, controlnet_dir: Path | None = None, steps: int = 20, guidance: float = 7.5):
        try:
            import torch
            from diffusers import ControlNetModel, StableDiffusionControlNetPipeline
        except ImportError as error:  # pragma: no cover - diffusers is a dependency
            raise ImportError("The controlnet step needs diffusers (pip install diffusers).") from error
        for folder in (pipeline_dir, controlnet_dir):
            if folder is not None and not Path(folder).is_dir():
                raise FileNotFoundError(f"No diffusers folder at {folder}; model hubs can't be reached from here.")
        extra = {}
        if controlnet_dir is not None:
            extra["controlnet"] = ControlNetModel.from_pretrained(controlnet_dir, local_files_only=True)
        self.pipeline = StableDiffusionControlNetPipeline.from_pretrained(
            pipeline_dir, local_files_only=True, safety_checker=None, **extra
        )
        self.pipeline.set_progress_bar_config(disable=True)
        self.steps, self.guidance, self._torch = steps, guidance, torch

    def __call__(self, request: SynthesisRequest) -> np.ndarray:
        from PIL import Image

        size = request.normal_map.shape[0]
        side = self.pipeline.unet.config.sample_size * self.pipeline.vae_scale_factor
        hint = Image.fromarray(np.round(request.normal_map * 255).astype(np.uint8)).resize((side, side))
        image = self.pipeline(
            request.prompt,
            image=hint,
            height=side,
            width=side,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            generator=self._torch.Generator().manual_seed(request.seed),
        ).images[0]
        return np.asarray(image.resize((size, size)), dtype=np.float32) / 255.0


def build_synthesis(spec: str = "procedural", texture_size: int = 256) -> AppearanceSynthesis:
    """The appearance step named by ``spec`` (see :data:`SYNTHESIS_HELP`)."""
    if spec == "procedural":
        return ProceduralSynthesis(texture_size)
    if spec.startswith("controlnet:"):
        folders = [Path(part) for part in spec.removeprefix("controlnet:").split(",") if part]
        if not 1 <= len(folders) <= 2:
            raise ValueError(f"Expected controlnet:PIPELINE_DIR[,CONTROLNET_DIR], got {spec!r}.")
        return ControlNetSynthesis(*folders)
    raise ValueError(f"Unknown appearance step {spec!r}; use {SYNTHESIS_HELP}.")
