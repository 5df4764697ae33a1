"""The explorer's static pictures: what a headless run (papermill, the tests, a rendered notebook) shows in
place of the interactive view, and the identity sweep of notebook 08."""

from __future__ import annotations

import numpy as np
import torch

from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings
from cliphead.render import head_cameras
from cliphead.render.views import textured

from cliphead.explorer.session import identity_directions

#: The views of the static pictures.
VIEWS = ("front", "three_quarter", "profile")


def views_picture(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, texture: np.ndarray, size: int = 256
) -> np.ndarray:
    """Front, three-quarter and profile renders of a textured head, side by side."""
    cameras = head_cameras(vertices, VIEWS, size)
    return np.concatenate([textured(vertices, faces, camera, uv, texture) for camera in cameras.values()], 1)


def sweep_picture(
    pipeline: CLIPHeadPipeline,
    prompt: str,
    offsets: tuple[float, ...] = (-2.0, 0.0, 2.0),
    size: int = 192,
    settings: PipelineSettings | None = None,
    seed: int = 0,
) -> np.ndarray:
    """The head of ``prompt`` moved along the first identity direction, one row of views per offset."""
    settings = settings or PipelineSettings()
    direction = identity_directions(pipeline.text_to_head.head_model, 1)[0]
    codes = pipeline.text_to_head.codes(prompt, expression_strength=settings.expression_strength)
    rows = []
    for offset in offsets:
        generator = torch.Generator().manual_seed(seed)
        head = pipeline(prompt, settings=settings, generator=generator, codes=codes.offset(offset * direction))
        rows.append(views_picture(head.vertices, head.faces, head.uv, head.texture, size))
    return np.concatenate(rows, axis=0)
