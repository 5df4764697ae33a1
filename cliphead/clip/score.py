"""The CLIP score exactly as CLIP-Head §3 defines it, for any encoder.

CLIP score = cosine similarity between the prompt's text embedding and the rendered textured head's
image embedding (no ×100 scaling, no clipping at 0). Averaged over views, it is the mean of the
per-view cosines. The evaluation notebook and the pipeline both call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cliphead.clip.encoder import ImageBatch, ImageTextEncoder


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
