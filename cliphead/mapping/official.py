"""The official CLIP-Head mappers: the published ``clip2nphm`` state dicts, loaded strictly (CLIP-Head §2.1).

The public CLIP-Head repository releases its two mappers as PyTorch state dicts of a NeRF-style MLP:
``pts_linears.{0..7}`` (Linear 1024→512, 512→256, then 256→256; a ReLU after each) and
``output_linear`` (256→1344 NPHM identity code, or 256→200 expression code; no activation). After the
5th layer's ReLU the input embedding is concatenated in front of the hidden state, so the 6th layer
takes 1024 + 256 inputs. The input is the L2-normalised open_clip ViT-H-14 text embedding; the
outputs are NPHM codes, used raw. Every size is read off the tensors' shapes, so a state dict of the
same layout with other widths loads too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cliphead.weights.torch_files import load_weights_only

#: The file names the official repository gives its identity and expression mappers.
OFFICIAL_FILES = {"id": "clip2nphm_model_0.pth", "exp": "clip2nphm_model_exp_more_exp_L2_134.pth"}
#: The output sizes of the official mappers: NPHM's identity (64 global + 40 × 32 local) and expression codes.
OFFICIAL_OUTPUT_DIMS = {"id": 1344, "exp": 200}
_KEY = re.compile(r"pts_linears\.(\d+)\.(weight|bias)|output_linear\.(weight|bias)")


@dataclass(frozen=True)
class OfficialMapperConfig:
    """Sizes of an official mapper: the embedding, each hidden layer's width, the layer whose input is
    ``[embedding, hidden]`` (0-based index into ``widths``), and the code."""

    input_dim: int
    widths: tuple[int, ...]
    skip_into: int
    output_dim: int


class OfficialMapper(nn.Module):
    """``ψ ↦ z`` with the official key layout (module doc)."""

    def __init__(self, config: OfficialMapperConfig) -> None:
        super().__init__()
        self.config = config
        widths_in = [config.input_dim, *config.widths[:-1]]
        widths_in[config.skip_into] += config.input_dim
        self.pts_linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths_in, config.widths))
        self.output_linear = nn.Linear(config.widths[-1], config.output_dim)

    def forward(self, psi: torch.Tensor) -> torch.Tensor:
        hidden = psi
        for k, linear in enumerate(self.pts_linears):
            if k == self.config.skip_into:
                hidden = torch.cat([psi, hidden], -1)
            hidden = torch.relu(linear(hidden))
        return self.output_linear(hidden)


def config_from_state(state: dict[str, torch.Tensor], path: Path) -> OfficialMapperConfig:
    """The sizes a state dict of the official layout implies; a clear error when it is not that layout."""
    unexpected = sorted(key for key in state if not _KEY.fullmatch(key))
    layers = sorted({int(match.group(1)) for key in state if (match := _KEY.fullmatch(key)) and match.group(1)})
    expected = {f"pts_linears.{k}.{part}" for k in range(len(layers)) for part in ("weight", "bias")}
    missing = sorted((expected | {"output_linear.weight", "output_linear.bias"}) - set(state))
    if unexpected or missing or not layers:
        raise ValueError(
            f"{path} is not an official CLIP-Head mapper state dict (missing {missing[:4]}, unexpected "
            f"{unexpected[:4]}); it must hold pts_linears.0..N and output_linear, as clip2nphm_model_*.pth do."
        )
    shapes = [tuple(state[f"pts_linears.{k}.weight"].shape) for k in range(len(layers))]
    input_dim, widths = shapes[0][1], tuple(out for out, _ in shapes)
    skips = [k for k in range(1, len(shapes)) if shapes[k][1] == input_dim + widths[k - 1]]
    chained = all(shapes[k][1] == widths[k - 1] or k in skips[:1] for k in range(1, len(shapes)))
    if len(skips) != 1 or not chained or state["output_linear.weight"].shape[1] != widths[-1]:
        raise ValueError(
            f"{path}: the layer shapes {shapes} + output {tuple(state['output_linear.weight'].shape)} do not chain "
            "into one MLP with a single skip of the input; the file does not match the official mapper."
        )
    return OfficialMapperConfig(input_dim, widths, skips[0], int(state["output_linear.weight"].shape[0]))


def load_official_mapper(path: str | Path) -> OfficialMapper:
    """An official mapper from its ``.pth`` state dict (weights-only load, strict), float32, eval mode."""
    path = Path(path)
    state = load_weights_only(path, missing=f"No mapper state dict at {path}.", save_instead="`mapper.state_dict()`")
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ValueError(f"{path} is not a state dict of tensors; save `mapper.state_dict()`.")
    mapper = OfficialMapper(config_from_state(state, path))
    mapper.load_state_dict({key: value.float() for key, value in state.items()}, strict=True)
    return mapper.eval()


def official_mapper_paths(spec: str) -> dict[str, Path]:
    """The two files of ``official:DIR`` (the official file names in DIR) or ``official:ID.pth,EXP.pth``."""
    argument = spec.removeprefix("official:")
    parts = [Path(part) for part in argument.split(",") if part]
    if len(parts) == 1 and parts[0].is_dir():
        return {role: parts[0] / name for role, name in OFFICIAL_FILES.items()}
    if len(parts) == 2:
        return dict(zip(OFFICIAL_FILES, parts))
    raise ValueError(f"{spec!r}: give official:DIR (holding {', '.join(OFFICIAL_FILES.values())}) or official:ID,EXP")


def load_official_mappers(spec: str) -> tuple[OfficialMapper, OfficialMapper]:
    """MLP_id and MLP_exp from ``official:…`` (:func:`official_mapper_paths`), checked to give NPHM's code
    sizes from one embedding size."""
    paths = official_mapper_paths(spec)
    mappers = {role: load_official_mapper(path) for role, path in paths.items()}
    for role, mapper in mappers.items():
        if mapper.config.output_dim != OFFICIAL_OUTPUT_DIMS[role]:
            raise ValueError(
                f"{paths[role]} gives {mapper.config.output_dim}-d codes; the official {role} mapper gives "
                f"{OFFICIAL_OUTPUT_DIMS[role]} (are the two files swapped?)"
            )
    if mappers["id"].config.input_dim != mappers["exp"].config.input_dim:
        raise ValueError("The two mappers take embeddings of different sizes; they are not one release's pair.")
    return mappers["id"], mappers["exp"]
