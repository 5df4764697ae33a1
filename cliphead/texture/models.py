"""ControlNet_uv's networks (CLIP-Head §2.3), built from diffusers classes.

As in Stable Diffusion + ControlNet (Zhang et al. 2023), the texture is denoised in the latent space
of an autoencoder (4× downsampling; the embedded one's latent holds the texture's colours, averaged
over each latent cell, beside a learnt detail code: :mod:`.autoencoder`); a ``UNet2DConditionModel`` cross-attends to
the prompt's token states and adds its pooled embedding to the timestep embedding (:mod:`.text`); a
``ControlNetModel`` initialised from that UNet's encoder (its zero convolutions start at zero) reads
the UV normal map and adds its residuals to the UNet's skips.

The embedded default is small enough to train on a CPU (:class:`TextureModelConfig`); the real
path loads a user's Stable Diffusion base and ControlNet folders with ``from_pretrained`` into the
same :class:`ControlNetUV` container, which the sampling and training code use alike.

The embedded model predicts v (Salimans & Ho 2022) on a schedule rescaled to zero terminal SNR (Lin
et al. 2024). With Stable Diffusion's ε-prediction and its non-zero terminal SNR, the loss weighs an
error in the clean texture by the SNR, about 0.01 at the noise levels where the colours are decided,
and sampling keeps the mean colour of its starting noise: a small model then follows the layout but
not the prompt's colours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from cliphead.texture.autoencoder import ColourAnchoredAutoencoder, anchor_channels
from cliphead.texture.text import TextContext


@dataclass(frozen=True)
class TextureModelConfig:
    """Sizes of the embedded ControlNet_uv; ``texture_size`` / 4 is the latent's side, whose channels are
    the colour anchor (block averages over ``anchor_pool`` texels) and a learnt detail code (:mod:`.autoencoder`)."""

    texture_size: int = 128
    detail_channels: int = 4
    anchor_pool: int = 4
    autoencoder_channels: tuple[int, ...] = (16, 32, 64)
    unet_channels: tuple[int, ...] = (48, 96, 144)
    attention_head_dim: int = 8
    norm_groups: int = 24
    text_dim: int = 384
    pooled_text_dim: int | None = 384
    prediction_type: str = "v_prediction"
    zero_terminal_snr: bool = True

    @property
    def downsampling(self) -> int:
        return 2 ** (len(self.autoencoder_channels) - 1)

    @property
    def latent_size(self) -> int:
        return self.texture_size // self.downsampling

    @property
    def latent_channels(self) -> int:
        return anchor_channels(self.downsampling, self.anchor_pool) + self.detail_channels

    def to_dict(self) -> dict:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, record: dict) -> TextureModelConfig:
        return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in record.items()})


def build_autoencoder(config: TextureModelConfig) -> ColourAnchoredAutoencoder:
    return ColourAnchoredAutoencoder(config.detail_channels, config.autoencoder_channels, config.anchor_pool)


def build_unet(config: TextureModelConfig):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=config.latent_size,
        in_channels=config.latent_channels,
        out_channels=config.latent_channels,
        block_out_channels=config.unet_channels,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        layers_per_block=1,
        cross_attention_dim=config.text_dim,
        attention_head_dim=config.attention_head_dim,
        norm_num_groups=config.norm_groups,
        class_embed_type="projection" if config.pooled_text_dim else None,
        projection_class_embeddings_input_dim=config.pooled_text_dim,
    )


def controlnet_from_unet(unet, texture_size: int, latent_size: int):
    """A ControlNet initialised from ``unet`` (ControlNet paper §3.2); its hint embedding halves the
    normal map down to the latent's size (one entry per halving, plus one)."""
    from diffusers import ControlNetModel

    halvings = (texture_size // latent_size).bit_length() - 1
    channels = tuple(16 * 2**k for k in range(halvings + 1))
    return ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=channels)


