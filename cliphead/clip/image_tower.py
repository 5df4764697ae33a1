"""The embedded image tower: a small residual CNN trained to land in MiniLM's text space (LiT).

Stand-in for CLIP's ViT image tower (CLIP-Head §2.1 maps CLIP *image* embeddings of rendered heads
to z_id). It sees ``image_size``² RGB renders in [0, 1], standardises them itself and returns one
``embed_dim`` vector per image (before normalisation; the encoder normalises).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ImageTowerConfig:
    image_size: int = 96
    widths: tuple[int, ...] = (32, 64, 128, 256)  # one residual stage per width, each halving the size
    embed_dim: int = 384  # MiniLM's dimension

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}

    @classmethod
    def from_dict(cls, record: dict) -> ImageTowerConfig:
        return cls(**{**record, "widths": tuple(record["widths"])})


class ResidualStage(nn.Module):
    """Stride-2 convolution to ``width`` channels, then one residual block of two 3×3 convolutions."""

    def __init__(self, in_channels: int, width: int) -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(in_channels, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(x)
        return torch.relu(x + self.block(x))


class ImageTower(nn.Module):
    """``(n, 3, S, S)`` images in [0, 1] → ``(n, embed_dim)`` embeddings."""

    def __init__(self, config: ImageTowerConfig = ImageTowerConfig()) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))
        stages, channels = [], 3
        for width in config.widths:
            stages.append(ResidualStage(channels, width))
            channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(2 * channels, config.embed_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.stages((images - self.mean) / self.std)
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.head(pooled)
