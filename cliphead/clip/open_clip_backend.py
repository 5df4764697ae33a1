"""The open_clip backend: the real CLIP models the paper's CLIP-score evaluators load through.

CLIP-Head §3 scores text-to-head agreement with three open_clip models, ViT-B/16, ViT-L/14 and
ViT-H/14; ``build_encoder("open_clip:ViT-B-16/laion2b_s34b_b88k")`` (and the like) loads them here. A
spec is ``ARCH/PRETRAINED``:

- ``ARCH`` is an open_clip model name (``open_clip.list_models()``) or the path of a model-config
  ``.json`` file, which is registered with open_clip under the file's stem;
- ``PRETRAINED`` is an open_clip pretrained tag (downloaded on first use, which needs a model hub)
  or the path of a local checkpoint file; without it the model is randomly initialised (a warning).

Images are centre-cropped and resized with :func:`cliphead.clip.encoder.resize_square` (bilinear,
antialiased), not with open_clip's PIL transform, so that the image path stays differentiable; the
embeddings therefore differ slightly from open_clip's reference preprocessing.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import open_clip
import torch

from cliphead.clip.encoder import ImageBatch, checked_prompts, image_batch, normalised, resize_square, warn_truncated

#: Prompts or images per forward pass.
BATCH_SIZE = 64


def parse_spec(rest: str) -> tuple[str, str | None]:
    """``(arch, pretrained)`` from ``ARCH[/PRETRAINED]``; both parts may be paths.

    A config path is split off after its first ``.json/``; a model name ends at the first ``/``.
    """
    rest = rest.strip()
    if ".json/" in rest:
        head, _, pretrained = rest.partition(".json/")
        arch = head + ".json"
    elif rest.endswith(".json"):
        arch, pretrained = rest, ""
    else:
        arch, _, pretrained = rest.partition("/")
    arch, pretrained = arch.strip(), pretrained.strip()
    if not arch or arch == ".json":
        raise ValueError(
            f"malformed open_clip spec {rest!r}; expected open_clip:ARCH/PRETRAINED, e.g. "
            "open_clip:ViT-B-16/laion2b_s34b_b88k or open_clip:config.json/checkpoint.pt"
        )
    return arch, pretrained or None


def registered_arch(arch: str) -> str:
    """The open_clip model name for ``arch``, registering a config ``.json`` under its stem."""
    if arch.endswith(".json"):
        path = Path(arch)
        if not path.is_file():
            raise ValueError(f"open_clip model config {arch!r} does not exist")
        open_clip.add_model_config(path)
        if open_clip.get_model_config(path.stem) is None:
            raise ValueError(f"{arch!r} is not an open_clip model config (it needs embed_dim, vision_cfg, text_cfg)")
        return path.stem
    if arch not in open_clip.list_models():
        close = difflib.get_close_matches(arch, open_clip.list_models(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see open_clip.list_models()"
        raise ValueError(f"unknown open_clip architecture {arch!r}{hint}")
    return arch


class OpenCLIPEncoder:
    """An open_clip model behind the :class:`~cliphead.clip.encoder.ImageTextEncoder` interface (CPU, eval)."""

    def __init__(self, model: torch.nn.Module, tokenizer, *, name: str, dim: int) -> None:
        """Wrap a created open_clip ``model`` and its ``tokenizer``; ``dim`` is the embedding size."""
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.name = name
        self.dim = dim
        config = open_clip.get_model_preprocess_cfg(model)
        size = config.get("size", model.visual.image_size)
        height, width = (size, size) if isinstance(size, int) else size
        if height != width:
            raise ValueError(f"{name} takes {width}x{height} images; only square inputs are supported")
        self.image_size = int(height)
        self._mean = torch.tensor(config.get("mean", open_clip.OPENAI_DATASET_MEAN)).view(1, 3, 1, 1)
        self._std = torch.tensor(config.get("std", open_clip.OPENAI_DATASET_STD)).view(1, 3, 1, 1)

    @classmethod
    def from_spec(cls, rest: str) -> OpenCLIPEncoder:
        """The encoder for ``ARCH[/PRETRAINED]`` (the part of ``open_clip:...`` after the colon)."""
        arch, pretrained = parse_spec(rest)
        model_name = registered_arch(arch)
        name = f"open_clip:{arch}" + (f"/{pretrained}" if pretrained else "")
        # pretrained_text=False: a randomly initialised model must not fetch base text-tower weights.
        options = {"precision": "fp32", "device": "cpu", "pretrained_text": False}
        if pretrained is None:
            warnings.warn(
                f"{name} has no pretrained weights; it is randomly initialised and its embeddings carry no meaning",
                stacklevel=2,
            )
            model = open_clip.create_model(model_name, **options)
        elif os.path.isfile(pretrained):
            model = open_clip.create_model(model_name, pretrained=pretrained, **options)
        else:
            tags = open_clip.list_pretrained_tags_by_model(model_name)
            if pretrained not in tags:
                raise ValueError(
                    f"{pretrained!r} is neither a checkpoint file nor a pretrained tag of {arch}; "
                    f"known tags: {', '.join(tags) or 'none'}"
                )
            # Tags trained with QuickGELU (e.g. openai) need it in the model too, or the embeddings are off.
            quick_gelu = bool(open_clip.get_pretrained_cfg(model_name, pretrained).get("quick_gelu", False))
            try:
                model = open_clip.create_model(model_name, pretrained, force_quick_gelu=quick_gelu, **options)
            except Exception as error:
                raise RuntimeError(
                    f"could not load the {pretrained!r} weights of {arch} ({error}); downloading them needs a model "
                    "hub, which cannot be reached from this machine: fetch the checkpoint elsewhere and pass its "
                    f"local path instead, as open_clip:{arch}/PATH"
                ) from error
        dim = open_clip.get_model_config(model_name)["embed_dim"]
        return cls(model, open_clip.get_tokenizer(model_name), name=name, dim=dim)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``(n, dim)`` unit vectors for ``n`` prompts; over-long prompts are truncated with a warning."""
        prompts = checked_prompts(texts)
        limit = self.tokenizer.context_length
        for text in prompts:
            n_tokens = self._token_count(text)
            if n_tokens > limit:
                warn_truncated(text, n_tokens, limit)
        with torch.no_grad():
            chunks = [
                self.model.encode_text(self.tokenizer(prompts[start : start + BATCH_SIZE]))
                for start in range(0, len(prompts), BATCH_SIZE)
            ]
        return normalised(torch.cat(chunks))

    def encode_image(self, images: ImageBatch, differentiable: bool = False) -> torch.Tensor:
        """``(n, dim)`` unit vectors for ``n`` RGB images; gradients reach a tensor input when ``differentiable``."""
        batch = image_batch(images)
        with torch.set_grad_enabled(differentiable):
            chunks = [
                self._embed_images(batch[start : start + BATCH_SIZE]) for start in range(0, len(batch), BATCH_SIZE)
            ]
        return torch.cat(chunks)

    def _embed_images(self, batch: torch.Tensor) -> torch.Tensor:
        pixels = (resize_square(batch, self.image_size) - self._mean) / self._std
        return normalised(self.model.encode_image(pixels))

    def _token_count(self, text: str) -> int:
        """Tokens ``text`` takes, start and end tokens included."""
        if isinstance(self.tokenizer, open_clip.SimpleTokenizer):
            return len(self.tokenizer.encode(text)) + 2
        return len(self.tokenizer.tokenizer(text)["input_ids"])  # Hugging Face backed tokenizers
