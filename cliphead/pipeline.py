"""Prompt → textured head: CLIP-Head's whole pipeline (§2) in one object the CLI, notebooks and tests share.

prompt → ψ (the encoder's text tower) → MLP_id, MLP_exp → (z_id, z_exp) → the head model's canonical
mesh, extracted as a disk → aligned UV (§2.2) → the expression applied (eq. 1) → UV normal map →
ControlNet_uv texture (§2.3) → rectification (supplementary §3) → textured head.

Each model-backed stage is chosen by name: the encoder (``lit-minilm`` or ``open_clip:…``, which
the mappers must match), the head model (a checkpoint path, default the embedded one), the texture
backend (``embedded``, ``stable-diffusion:BASE[,CONTROLNET]``, or the released CLIP-Head texture stage,
``official:…``, :mod:`cliphead.texture.official`) and the UV layout (the aligned one, or the released code's,
``official:…``, :mod:`cliphead.uv.official`, which the official backend needs). Models load once, when the pipeline
is built; every call records its seconds per stage.

The caller owns the randomness, as in diffusers: ``generator`` draws the identity variation, and the
texture's noise is seeded from ``generator.initial_seed()`` (item k of the texture batch — the full
layout, then the face window — from that seed + k), so a texture does not depend on what was drawn
before it. ``codes=`` bypasses the text stage: the caller's identity and expression codes go straight
to the geometry (the explorer's identity sliders); ``mesh=`` bypasses text and geometry: a head from
elsewhere, already repaired and in the aligned layout, is textured as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from cliphead.clip.registry import cached_encoder
from cliphead.heads.checkpoints import cached_head_model
from cliphead.mapping.text2head import HeadCodes, TextToHead, load_mapper_pair
from cliphead.texture.backends import TextureBackend, check_layout, load_texture_backend
from cliphead.texture.generate import RectifiedTexture, texture_head
from cliphead.texture.official import OfficialSettings, OfficialTexturer, official_normal_map
from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings
from cliphead.uv.aligned import AlignedHead, aligned_model_head
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.official import load_official_layout, official_head


@dataclass(frozen=True)
class PipelineSettings:
    """Settings of one generation: ``variation`` (identity noise, in standard deviations of the latent
    distribution), ``expression_strength`` (scales the expression code's offset from neutral), the
    extraction ``resolution``, the UV normal map's ``uv_size``, the texture ``sampling`` settings,
    whether to ``rectify``, and the ``official`` backend's settings (its own sampler and passes)."""

    variation: float = 0.0
    expression_strength: float = 1.0
    resolution: int = 192
    uv_size: int = 512
    sampling: SamplingSettings = DEFAULT_SAMPLING
    rectify: bool = True
    official: OfficialSettings = OfficialSettings()


@dataclass
class TexturedHead:
    """The pipeline's output: the posed mesh in the pipeline's UV layout, its texture, its codes and the timings."""

    prompt: str
    settings: PipelineSettings
    seed: int
    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    landmarks: np.ndarray
    normal_map: np.ndarray
    textures: RectifiedTexture
    codes: HeadCodes | None  # None: the head was given (``mesh=``), not generated from the prompt
    identity_sigma: float | None
    expression_sigma: float | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def texture(self) -> np.ndarray:
        """The texture the head wears (the rectified one, or the full one when rectification did not run)."""
        return self.textures.texture


class CLIPHeadPipeline:
    """The loaded models of every stage (see the module doc)."""

    def __init__(
        self,
        encoder: str = "lit-minilm",
        texture_backend: str = "embedded",
        head_weights: str | None = None,
        id_mapper: str | None = None,
        exp_mapper: str | None = None,
        mappers: str | None = None,
        layout: str = "aligned",
    ) -> None:
        start = time.perf_counter()
        check_layout(texture_backend, layout)
        self.layout = None if layout == "aligned" else load_official_layout(layout)
        self.text_to_head = TextToHead(
            cached_encoder(encoder), *load_mapper_pair(mappers, id_mapper, exp_mapper), cached_head_model(head_weights)
        )
        self.texture_model: TextureBackend = load_texture_backend(texture_backend)
        if not isinstance(self.texture_model, OfficialTexturer):
            self.texture_model.text(["warm-up"])
        self.backends = {
            "encoder": encoder,
            "texture": texture_backend,
            "head_model": head_weights or "embedded",
            "id_mapper": id_mapper or mappers or "embedded",
            "exp_mapper": exp_mapper or mappers or "embedded",
            "layout": layout,
        }
        self.load_seconds = time.perf_counter() - start

    def __call__(
        self,
        prompt: str,
        *,
        settings: PipelineSettings | None = None,
        generator: torch.Generator | None = None,
        codes: HeadCodes | None = None,
        mesh: AlignedHead | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> TexturedHead:
        """The textured head of ``prompt``; ``generator`` defaults to one seeded 0, ``codes`` replaces the
        text stage, ``mesh`` (a head already in the aligned layout, e.g. from
        :func:`cliphead.uv.incoming.aligned_mesh_file`) replaces text and geometry, keeping its expression;
        ``progress`` is told the name of each stage as it starts."""
        settings = settings or PipelineSettings()
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        report = progress or (lambda stage: None)
        seconds = {}
        report("text")
        start = time.perf_counter()
        if codes is None and mesh is None:
            codes = self.text_to_head.codes(
                prompt,
                variation=settings.variation,
                expression_strength=settings.expression_strength,
                generator=generator,
            )
        seconds["text"] = time.perf_counter() - start
        report("geometry")
        start = time.perf_counter()
        head = mesh or aligned_model_head(self.text_to_head.head_model, codes.z_id, codes.z_exp, settings.resolution)
        if self.layout is not None:
            head = official_head(head, self.layout)
        seconds["geometry"] = time.perf_counter() - start
        seed = generator.initial_seed()
        normal_map, textures = self._texture(head, prompt, settings, seed, report, seconds)
        return TexturedHead(
            prompt,
            settings,
            seed,
            head.vertices,
            head.faces,
            head.uv,
            head.landmarks,
            normal_map,
            textures,
            codes,
            *(self.text_to_head.sigmas(codes) if codes is not None else (None, None)),
            seconds,
        )

    def _texture(
        self, head: AlignedHead, prompt: str, settings: PipelineSettings, seed: int, report, seconds: dict
    ) -> tuple[np.ndarray, RectifiedTexture]:
        """The head's UV normal map (float, [0, 1]) and texture from the loaded backend; adds its stages' seconds."""
        report("normal map")
        start = time.perf_counter()
        official = isinstance(self.texture_model, OfficialTexturer)
        if official:
            encoded = official_normal_map(head.vertices, head.faces, head.uv, settings.uv_size)
            normal_map = encoded.astype(np.float32) / 255
        else:
            normal_map = uv_normal_map(head.vertices, head.faces, head.uv, settings.uv_size)
        seconds["normal map"] = time.perf_counter() - start
        report("texture + rectification" if settings.rectify or official else "texture")
        if official:
            textures = self.texture_model(encoded, prompt, settings.official, seed=seed)
        else:
            textures = texture_head(
                self.texture_model, normal_map, prompt, settings.sampling, seed=seed, rectify=settings.rectify
            )
        seconds["texture"] = textures.seconds["generate"]
        seconds["rectification"] = textures.seconds.get("rectify", 0.0)
        if "inpaint" in textures.seconds:
            seconds["inpaint"] = textures.seconds["inpaint"]
        return normal_map, textures
