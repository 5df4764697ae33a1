"""The embedded ControlNet_uv's autoencoder: a latent whose first channels are the texture's colours.

Stable Diffusion denoises in the latent space of a KL autoencoder (CLIP-Head §2.3 inherits it). An
``AutoencoderKL`` small enough to train on a CPU desaturates the small regions the attributes live in
(at 128 px the lips are 11 texels of the whole layout), and no denoiser in its latent space can give
back a colour its decoder loses.

Here the latent keeps the colours by construction. Its first channels are the colour anchor: the
texture averaged over ``anchor_pool`` × ``anchor_pool`` texels, each latent cell holding its block of
those averages (space to depth). The others are a detail code from a diffusers VAE ``Encoder`` (a
diagonal Gaussian, as in ``AutoencoderKL``). The decoder reads the whole latent and adds its output to
the anchor, upsampled bilinearly, so it has only the detail to learn.

The embedded model averages over the whole latent cell (4 × 4 texels: 3 anchor channels): finer
averages would keep more of the small regions' colours, but denoisers leave independent noise between
neighbouring averages, which speckles the textures and hides their faces from FaceMesh (the
rectification's landmarks). Painter textures through the shipped autoencoder keep hair 98%, skin
100%, beard 76% and lipstick 19% of the time (mean 0.73). Lipstick is what it loses: it keeps the
lips' lightness, which the anchor carries, and pulls their hue towards one reddish average whatever
the lipstick (black lips come back with CIELAB a ≈ 30, as red ones do).

The anchor and the detail code have different spreads, so each latent channel is standardised to
zero mean and unit variance with statistics fitted on the training textures
(:meth:`ColourAnchoredAutoencoder.fit_standardisation`); the denoisers see unit-scale latents.

The interface is ``AutoencoderKL``'s — ``encode(images).latent_dist`` with ``mean``, ``sample()`` and
``kl()``, ``decode(latents).sample`` — so that training and sampling treat it and a Stable Diffusion
VAE alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def anchor_channels(factor: int, anchor_pool: int) -> int:
    """Channels of the colour anchor: RGB block averages, (factor / anchor_pool)² of them per latent cell."""
    return 3 * (factor // anchor_pool) ** 2


@dataclass
class AnchoredPosterior:
    """The latent of a batch: the colour anchor (deterministic) and the detail code's Gaussian, standardised."""

    anchor: torch.Tensor
    detail_mean: torch.Tensor
    detail_logvar: torch.Tensor
    shift: torch.Tensor
    scale: torch.Tensor

    def _standardised(self, detail: torch.Tensor) -> torch.Tensor:
        return (torch.cat([self.anchor, detail], dim=1) - self.shift) / self.scale

    @property
    def mean(self) -> torch.Tensor:
        return self._standardised(self.detail_mean)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A draw of the latent; its noise comes from ``generator`` (default: torch's) on the CPU, then moves to
        the latent's device, so a draw does not depend on the device."""
        noise = torch.randn(self.detail_mean.shape, generator=generator, dtype=self.detail_mean.dtype)
        noise = noise.to(self.detail_mean.device)
        return self._standardised(self.detail_mean + torch.exp(0.5 * self.detail_logvar) * noise)

    def kl(self) -> torch.Tensor:
        """KL divergence of the detail code from the unit Gaussian, per item (the anchor is not a random variable)."""
        variance = torch.exp(self.detail_logvar)
        return 0.5 * (self.detail_mean**2 + variance - 1.0 - self.detail_logvar).sum(dim=(1, 2, 3))


@dataclass
class Encoding:
    latent_dist: AnchoredPosterior


@dataclass
class Decoding:
    sample: torch.Tensor


class ColourAnchoredAutoencoder(nn.Module):
    """Texture ``(n, 3, S, S)`` in [-1, 1] ↔ latent ``(n, anchor + detail channels, S / f, S / f)``, where f is
    2 ** (len(block_channels) - 1) (module doc)."""

    def __init__(
        self, detail_channels: int, block_channels: tuple[int, ...], anchor_pool: int, norm_groups: int = 8
    ) -> None:
        from diffusers.models.autoencoders.vae import Decoder, Encoder

        super().__init__()
        blocks = len(block_channels)
        self.factor = 2 ** (blocks - 1)
        if self.factor % anchor_pool:
            raise ValueError(f"anchor_pool {anchor_pool} does not divide the downsampling factor {self.factor}")
        self.anchor_pool = anchor_pool
        self.anchor_channels = anchor_channels(self.factor, anchor_pool)
        latent_channels = self.anchor_channels + detail_channels
        self.encoder = Encoder(
            in_channels=3,
            out_channels=detail_channels,
            down_block_types=("DownEncoderBlock2D",) * blocks,
            block_out_channels=block_channels,
            layers_per_block=1,
            norm_num_groups=norm_groups,
            double_z=True,
        )
        self.decoder = Decoder(
            in_channels=latent_channels,
            out_channels=3,
            up_block_types=("UpDecoderBlock2D",) * blocks,
            block_out_channels=block_channels,
            layers_per_block=1,
            norm_num_groups=norm_groups,
        )
        self.register_buffer("latent_shift", torch.zeros(1, latent_channels, 1, 1))
        self.register_buffer("latent_scale", torch.ones(1, latent_channels, 1, 1))

    def colour_anchor(self, images: torch.Tensor) -> torch.Tensor:
        """Block averages of ``images``, each latent cell's stacked into its channels."""
        return F.pixel_unshuffle(F.avg_pool2d(images, self.anchor_pool), self.factor // self.anchor_pool)

    def encode(self, images: torch.Tensor) -> Encoding:
        mean, logvar = self.encoder(images).chunk(2, dim=1)
        return Encoding(
            AnchoredPosterior(
                self.colour_anchor(images), mean, logvar.clamp(-30.0, 20.0), self.latent_shift, self.latent_scale
            )
        )

    def decode(self, latents: torch.Tensor) -> Decoding:
        raw = latents * self.latent_scale + self.latent_shift
        averages = F.pixel_shuffle(raw[:, : self.anchor_channels], self.factor // self.anchor_pool)
        anchor = F.interpolate(averages, scale_factor=self.anchor_pool, mode="bilinear", align_corners=False)
        return Decoding(anchor + self.decoder(raw))

    def anchor_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The standardised values of the colour-anchor channels for images of -1 and of 1 everywhere:
        the range, ``(1, anchor channels, 1, 1)`` each, that every texture's block averages lie in."""
        shift, scale = self.latent_shift[:, : self.anchor_channels], self.latent_scale[:, : self.anchor_channels]
        return (-1.0 - shift) / scale, (1.0 - shift) / scale

    @torch.no_grad()
    def fit_standardisation(self, images: torch.Tensor) -> None:
        """Set each latent channel's shift and scale to its mean and spread over ``images``' posterior means."""
        self.latent_shift.zero_()
        self.latent_scale.fill_(1.0)
        raw = torch.cat([self.encode(batch).latent_dist.mean for batch in images.split(64)])
        self.latent_shift.copy_(raw.mean(dim=(0, 2, 3), keepdim=True))
        self.latent_scale.copy_(raw.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-4))