def build_scheduler(config: TextureModelConfig):
    """The training noise schedule: DDPM, 1000 steps, Stable Diffusion's scaled-linear betas, rescaled
    to zero terminal SNR (with trailing timesteps, so that sampling starts from pure noise) when the
    config asks (module doc)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        prediction_type=config.prediction_type,
        rescale_betas_zero_snr=config.zero_terminal_snr,
        timestep_spacing="trailing" if config.zero_terminal_snr else "leading",
    )


@dataclass
class ControlNetUV:
    """Everything one texture needs: autoencoder, UNet, ControlNet, noise schedule and text context."""

    vae: nn.Module
    unet: nn.Module
    controlnet: nn.Module
    scheduler: object
    text: TextContext
    name: str
    latent_scale: float  # latents are multiplied by this: a Stable Diffusion vae's scaling factor, 1 for the embedded
    texture_size: int

    def modules(self) -> dict[str, nn.Module]:
        return {"vae": self.vae, "unet": self.unet, "controlnet": self.controlnet}

    @property
    def device(self) -> torch.device:
        """Where the networks are (the UNet's parameters)."""
        return next(self.unet.parameters()).device

    def to(self, device: str | torch.device) -> ControlNetUV:
        """Move the three networks and the text context to ``device`` (in place); returns the model."""
        for module in self.modules().values():
            module.to(device)
        self.text = self.text.to(device)
        return self

    def predict(
        self,
        noisy: torch.Tensor,
        timesteps,
        text: dict,
        hints: torch.Tensor | None = None,
        control_strength: float = 1.0,
    ) -> torch.Tensor:
        """The UNet's prediction (ε or v) for ``noisy`` latents at ``timesteps``, ``text`` being
        :meth:`~cliphead.texture.text.PromptConditioning.denoiser_inputs`: with the ControlNet's residuals
        for ``hints``, scaled by ``control_strength``, or the UNet alone without hints."""
        residuals = {}
        if hints is not None:
            down, mid = self.controlnet(
                noisy, timesteps, **text, controlnet_cond=hints, conditioning_scale=control_strength, return_dict=False
            )
            residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
        return self.unet(noisy, timesteps, **text, **residuals).sample

    def eval(self) -> ControlNetUV:
        for module in self.modules().values():
            module.eval().requires_grad_(False)
        return self


def embedded_controlnet(config: TextureModelConfig, seed: int = 0) -> ControlNetUV:
    """A fresh, randomly initialised embedded model (the start of ``cliphead train texture``)."""
    from cliphead.texture.text import MiniLMTokenStates

    torch.manual_seed(seed)
    unet = build_unet(config)
    return ControlNetUV(
        vae=build_autoencoder(config),
        unet=unet,
        controlnet=controlnet_from_unet(unet, config.texture_size, config.latent_size),
        scheduler=build_scheduler(config),
        text=MiniLMTokenStates(),
        name="embedded",
        latent_scale=1.0,
        texture_size=config.texture_size,
    )


def load_stable_diffusion(base: Path, controlnet: Path | None = None, texture_size: int | None = None) -> ControlNetUV:
    """A user's Stable Diffusion folder (``from_pretrained`` layout: vae, unet, text_encoder, tokenizer,
    scheduler) with a ControlNet folder; without one, a ControlNet initialised from the base's UNet
    (the start of fine-tuning ControlNet_uv on the base)."""
    from diffusers import AutoencoderKL, ControlNetModel, DDPMScheduler, UNet2DConditionModel

    from cliphead.texture.text import CLIPTokenStates

    base = Path(base)
    if not (base / "unet").is_dir() or not (base / "vae").is_dir():
        raise FileNotFoundError(f"{base} is not a Stable Diffusion folder (no unet/ and vae/ inside).")
    vae = AutoencoderKL.from_pretrained(base / "vae")
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    size = texture_size or unet.config.sample_size * 2 ** (len(vae.config.block_out_channels) - 1)
    if controlnet is not None:
        control = ControlNetModel.from_pretrained(controlnet)
    else:
        control = controlnet_from_unet(unet, size, unet.config.sample_size)
    return ControlNetUV(
        vae=vae,
        unet=unet,
        controlnet=control,
        scheduler=DDPMScheduler.from_pretrained(base / "scheduler"),
        text=CLIPTokenStates(base),
        name=f"stable-diffusion:{base.name}",
        latent_scale=float(vae.config.scaling_factor),
        texture_size=size,
    )
