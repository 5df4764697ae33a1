"""Tiny, randomly initialised Stable Diffusion pipelines (with ControlNet; for inpainting) as diffusers folders.

The real pipelines are gigabytes and need a model hub; these have the same classes and file layout
(``save_pretrained``), so the project's code loads them through exactly the path a user's local
download takes: the tests use them, and the GPU smoke test (:mod:`cliphead.lab.gpu_smoke`). The CLIP
tokenizer gets a character-level vocabulary written on the spot.
"""

from __future__ import annotations

import json
import string
from pathlib import Path


def _write_tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(string.ascii_lowercase + string.digits + ".,'-")
    tokens = ["<|startoftext|>", "<|endoftext|>", *symbols, *(f"{s}</w>" for s in symbols)]
    (folder / "vocab.json").write_text(json.dumps({token: k for k, token in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def _tiny_parts(folder: Path, seed: int, unet_in_channels: int = 4) -> dict:
    """Tokenizer, text encoder, UNet (``unet_in_channels``: 4, or 9 for inpainting) and VAE of a 16 px pipeline."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    tokenizer = _write_tokenizer(Path(folder) / "vocab")
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=unet_in_channels,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet}


def save_tiny_controlnet_pipeline(folder: Path, seed: int = 0) -> Path:
    """Write a 16 px Stable Diffusion + ControlNet pipeline (a few hundred kB) to ``folder``."""
    from diffusers import ControlNetModel, DPMSolverMultistepScheduler, StableDiffusionControlNetPipeline

    parts = _tiny_parts(folder, seed)
    # Two conditioning channels entries: one halving, from the 16 px hint to the 8 px latent.
    controlnet = ControlNetModel.from_unet(parts["unet"], conditioning_embedding_out_channels=(8, 8))
    pipeline = StableDiffusionControlNetPipeline(
        **parts,
        controlnet=controlnet,
        scheduler=DPMSolverMultistepScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return Path(folder)


def save_tiny_inpainting_pipeline(folder: Path, seed: int = 1) -> Path:
    """Write a 16 px Stable Diffusion inpainting pipeline (a 9-channel UNet, as SD 2-inpainting's) to ``folder``."""
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline

    pipeline = StableDiffusionInpaintPipeline(
        **_tiny_parts(folder, seed, unet_in_channels=9),
        scheduler=DDIMScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)
    return Path(folder)
