"""The mapping networks MLP_id and MLP_exp (CLIP-Head §2.1, supplementary §2), and MLP_ψ (supp. §5).

Supplementary §2: each mapper is an 8-layer MLP with one skip connection that feeds the input into
the 4th layer (concatenated to the 3rd layer's output, as in DeepSDF), trained with AdamW, batch size
10, for 100 epochs on an L2 loss between predicted and ground-truth latents. The input is the
encoder's embedding ψ, the output a latent of the head model (z_id or z_exp).

The last layer's output is read in units of the latent distribution: the network predicts
``(z - mean) / std`` and returns ``mean + std * output``, with the training latents' per-dimension
mean and standard deviation stored as buffers, so every output dimension starts at the right scale.
The loss is still the paper's L2 on the latents themselves. The backward network MLP_ψ of the
cyclic-loss ablation is the same architecture from a latent to ψ.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from cliphead.weights.manifest import read_description, save_weights

FORMAT = "cliphead-mapper-1"


@dataclass(frozen=True)
class MapperConfig:
    """Sizes of one mapping MLP."""

    input_dim: int = 384
    output_dim: int = 64
    hidden: int = 512
    layers: int = 8
    skip_layer: int = 4  # the input joins the input of this layer (1-based)


class MappingMLP(nn.Module):
    """``ψ ↦ z``: ``layers`` linear layers with ReLUs and the input skipped into ``skip_layer``."""

    def __init__(self, config: MapperConfig) -> None:
        super().__init__()
        c = config
        if not 1 < c.skip_layer <= c.layers:
            raise ValueError(f"skip_layer must be in 2..{c.layers}, got {c.skip_layer}")
        self.config = config
        widths_in = [c.input_dim] + [
            c.hidden + (c.input_dim if k == c.skip_layer else 0) for k in range(2, c.layers + 1)
        ]
        widths_out = [c.hidden] * (c.layers - 1) + [c.output_dim]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths_in, widths_out))
        self.register_buffer("output_mean", torch.zeros(c.output_dim))
        self.register_buffer("output_std", torch.ones(c.output_dim))

    def set_output_statistics(self, targets: torch.Tensor) -> None:
        """Read outputs in the units of ``targets`` (N, output_dim): their mean and per-dimension spread."""
        self.output_mean.copy_(targets.mean(0))
        self.output_std.copy_(targets.std(0).clamp(min=1e-6))

    def forward(self, psi: torch.Tensor) -> torch.Tensor:
        hidden = psi
        for k, linear in enumerate(self.linears, start=1):
            if k == self.config.skip_layer:
                hidden = torch.cat([hidden, psi], -1)
            hidden = linear(hidden)
            if k < self.config.layers:
                hidden = torch.relu(hidden)
        return self.output_mean + self.output_std * hidden


def save_mapper(mapper: MappingMLP, path: Path, provenance: dict, dtype: torch.dtype = torch.float16) -> Path:
    """Write a mapper (safetensors; its config and ``provenance`` in the metadata); refuses over 16 MB."""
    tensors = {name: tensor.detach().to(dtype).contiguous() for name, tensor in mapper.state_dict().items()}
    description = {"format": FORMAT, "config": asdict(mapper.config), "provenance": provenance}
    return save_weights(tensors, path, description)


def load_mapper(path: Path) -> tuple[MappingMLP, dict]:
    """A saved mapper in float32 and eval mode, with the provenance it was saved with."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No mapper weights at {path}. The embedded mappers ship with the package; regenerate them with "
            "`cliphead train mappers --install`."
        )
    try:
        tensors = load_file(path)
        description = read_description(path)
        if description["format"] != FORMAT:
            raise KeyError(f"format {description['format']!r}")
        mapper = MappingMLP(MapperConfig(**description["config"]))
        mapper.load_state_dict({name: tensor.float() for name, tensor in tensors.items()})
    except (SafetensorError, KeyError, json.JSONDecodeError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path} is not a cliphead mapper ({error}); regenerate it or pass another file.") from error
    return mapper.eval(), description["provenance"]
