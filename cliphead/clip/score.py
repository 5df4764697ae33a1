"""The CLIP score exactly as CLIP-Head §3 defines it, for any encoder.

CLIP score = cosine similarity between the prompt's text embedding and the rendered textured head's
image embedding (no ×100 scaling, no clipping at 0). Averaged over views, it is the mean of the
per-view cosines. The evaluation notebook and the pipeline both call these functions;
:func:`score_image_files` is ``cliphead score clip``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cliphead.clip.encoder import ImageBatch, ImageTextEncoder
from cliphead.clip.registry import DEFAULT_ENCODER, build_encoder


def clip_scores(encoder: ImageTextEncoder, prompt: str, images: ImageBatch) -> np.ndarray:
    """One CLIP score per image: ``cos(text(prompt), image(view))``, shape ``(n,)``."""
    text = encoder.encode_text([prompt])
    image = encoder.encode_image(images)
    return (image @ text.T).squeeze(1).numpy().astype(np.float64)


def clip_score(encoder: ImageTextEncoder, prompt: str, views: ImageBatch) -> float:
    """The CLIP score of a head rendered from several ``views``: the mean of the per-view scores."""
    return float(clip_scores(encoder, prompt, views).mean())


def clip_score_matrix(encoder: ImageTextEncoder, prompts: Sequence[str], images: ImageBatch) -> torch.Tensor:
    """``(n_prompts, n_images)`` cosine similarities, for retrieval and zero-shot classification."""
    return encoder.encode_text(list(prompts)) @ encoder.encode_image(images).T


def score_image_files(paths: Sequence[str | os.PathLike], prompt: str, encoder_spec: str = DEFAULT_ENCODER) -> dict:
    """The CLIP score of each image file (PNG/JPEG, any size) against ``prompt``, and their mean.

    ``encoder_spec`` is read by :func:`~cliphead.clip.registry.build_encoder`. Returns the encoder's
    name, the prompt, the image paths, one score per image and the mean (rounded to 6 decimals).
    """
    images = []
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no image at {path}")
        images.append(np.asarray(Image.open(path).convert("RGB")))
    encoder = build_encoder(encoder_spec)
    scores = clip_scores(encoder, prompt, images)
    return {
        "encoder": encoder.name,
        "prompt": prompt,
        "images": [str(path) for path in paths],
        "scores": [round(float(score), 6) for score in scores],
        "mean": round(float(np.mean(scores)), 6),
    }
