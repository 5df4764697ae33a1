"""Prompt → textured head: CLIP-Head's whole pipeline (§2) in one object the CLI, notebooks and tests share.

prompt → ψ (the encoder's text tower) → MLP_id, MLP_exp → (z_id, z_exp) → the head model's canonical
mesh, extracted as a disk → aligned UV (§2.2) → the expression applied (eq. 1) → UV normal map →
ControlNet_uv texture (§2.3) → rectification (supplementary §3) → textured head.

Each model-backed stage is chosen by name: the encoder (``lit-minilm`` or ``open_clip:…``, which
the mappers must match), the head model (a checkpoint path, default the embedded one), and the texture
backend (``embedded`` or ``stable-diffusion:BASE[,CONTROLNET]``). Models load once, when the pipeline
is built; every call records its seconds per stage. A call is deterministic in its settings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings


@dataclass(frozen=True)
class PipelineSettings:
    """Settings of one generation; ``seed`` draws the texture's noise and (with ``variation`` > 0) an
    identity variation; ``expression_strength`` scales the expression code's offset from neutral."""

    seed: int = 0
    variation: float = 0.0
    expression_strength: float = 1.0
    resolution: int = 192
    uv_size: int = 512
    steps: int = DEFAULT_SAMPLING.steps
    guidance_scale: float = DEFAULT_SAMPLING.guidance_scale
    control_strength: float = DEFAULT_SAMPLING.control_strength
    guidance_rescale: float = DEFAULT_SAMPLING.guidance_rescale
    clamp_colours: bool = DEFAULT_SAMPLING.clamp_colours
    rectify: bool = True

    @property
    def sampling(self) -> SamplingSettings:
        return SamplingSettings(
            self.steps, self.guidance_scale, self.control_strength, self.seed, self.guidance_rescale, self.clamp_colours
        )


@dataclass
class TexturedHead:
    """One generated head: mesh in the aligned layout, its texture and everything that led to it."""

    prompt: str
    settings: PipelineSettings
    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    landmarks: np.ndarray
    normal_map: np.ndarray
    texture: np.ndarray
    full_texture: np.ndarray
    partial_texture: np.ndarray | None
    rectification: object | None
    z_id: torch.Tensor
    z_exp: torch.Tensor
    identity_sigma: float
    expression_sigma: float
    seconds: dict[str, float] = field(default_factory=dict)


class CLIPHeadPipeline:
    """The loaded models of every stage (see the module doc)."""

    def __init__(
        self,
        encoder: str = "lit-minilm",
        texture_backend: str = "embedded",
        head_weights: str | None = None,
        id_mapper: str | None = None,
        exp_mapper: str | None = None,
    ) -> None:
        from cliphead.clip.registry import cached_encoder
        from cliphead.heads.checkpoints import cached_head_model
        from cliphead.mapping.networks import load_mapper
        from cliphead.mapping.text2head import TextToHead
        from cliphead.texture.checkpoints import load_texture_model

        start = time.perf_counter()
        self.text_to_head = TextToHead(
            cached_encoder(encoder),
            load_mapper(id_mapper)[0] if id_mapper else None,
            load_mapper(exp_mapper)[0] if exp_mapper else None,
            cached_head_model(head_weights),
        )
        self.texture_model = load_texture_model(texture_backend)
        self.texture_model.text(["warm-up"])
        self.backends = {
            "encoder": encoder,
            "texture": texture_backend,
            "head_model": head_weights or "embedded",
            "id_mapper": id_mapper or "embedded",
            "exp_mapper": exp_mapper or "embedded",
        }
        self.load_seconds = time.perf_counter() - start

    def __call__(
        self,
        prompt: str,
        settings: PipelineSettings | None = None,
        progress: Callable[[str], None] | None = None,
        identity_offset: torch.Tensor | None = None,
    ) -> TexturedHead:
        """The textured head of ``prompt``; ``progress`` is told the name of each stage as it starts;
        ``identity_offset`` moves the mapped identity code (the explorer's sliders)."""
        from cliphead.mapping.text2head import latent_sigma
        from cliphead.texture.generate import texture_head
        from cliphead.uv.aligned import aligned_model_head
        from cliphead.uv.bake import uv_normal_map

        settings = settings or PipelineSettings()
        report = progress or (lambda stage: None)
        model = self.text_to_head.head_model
        seconds = {}
        report("text")
        start = time.perf_counter()
        z_ids, z_exps = self.text_to_head.latents([prompt])
        z_id, z_exp = z_ids[0], z_exps[0]
        if settings.variation > 0:
            noise = torch.randn(z_id.shape, generator=torch.Generator().manual_seed(settings.seed))
            z_id = z_id + settings.variation * model.latent_std * noise
        if identity_offset is not None:
            z_id = z_id + identity_offset
        neutral = model.expression_code("neutral")
        z_exp = neutral + settings.expression_strength * (z_exp - neutral)
        seconds["text"] = time.perf_counter() - start
        report("geometry")
        start = time.perf_counter()
        head = aligned_model_head(model, z_id, z_exp, settings.resolution)
        seconds["geometry"] = time.perf_counter() - start
        report("normal map")
        start = time.perf_counter()
        normal_map = uv_normal_map(head.vertices, head.faces, head.uv, settings.uv_size)
        seconds["normal map"] = time.perf_counter() - start
        report("texture + rectification" if settings.rectify else "texture")
        textured = texture_head(self.texture_model, normal_map, prompt, settings.sampling, rectify=settings.rectify)
        seconds["texture"] = textured.seconds["generate"]
        seconds["rectification"] = textured.seconds.get("rectify", 0.0)
        return TexturedHead(
            prompt,
            settings,
            head.vertices,
            head.faces,
            head.uv,
            head.landmarks,
            normal_map,
            textured.texture,
            textured.full,
            textured.partial,
            textured.rectification,
            z_id,
            z_exp,
            latent_sigma(z_id, model.latent_mean, model.latent_std),
            latent_sigma(z_exp, model.expression_latent_mean, model.expression_latent_std),
            seconds,
        )
