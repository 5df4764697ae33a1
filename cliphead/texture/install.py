"""``cliphead train texture``: triples → ControlNet_uv → weights, curves, snapshots, (optionally) shipping."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from cliphead.texture.checkpoints import PARTS, part_path, save_texture_model
from cliphead.texture.training import QUICK_TEXTURE_TRAINING, TextureTrainingConfig, train_texture_model
from cliphead.weights.manifest import WEIGHTS_DIR, install_weights

#: The shipped model's samples over training (notebook 04), beside its weights and loss histories.
SHIPPED_SNAPSHOTS = "texture_snapshots.npz"
DESCRIPTIONS = {
    "vae": "ControlNet_uv autoencoder (colour anchor of 4x4 averages + diffusers VAE encoder/decoder detail code, 4x downsampling, trained on painted UV textures), fp16",
    "unet": "ControlNet_uv base (diffusers UNet2DConditionModel, cross-attention on MiniLM token states, pooled embedding as class embedding, v-prediction), fp16",
    "controlnet": "ControlNet_uv (diffusers ControlNetModel from the UNet, UV normal map hint), fp16",
}


def train_texture(
    out: Path, quick: bool = False, install: bool = False, base: str | None = None, workers: int | None = None
) -> dict:
    """Train ControlNet_uv (embedded from scratch, or a ControlNet on the Stable Diffusion folder ``base``) into ``out``.

    ``out`` gets the weights (the three embedded parts, or a ``controlnet/`` folder in the diffusers
    layout), ``history.csv`` (loss per step and phase), ``snapshots.npz`` (the snapshot prompts'
    textures over training) and ``training.json`` (config, command, seconds).
    """
    if install and (quick or base):
        raise ValueError("--install ships the full embedded model; drop --quick and --base.")
    config = QUICK_TEXTURE_TRAINING if quick else TextureTrainingConfig()
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    model, record = train_texture_model(config, base=base, workers=workers)
    command = "cliphead train texture" + (" --quick" if quick else " --install" if install else "")
    if base:
        command += f" --base {base}"
        model.controlnet.save_pretrained(out / "controlnet")
        weights = [out / "controlnet"]
    else:
        weights = save_texture_model(model, config.model, out)
    history = record.frame()
    history.to_csv(out / "history.csv", index=False)
    np.savez_compressed(
        out / "snapshots.npz",
        steps=np.array([step for _, step, _ in record.snapshots]),
        textures=np.stack([textures for _, _, textures in record.snapshots]) if record.snapshots else np.zeros(0),
    )
    seconds = round(time.perf_counter() - start, 1)
    (out / "training.json").write_text(json.dumps({"command": command, "config": asdict(config), "seconds": seconds,
                                                   "latent_scale": model.latent_scale}, indent=2))  # fmt: skip
    final = history.groupby("phase")["loss"].apply(lambda losses: float(losses.tail(50).mean()))
    payload = {"weights": [str(path) for path in weights], "final_loss": final.round(5).to_dict(), "seconds": seconds}
    if install:
        for part, phase in zip(PARTS, ("autoencoder", "unet", "controlnet")):
            phase_history = out / f"history_{part}.csv"
            history[history["phase"] == phase].to_csv(phase_history, index=False)
            payload[f"installed {part}"] = install_weights(
                part_path(out, part), phase_history, part_path(WEIGHTS_DIR, part), "cliphead train texture --install",
                DESCRIPTIONS[part],
            )  # fmt: skip
        shutil.copyfile(out / "snapshots.npz", WEIGHTS_DIR / SHIPPED_SNAPSHOTS)
    return payload
