"""``lit-minilm``: the embedded encoder — the locked MiniLM text tower and the trained image tower.

Its weights (the image tower only; the text tower comes with the pinned package) ship in
``cliphead/weights/lit_minilm_image.safetensors``, listed in the weights manifest with their sha256
and the command that produced them (``cliphead train clip --install``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file

from cliphead.clip.encoder import ImageBatch, image_batch, normalised, resize_square
from cliphead.clip.image_tower import ImageTower, ImageTowerConfig
from cliphead.clip.minilm import MINILM_DIM, MiniLMTextTower, minilm_text_tower
from cliphead.weights.manifest import read_description, save_weights

DEFAULT_LIT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "lit_minilm_image.safetensors"
FORMAT = "cliphead.lit-minilm.v1"


class LiTMiniLMEncoder:
    """The ``ImageTextEncoder`` of the embedded default (see the module doc)."""

    dim = MINILM_DIM

    def __init__(self, tower: ImageTower, text_tower: MiniLMTextTower | None = None, name: str = "lit-minilm"):
        if tower.config.embed_dim != MINILM_DIM:
            raise ValueError(f"the image tower must embed into MiniLM's {MINILM_DIM} dimensions")
        self.tower = tower.eval()
        self.text_tower = text_tower or minilm_text_tower()
        self.name = name
        self.image_size = tower.config.image_size
        self.batch_size = 256

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        return self.text_tower.encode(texts)

    def encode_image(self, images: ImageBatch, differentiable: bool = False) -> torch.Tensor:
        batch = resize_square(image_batch(images), self.image_size)
        if differentiable:
            return normalised(self.tower(batch))
        with torch.no_grad():
            return torch.cat([normalised(self.tower(chunk)) for chunk in batch.split(self.batch_size)])


def save_image_tower(tower: ImageTower, path: Path, provenance: dict) -> Path:
    """The tower's weights as fp16 safetensors with its config and provenance in one metadata key."""
    tensors = {
        key: value.detach().to(torch.float16 if value.is_floating_point() else value.dtype).contiguous()
        for key, value in tower.state_dict().items()
    }
    return save_weights(tensors, path, {"format": FORMAT, "config": tower.config.to_dict(), "provenance": provenance})


def load_image_tower(path: Path | str | None = None) -> ImageTower:
    """The image tower stored at ``path`` (default: the shipped weights), as float32."""
    path = Path(path) if path else DEFAULT_LIT_WEIGHTS
    if not path.exists():
        raise FileNotFoundError(
            f"no image-tower weights at {path}; train them with `cliphead train clip` (add --install to ship them)"
        )
    metadata = read_description(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path} is not a lit-minilm image tower (format {metadata.get('format')!r})")
    tower = ImageTower(ImageTowerConfig.from_dict(metadata["config"]))
    state = {key: value.float() if value.is_floating_point() else value for key, value in load_file(str(path)).items()}
    tower.load_state_dict(state)
    return tower.eval()


def load_lit_minilm(path: Path | str | None = None) -> LiTMiniLMEncoder:
    """``lit-minilm`` with the shipped image tower, or with the one at ``path``."""
    name = "lit-minilm" if path is None else f"lit-minilm:{path}"
    return LiTMiniLMEncoder(load_image_tower(path), name=name)
