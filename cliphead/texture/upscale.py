"""Optional super-resolution of a generated texture (CLIP-Head §2.3 upsamples its textures with Real-ESRGAN).

Off by default, and no number the project reports uses it. With ``--upscale WEIGHTS`` a Real-ESRGAN
generator (ESRGAN's RRDBNet, Wang et al. 2018: residual-in-residual dense blocks, two nearest-neighbour
×2 upsampling stages) built here in plain torch loads the user's weights: the released
``RealESRGAN_x4plus.pth`` (read with ``torch.load(weights_only=True)``, which unpickles tensors only)
or a safetensors file with the same tensor names. No Real-ESRGAN weights ship with the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class RRDBConfig:
    """RealESRGAN_x4plus: 64 features, 23 blocks, growth 32, ×4."""

    features: int = 64
    blocks: int = 23
    growth: int = 32


X4PLUS = RRDBConfig()


class ResidualDenseBlock(nn.Module):
    """Five 3×3 convolutions, each seeing all earlier outputs; the result scaled by 0.2 and added back."""

    def __init__(self, features: int, growth: int) -> None:
        super().__init__()
        for k in range(4):
            setattr(self, f"conv{k + 1}", nn.Conv2d(features + k * growth, growth, 3, padding=1))
        self.conv5 = nn.Conv2d(features + 4 * growth, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        for k in range(1, 5):
            outputs.append(F.leaky_relu(getattr(self, f"conv{k}")(torch.cat(outputs, 1)), 0.2))
        return x + 0.2 * self.conv5(torch.cat(outputs, 1))


class RRDB(nn.Module):
    """Three dense blocks in a residual, scaled by 0.2 (residual in residual)."""

    def __init__(self, features: int, growth: int) -> None:
        super().__init__()
        self.rdb1, self.rdb2, self.rdb3 = (ResidualDenseBlock(features, growth) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.rdb3(self.rdb2(self.rdb1(x)))


class RRDBNet(nn.Module):
    """The ×4 generator; tensor names follow the released checkpoints so that they load as they are."""

    def __init__(self, config: RRDBConfig = X4PLUS) -> None:
        super().__init__()
        self.config = config
        f = config.features
        self.conv_first = nn.Conv2d(3, f, 3, padding=1)
        self.body = nn.Sequential(*(RRDB(f, config.growth) for _ in range(config.blocks)))
        self.conv_body = nn.Conv2d(f, f, 3, padding=1)
        self.conv_up1 = nn.Conv2d(f, f, 3, padding=1)
        self.conv_up2 = nn.Conv2d(f, f, 3, padding=1)
        self.conv_hr = nn.Conv2d(f, f, 3, padding=1)
        self.conv_last = nn.Conv2d(f, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.conv_first(x)
        features = features + self.conv_body(self.body(features))
        for conv in (self.conv_up1, self.conv_up2):
            features = F.leaky_relu(conv(F.interpolate(features, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(features), 0.2))


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("params_ema", "params"):  # the released files nest the weights under one of these
        if isinstance(state, dict) and key in state:
            return state[key]
    return state


def load_upscaler(path: str | Path) -> RRDBNet:
    """A Real-ESRGAN ×4 generator from ``path``; its size (features, blocks, growth) is read off the tensors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No super-resolution weights at {path} (e.g. RealESRGAN_x4plus.pth).")
    state = _state_dict(path)
    try:
        config = RRDBConfig(
            features=state["conv_first.weight"].shape[0],
            blocks=1 + max(int(name.split(".")[1]) for name in state if name.startswith("body.")),
            growth=state["body.0.rdb1.conv1.weight"].shape[0],
        )
        model = RRDBNet(config)
        model.load_state_dict(state)
    except (KeyError, RuntimeError, ValueError) as error:
        raise ValueError(f"{path} does not hold a Real-ESRGAN x4 (RRDBNet) generator: {error}") from error
    return model.eval()


def upscale(texture: np.ndarray, model: RRDBNet) -> np.ndarray:
    """An ``(S, S, 3)`` texture in [0, 1] → ``(4S, 4S, 3)``."""
    image = torch.from_numpy(np.ascontiguousarray(texture, dtype=np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        result = model(image).clamp(0, 1)
    return result[0].permute(1, 2, 0).numpy()
