"""The explorer's state: a prompt's head and texture, reshaped live (notebook 10, ``cliphead explore``).

The aligned layout (CLIP-Head §2.2) is what makes live editing cheap: every head of the model shares one UV
layout, so a texture made for one head fits any other. A new prompt, seed or the texture switch runs the
whole pipeline (text → codes → geometry → UV normal map → ControlNet_uv → rectification); an identity
slider extracts the geometry again and keeps the texture; the expression moves the extracted neutral
surface (eq. 1) without extracting it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from cliphead.mapping.text2head import HeadCodes
from cliphead.meshes import MeshError
from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings
from cliphead.uv.aligned import AlignedHead, aligned_canonical_head, posed_head
from cliphead.uv.bake import uv_normal_map

#: Grid resolution of the explorer's heads: coarse enough for a geometry change in about a second.
LIVE_RESOLUTION = 96
#: Sliders along this many identity directions.
DIRECTIONS = 3
#: The expression menu's entry that keeps the prompt's own expression.
FROM_PROMPT = "from the prompt"


def identity_directions(model, n: int = DIRECTIONS) -> torch.Tensor:
    """Unit steps of one σ along the ``n`` identity-latent dimensions with the largest spread: ``(n, K)``."""
    order = torch.argsort(model.latent_std, descending=True)[:n]
    steps = torch.zeros(n, len(model.latent_std))
    steps[torch.arange(n), order] = model.latent_std[order]
    return steps


@dataclass(frozen=True)
class ExplorerView:
    """What the explorer shows: the posed head, the texture it wears (None: switched off), its UV normal map
    (None until asked for: :meth:`ExplorerSession.normal_map`), and the seconds of each stage that ran for this
    view (stages that were re-used are absent)."""

    prompt: str
    head: AlignedHead
    texture: np.ndarray | None
    normal_map: np.ndarray | None
    seconds: dict[str, float] = field(default_factory=dict)


class ExplorerSession:
    """A prompt's head, kept between edits (module doc). Not thread-safe: one edit at a time."""

    def __init__(self, pipeline: CLIPHeadPipeline, resolution: int = LIVE_RESOLUTION, directions: int = DIRECTIONS):
        self.pipeline = pipeline
        self.resolution = resolution
        self.directions = identity_directions(pipeline.text_to_head.head_model, directions)
        self.identity = np.zeros(directions)  # offsets along ``directions``, in σ
        self.expression = FROM_PROMPT
        self.strength = 1.0
        self.prompt = ""
        self.seed = 0
        self.view: ExplorerView | None = None
        self._codes: HeadCodes | None = None  # the prompt's codes, expression at full strength
        self._canonical: AlignedHead | None = None  # the neutral head of the current identity
        self._texture: np.ndarray | None = None

    @property
    def expression_names(self) -> tuple[str, ...]:
        """The menu: the prompt's own expression, then the head model's named ones (not its training blends)."""
        names = getattr(self.pipeline.text_to_head.head_model, "expression_names", ())
        return (FROM_PROMPT, *(name for name in names if not name.startswith("blend_")))

    def generate(
        self, prompt: str, seed: int = 0, texture: bool = True, progress: Callable[[str], None] | None = None
    ) -> ExplorerView:
        """The whole pipeline for ``prompt`` (``seed``: the texture's noise); the sliders keep their values.
        Raises ``ValueError`` for an empty prompt."""
        if not prompt.strip():
            raise ValueError('Type a prompt first, e.g. "a laughing old man with a grey beard".')
        report = progress or (lambda stage: None)
        report("text")
        start = time.perf_counter()
        self._codes = self.pipeline.text_to_head.codes(prompt)
        self.prompt, self.seed, self._canonical = prompt, seed, None
        return self._show({"text": time.perf_counter() - start}, report, texture=texture)

    def reshape(
        self,
        identity: Sequence[float] | None = None,
        expression: str | None = None,
        strength: float | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> ExplorerView:
        """The same prompt's head with new identity offsets (σ), expression or strength; the texture is kept.
        Only an identity change extracts the geometry again."""
        if self._codes is None:
            raise ValueError("Generate a head first.")
        if identity is not None and not np.allclose(identity, self.identity):
            self.identity, self._canonical = np.asarray(identity, dtype=float), None
        if expression is not None:
            if expression not in self.expression_names:
                raise ValueError(
                    f"Unknown expression {expression!r}; choose one of {', '.join(self.expression_names)}."
                )
            self.expression = expression
        self.strength = self.strength if strength is None else float(strength)
        return self._show({}, progress or (lambda stage: None), texture=None)

    def codes(self) -> HeadCodes:
        """The current identity (the prompt's, moved by the sliders) and expression (the menu's, at the strength)."""
        model = self.pipeline.text_to_head.head_model
        offset = torch.from_numpy(self.identity).float() @ self.directions
        target = self._codes.z_exp if self.expression == FROM_PROMPT else model.expression_code(self.expression)
        neutral = model.expression_code("neutral")
        return HeadCodes(self._codes.z_id + offset, neutral + self.strength * (target - neutral))

    def _show(self, seconds: dict[str, float], report: Callable[[str], None], texture: bool | None) -> ExplorerView:
        """Pose the head (extracting it when its identity changed), then texture it (True), drop the texture
        (False) or keep the one it has (None)."""
        codes = self.codes()
        model = self.pipeline.text_to_head.head_model
        report("geometry")
        start = time.perf_counter()
        if self._canonical is None:
            try:
                self._canonical = aligned_canonical_head(model, codes.z_id, self.resolution)
            except MeshError as error:
                raise ValueError(
                    f"This identity gives no head in the aligned layout ({error}); move it back."
                ) from error
        head = posed_head(model, self._canonical, codes.z_id, codes.z_exp)
        seconds["geometry"] = time.perf_counter() - start
        if texture:
            report("texture")
            settings = PipelineSettings(resolution=self.resolution)
            textured = self.pipeline(
                self.prompt, settings=settings, generator=torch.Generator().manual_seed(self.seed), mesh=head
            )
            self._texture, normal_map = textured.texture, textured.normal_map
            seconds |= {stage: textured.seconds[stage] for stage in ("normal map", "texture", "rectification")}
        else:
            normal_map = None
            self._texture = None if texture is False else self._texture
        self.view = ExplorerView(self.prompt, head, self._texture, normal_map, seconds)
        return self.view

    def normal_map(self) -> np.ndarray:
        """The current head's UV normal map (what ControlNet_uv is given), computed when first asked for."""
        view = self.view
        if view.normal_map is None:
            head = view.head
            normal_map = uv_normal_map(head.vertices, head.faces, head.uv, PipelineSettings().uv_size)
            self.view = replace(view, normal_map=normal_map)
        return self.view.normal_map

    def worn_texture(self) -> np.ndarray:
        """What the head wears outside the view (its GLB, its picture): the texture, else its UV normal map."""
        return self.view.texture if self.view.texture is not None else self.normal_map()
