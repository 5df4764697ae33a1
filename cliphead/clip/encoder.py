"""The one interface every CLIP-like encoder of the project has (CLIP-Head §2.1, §3).

CLIP-Head needs a text tower and an image tower that share one embedding space: the mappers are
trained on image embeddings and run on text embeddings, and the CLIP score compares the two. An
encoder here has a ``name``, an embedding ``dim``, the square ``image_size`` its image tower takes, and
two methods that return L2-normalised ``(n, dim)`` float32 tensors, batched and without gradients
unless the image path is asked for them (later work optimises through it).

Inputs are checked the same way for every backend:

- prompts: a list of strings; an empty or whitespace-only prompt is an error; a prompt longer than
  the tokenizer's limit is truncated with a warning; non-English text is encoded as it is (the
  towers are English-only, so its embedding is a poor one) and warned about.
- images: an ``(H, W, 3)`` array or a list of them, an ``(n, H, W, 3)`` array (uint8 in 0..255 or
  float in [0, 1]), or an ``(n, 3, H, W)`` float tensor in [0, 1] (the differentiable path). Any
  other shape, channel count, dtype or value range is an error. Images of another size are resized
  (bilinear, antialiased) to ``image_size``; a non-square image is centre-cropped to a square first.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

ImageBatch = np.ndarray | torch.Tensor | Sequence[np.ndarray]


@runtime_checkable
class ImageTextEncoder(Protocol):
    """Text and image towers in one embedding space."""

    name: str
    dim: int
    image_size: int

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``(n, dim)`` unit vectors for ``n`` prompts."""

    def encode_image(self, images: ImageBatch, differentiable: bool = False) -> torch.Tensor:
        """``(n, dim)`` unit vectors for ``n`` RGB images; gradients flow when ``differentiable``."""


def checked_prompts(texts: Sequence[str] | str) -> list[str]:
    """The prompts as a list, refusing a bare string, non-strings, and empty or blank prompts."""
    if isinstance(texts, str):
        raise TypeError("encode_text takes a list of prompts; wrap a single prompt as [prompt]")
    texts = list(texts)
    if not texts:
        raise ValueError("encode_text needs at least one prompt")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"prompt {index} is a {type(text).__name__}, not a str")
        if not text.strip():
            raise ValueError(f"prompt {index} is empty or whitespace only; a CLIP embedding needs words")
    for text in texts:
        if not is_mostly_latin(text):
            warnings.warn(
                f"prompt {text[:40]!r} is mostly non-Latin text; the text towers are English-only, "
                "so it is encoded as it is but its embedding carries little meaning",
                stacklevel=3,
            )
    return texts


def is_mostly_latin(text: str) -> bool:
    """Whether at least half of the letters in ``text`` are Latin (ASCII or accented Latin)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    latin = sum(c.isascii() or "LATIN" in unicodedata.name(c, "") for c in letters)
    return latin >= 0.5 * len(letters)


def warn_truncated(text: str, n_tokens: int, limit: int) -> None:
    """The warning every backend gives when it cuts a prompt at its tokenizer's limit."""
    warnings.warn(
        f"prompt {text[:40]!r}... has {n_tokens} tokens; truncated at the tokenizer limit of {limit}",
        stacklevel=3,
    )


def image_batch(images: ImageBatch) -> torch.Tensor:
    """Validate ``images`` and return an ``(n, 3, H, W)`` float32 tensor in [0, 1] (see module doc)."""
    if isinstance(images, torch.Tensor):
        batch = images
        if batch.ndim == 3:
            batch = batch[None]
        if batch.ndim != 4 or batch.shape[1] != 3:
            raise ValueError(f"an image tensor must be (n, 3, H, W) RGB; got shape {tuple(images.shape)}")
        if batch.shape[0] == 0:
            raise ValueError("encode_image needs at least one image")
        _check_side(batch.shape[-2:], "the image tensor")
        if not batch.is_floating_point():
            raise TypeError(f"an image tensor must be float in [0, 1]; got {batch.dtype}")
        _check_range(batch.detach())
        return batch.float()
    if isinstance(images, np.ndarray):
        arrays = [images] if images.ndim == 3 else list(images) if images.ndim == 4 else None
        if arrays is None:
            raise ValueError(f"an image array must be (H, W, 3) or (n, H, W, 3); got shape {images.shape}")
    else:
        arrays = list(images)
    if not arrays:
        raise ValueError("encode_image needs at least one image")
    tensors = [_one_image(np.asarray(array), index) for index, array in enumerate(arrays)]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        side = min(min(s[1:]) for s in shapes)
        tensors = [resize_square(t[None], side)[0] for t in tensors]
    return torch.stack(tensors)


def _one_image(array: np.ndarray, index: int) -> torch.Tensor:
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"image {index} must be (H, W, 3) RGB; got shape {array.shape}")
    _check_side(array.shape[:2], f"image {index}")
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / 255.0).permute(2, 0, 1)
    if array.dtype in (np.float32, np.float64):
        tensor = torch.from_numpy(array.astype(np.float32)).permute(2, 0, 1)
        _check_range(tensor)
        return tensor
    raise TypeError(f"image {index} has dtype {array.dtype}; use uint8 (0..255) or float32/float64 in [0, 1]")


def _check_side(height_width, what: str) -> None:
    height, width = (int(v) for v in height_width)
    if min(height, width) < 8:
        raise ValueError(f"{what} is {width}x{height} pixels; at least 8x8 is needed")


def _check_range(batch: torch.Tensor) -> None:
    if not torch.isfinite(batch).all():
        raise ValueError("images hold NaN or infinite values")
    low, high = float(batch.min()), float(batch.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ValueError(f"float images must lie in [0, 1]; got values in [{low:.3g}, {high:.3g}] (0..255 needs uint8)")


def resize_square(batch: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop ``(n, 3, H, W)`` to a square, then resize to ``size`` (bilinear, antialiased)."""
    height, width = batch.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    batch = batch[..., top : top + side, left : left + side]
    if side == size:
        return batch
    return F.interpolate(batch, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def normalised(embeddings: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit length, as float32."""
    return F.normalize(embeddings.float(), dim=-1)


def fingerprint(encoder: ImageTextEncoder) -> str:
    """A short digest of what an encoder computes (its name, and its embeddings of a fixed text and image).

    Caches of embeddings are keyed by it, so retrained weights behind the same name never reuse them.
    """
    import hashlib

    image = np.random.default_rng(0).integers(0, 256, (encoder.image_size, encoder.image_size, 3), dtype=np.uint8)
    probe = torch.cat([encoder.encode_text(["a face"]), encoder.encode_image(image)]).numpy()
    digest = hashlib.sha256(encoder.name.encode() + np.round(probe, 3).tobytes())
    return digest.hexdigest()[:12]
