"""The prompt as ControlNet_uv's cross-attention context: token states of a text encoder (§2.3).

Stable Diffusion cross-attends to the last hidden states of its CLIP text encoder; the embedded
model cross-attends to the last-layer token states of the locked MiniLM, the text tower of the
embedded ``lit-minilm`` encoder, so prompt and ψ are read by the same network. Both give a fixed
number of tokens per prompt (the empty prompt is classifier-free guidance's unconditional context).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch

#: Embedded context length: the training captions' longest is about 60 MiniLM tokens.
MINILM_CONTEXT_TOKENS = 64


class TextContext(Protocol):
    """``(n, tokens, dim)`` cross-attention context of prompts."""

    dim: int

    def __call__(self, prompts: Sequence[str]) -> torch.Tensor: ...


class MiniLMTokenStates:
    """The locked MiniLM's token states, zero past each prompt's end (``MINILM_CONTEXT_TOKENS`` long)."""

    dim = 384

    def __call__(self, prompts: Sequence[str]) -> torch.Tensor:
        from cliphead.clip.minilm import minilm_text_tower

        states, _ = minilm_text_tower().token_states(prompts, MINILM_CONTEXT_TOKENS)
        return states


class CLIPTokenStates:
    """A Stable Diffusion folder's CLIP text encoder: last hidden states over 77 padded tokens."""

    def __init__(self, base: Path) -> None:
        from transformers import CLIPTextModel, CLIPTokenizer

        self.tokenizer = CLIPTokenizer.from_pretrained(Path(base) / "tokenizer")
        self.encoder = CLIPTextModel.from_pretrained(Path(base) / "text_encoder").eval()
        self.dim = int(self.encoder.config.hidden_size)

    def __call__(self, prompts: Sequence[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(prompts), padding="max_length", truncation=True,
                                max_length=self.tokenizer.model_max_length, return_tensors="pt")  # fmt: skip
        with torch.no_grad():
            return self.encoder(tokens.input_ids).last_hidden_state
