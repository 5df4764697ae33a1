"""The prompt as ControlNet_uv reads it: token states of a text encoder (§2.3), and a pooled embedding.

Stable Diffusion cross-attends to the last hidden states of its CLIP text encoder; the embedded
model cross-attends to the last-layer token states of the locked MiniLM, the text tower of the
embedded ``lit-minilm`` encoder, so prompt and ψ are read by the same network. Both give a fixed
number of tokens per prompt (the empty prompt is classifier-free guidance's unconditional context).

The embedded UNet also adds the prompt's pooled sentence embedding (the ``lit-minilm`` text
embedding) to its timestep embedding, as SDXL adds its pooled text embedding. The shipped model does
not use it: what it draws from the prompt alone comes through cross-attention, and replacing the
pooled embedding by the empty prompt's changes nothing (:func:`~cliphead.lab.texture.evaluation.prompt_knowledge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

#: Embedded context length: the training captions' longest is about 60 MiniLM tokens.
MINILM_CONTEXT_TOKENS = 64


@dataclass(frozen=True)
class PromptConditioning:
    """``states`` (n, tokens, dim) for cross-attention; ``pooled`` (n, dim) for a UNet with a class embedding, else None."""

    states: torch.Tensor
    pooled: torch.Tensor | None = None

    def denoiser_inputs(self) -> dict[str, torch.Tensor | None]:
        """Keyword arguments of ``UNet2DConditionModel`` and ``ControlNetModel``."""
        return {"encoder_hidden_states": self.states, "class_labels": self.pooled}

    def after_unconditional(self, empty: PromptConditioning) -> PromptConditioning:
        """``empty`` (one prompt) repeated n times, then these n: classifier-free guidance's batch."""

        def doubled(unconditional: torch.Tensor | None, conditional: torch.Tensor | None) -> torch.Tensor | None:
            return None if conditional is None else torch.cat([unconditional.expand_as(conditional), conditional])

        return PromptConditioning(doubled(empty.states, self.states), doubled(empty.pooled, self.pooled))


class TextContext(Protocol):
    """What the denoisers read of prompts, on the device :meth:`to` names."""

    dim: int

    def __call__(self, prompts: Sequence[str]) -> PromptConditioning: ...

    def to(self, device: str | torch.device) -> TextContext: ...


class MiniLMTokenStates:
    """The locked MiniLM's token states, zero past each prompt's end (``MINILM_CONTEXT_TOKENS`` long), and
    their masked mean, unit length: the ``lit-minilm`` text embedding (a UNet without a class embedding ignores it).
    MiniLM runs on ``device`` (the CPU by default), and the states are on it."""

    dim = 384

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)

    def __call__(self, prompts: Sequence[str]) -> PromptConditioning:
        from cliphead.clip.minilm import mean_pooled, minilm_text_tower

        states, mask = minilm_text_tower(self.device).token_states(prompts, MINILM_CONTEXT_TOKENS)
        return PromptConditioning(states, mean_pooled(states, mask))

    def to(self, device: str | torch.device) -> MiniLMTokenStates:
        """The same token states, computed on ``device``."""
        return MiniLMTokenStates(device)


class CLIPTokenStates:
    """A Stable Diffusion folder's CLIP text encoder: last hidden states over 77 padded tokens."""

    def __init__(self, base: Path) -> None:
        from transformers import CLIPTextModel, CLIPTokenizer

        self.tokenizer = CLIPTokenizer.from_pretrained(Path(base) / "tokenizer")
        self.encoder = CLIPTextModel.from_pretrained(Path(base) / "text_encoder").eval()
        self.dim = int(self.encoder.config.hidden_size)

    def to(self, device: str | torch.device) -> CLIPTokenStates:
        """Move the text encoder to ``device`` (in place): the states are computed there."""
        self.encoder.to(device)
        return self

    def __call__(self, prompts: Sequence[str]) -> PromptConditioning:
        tokens = self.tokenizer(
            list(prompts),
            padding="max_length",
            truncation=True,
            max_length=self.tokenizer.model_max_length,
            return_tensors="pt",
        )
        with torch.no_grad():
            return PromptConditioning(self.encoder(tokens.input_ids.to(self.encoder.device)).last_hidden_state)
