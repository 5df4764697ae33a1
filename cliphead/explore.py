"""Interactive exploration of the pipeline for the notebooks and teaching (notebook 08).

A prompt box, the expression strength and sliders along a few principal directions of the identity
latent (the head model's most varying latent dimensions, in σ units) drive the whole pipeline; the
textured head is shown from the front, three-quarter and profile. In a Jupyter front end this is an
ipywidgets panel; a headless run (papermill, the tests) gets the same views as one static picture
of a sweep along the first direction.
"""

from __future__ import annotations

import numpy as np
import torch

from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings, TexturedHead
from cliphead.render import head_cameras
from cliphead.render.views import textured

#: Sliders along this many identity directions.
DIRECTIONS = 3


def identity_directions(model, n: int = DIRECTIONS) -> torch.Tensor:
    """Unit steps of one σ along the ``n`` identity-latent dimensions with the largest spread: ``(n, K)``."""
    order = torch.argsort(model.latent_std, descending=True)[:n]
    steps = torch.zeros(n, len(model.latent_std))
    steps[torch.arange(n), order] = model.latent_std[order]
    return steps


def views_picture(head: TexturedHead, size: int = 256) -> np.ndarray:
    """Front, three-quarter and profile renders of a textured head, side by side."""

    cameras = head_cameras(head.vertices, ("front", "three_quarter", "profile"), size)
    return np.concatenate([textured(head.vertices, head.faces, c, head.uv, head.texture) for c in cameras.values()], 1)


def sweep_picture(
    pipeline: CLIPHeadPipeline,
    prompt: str,
    offsets: tuple[float, ...] = (-2.0, 0.0, 2.0),
    size: int = 192,
    settings: PipelineSettings | None = None,
    seed: int = 0,
) -> np.ndarray:
    """The static fallback: the head of ``prompt`` moved along the first identity direction, one row per offset."""
    settings = settings or PipelineSettings()
    direction = identity_directions(pipeline.text_to_head.head_model, 1)[0]
    codes = pipeline.text_to_head.codes(prompt, expression_strength=settings.expression_strength)
    rows = [
        views_picture(
            pipeline(
                prompt,
                settings=settings,
                generator=torch.Generator().manual_seed(seed),
                codes=codes.offset(offset * direction),
            ),
            size,
        )
        for offset in offsets
    ]
    return np.concatenate(rows, axis=0)


def explorer(pipeline: CLIPHeadPipeline, prompt: str = "a laughing old man with a grey beard", size: int = 256):
    """An ipywidgets panel: prompt, expression strength and identity sliders → the textured head's views."""
    import io

    import ipywidgets as widgets
    from PIL import Image

    directions = identity_directions(pipeline.text_to_head.head_model)
    text = widgets.Text(value=prompt, description="prompt", layout=widgets.Layout(width="60%"))
    expression = widgets.FloatSlider(value=1.0, min=0.0, max=1.5, step=0.1, description="expression")
    sliders = [
        widgets.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.5, description=f"identity {k + 1}")
        for k in range(len(directions))
    ]
    image = widgets.Image(format="png")
    status = widgets.Label()

    def update(_=None) -> None:
        offset = sum(s.value * d for s, d in zip(sliders, directions))
        settings = PipelineSettings(expression_strength=expression.value, resolution=128)
        codes = pipeline.text_to_head.codes(text.value, expression_strength=expression.value)
        head = pipeline(text.value, settings=settings, codes=codes.offset(offset))
        buffer = io.BytesIO()
        Image.fromarray(np.round(views_picture(head, size) * 255).astype(np.uint8)).save(buffer, format="PNG")
        image.value = buffer.getvalue()
        status.value = f"{sum(head.seconds.values()):.1f} s"

    button = widgets.Button(description="generate")
    button.on_click(update)
    update()
    return widgets.VBox([widgets.HBox([text, button]), expression, *sliders, image, status])
