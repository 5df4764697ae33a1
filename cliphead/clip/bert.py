"""A BERT encoder in plain torch, enough to run MiniLM's saved weights (inference only).

The embedded text tower is all-MiniLM-L6-v2, a 6-layer BERT. Running it through
sentence-transformers costs several seconds of imports on every start, most of a short command's
time, so this module runs the same weights directly: token, position and segment embeddings, then
post-norm transformer layers (multi-head self-attention with the padding masked, exact-erf GELU
feed-forward), as in Devlin et al. (2019). The test suite checks it against sentence-transformers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class BertConfig:
    """The fields of a Hugging Face ``config.json`` that the forward pass needs."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        values = json.loads(Path(path).read_text())
        if values.get("model_type") != "bert" or values.get("hidden_act") != "gelu":
            raise ValueError(f"{path} is not a BERT config with GELU activations")
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})


class BertLayer(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.attention_out = nn.Linear(c.hidden_size, c.hidden_size)
        self.attention_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.intermediate = nn.Linear(c.hidden_size, c.intermediate_size)
        self.out = nn.Linear(c.intermediate_size, c.hidden_size)
        self.out_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, mask_bias: torch.Tensor) -> torch.Tensor:
        batch, length, width = hidden.shape

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden))
        scores = q @ k.transpose(-1, -2) / math.sqrt(width // self.heads) + mask_bias
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, width)
        hidden = self.attention_norm(hidden + self.attention_out(context))
        return self.out_norm(hidden + self.out(F.gelu(self.intermediate(hidden))))


class BertEncoder(nn.Module):
    """Token ids → contextual token embeddings ``(n, L, hidden)``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        c = config
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.embedding_norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.layers = nn.ModuleList(BertLayer(c) for _ in range(c.num_hidden_layers))

    def forward(self, token_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(token_ids.shape[1], device=token_ids.device)
        hidden = self.word_embeddings(token_ids) + self.position_embeddings(positions)
        hidden = self.embedding_norm(hidden + self.token_type_embeddings.weight[0])
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            hidden = layer(hidden, mask_bias)
        return hidden

    def load_hugging_face(self, tensors: dict[str, torch.Tensor]) -> None:
        """Load a ``BertModel`` state dict as saved by transformers (the pooler is not used)."""
        names = {
            "word_embeddings.weight": "embeddings.word_embeddings.weight",
            "position_embeddings.weight": "embeddings.position_embeddings.weight",
            "token_type_embeddings.weight": "embeddings.token_type_embeddings.weight",
            "embedding_norm.weight": "embeddings.LayerNorm.weight",
            "embedding_norm.bias": "embeddings.LayerNorm.bias",
        }
        parts = {
            "query": "attention.self.query",
            "key": "attention.self.key",
            "value": "attention.self.value",
            "attention_out": "attention.output.dense",
            "attention_norm": "attention.output.LayerNorm",
            "intermediate": "intermediate.dense",
            "out": "output.dense",
            "out_norm": "output.LayerNorm",
        }
        for k in range(len(self.layers)):
            for ours, theirs in parts.items():
                for kind in ("weight", "bias"):
                    names[f"layers.{k}.{ours}.{kind}"] = f"encoder.layer.{k}.{theirs}.{kind}"
        self.load_state_dict({ours: tensors[theirs] for ours, theirs in names.items()})
