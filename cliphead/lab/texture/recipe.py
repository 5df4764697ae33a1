"""``cliphead train texture``: triples → ControlNet_uv → weights, curves, snapshots, (optionally) shipping."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cliphead.texture.checkpoints import PARTS, embedded_config, load_embedded, part_path, save_texture_model
from cliphead.lab.texture.data import TextureDataConfig
from cliphead.lab.texture.training import TextureTrainingConfig, train_texture_model
from cliphead.texture.models import TextureModelConfig
from cliphead.weights.manifest import MANIFEST, WEIGHTS_DIR, install_weights

#: The shipped model's samples over training (notebook 06), beside its weights and loss histories.
SHIPPED_SNAPSHOTS = "texture_snapshots.npz"
DESCRIPTIONS = {
    "vae": "ControlNet_uv autoencoder (colour anchor of 4x4 averages + diffusers VAE encoder/decoder detail code, 4x downsampling, trained on painted UV textures), fp16",
    "unet": "ControlNet_uv base (diffusers UNet2DConditionModel, cross-attention on MiniLM token states, pooled embedding as class embedding, v-prediction), fp16",
    "controlnet": "ControlNet_uv (diffusers ControlNetModel from the UNet, UV normal map hint), fp16",
}
#: The phases whose losses each part's shipped history holds (phases 3 and 4 train the UNet too; their losses
#: are logged with the ControlNet's).
PART_PHASES = {"vae": ("autoencoder",), "unet": ("unet",), "controlnet": ("controlnet", "anneal")}
#: A continuation of ``n`` phase 4 steps averages the weights with decay ``AVERAGE_REMAINDER ** (1 / n)``, so the
#: first step's weights keep that share of the average: 0.999 at the ``full`` preset's 3000 steps.
AVERAGE_REMAINDER = 0.05
#: ``full`` trains the shipped model; ``quick`` a 64 px model on 96 textures for a few steps, in a minute.
#: (The training config is the recipe: it nests the triples' and the model's configs.)
PRESETS = {
    "full": TextureTrainingConfig(),
    "quick": TextureTrainingConfig(
        data=TextureDataConfig(n_heads=6, n_textures=96, size=64, captions_per_texture=2),
        model=TextureModelConfig(
            texture_size=64, autoencoder_channels=(16, 32, 32), unet_channels=(24, 48, 48), norm_groups=8
        ),
        autoencoder_steps=30,
        unet_steps=40,
        controlnet_steps=40,
        anneal_steps=20,
        ema_decay=0.9,
        batch=8,
        snapshots=2,
    ),
}


def train_texture(
    out: Path,
    preset: str = "full",
    install: bool = False,
    base: str | None = None,
    workers: int | None = None,
    anneal: Path | None = None,
    anneal_steps: int | None = None,
) -> dict:
    """Train ControlNet_uv (embedded from scratch, or a ControlNet on the Stable Diffusion folder ``base``, or
    phase 4 alone on the embedded weights in ``anneal``, for the preset's steps or ``anneal_steps``) into ``out``.

    ``out`` gets the weights (the three embedded parts, or a ``controlnet/`` folder in the diffusers
    layout), ``history.csv`` (loss per step and phase), ``snapshots.npz`` (the snapshot prompts'
    textures over training) and ``training.json`` (config, command, seconds). With ``anneal`` and
    ``install``, the shipped UNet and ControlNet are replaced, their histories and snapshots extended.
    """
    if install and (preset != "full" or base):
        raise ValueError("--install ships the full embedded model; drop --quick and --base.")
    if anneal is not None and base:
        raise ValueError("--anneal continues the embedded model; drop --base.")
    if anneal is not None and install and Path(anneal).resolve() != WEIGHTS_DIR:
        raise ValueError("--anneal --install continues the shipped weights; drop WEIGHTS_DIR or --install.")
    if anneal_steps is not None and (anneal is None or anneal_steps < 1):
        raise ValueError("--anneal-steps sets the length of an --anneal run: a positive number, with --anneal.")
    config = PRESETS[preset]
    if anneal_steps is not None:
        config = replace(config, anneal_steps=anneal_steps, ema_decay=AVERAGE_REMAINDER ** (1 / anneal_steps))
    if anneal is not None:  # each phase 4 on the same weights draws its own batches and noise
        config = replace(config, seed=config.seed + anneal_rounds_beside(anneal, config.anneal_steps))
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    earlier_snapshots = _snapshots_beside(anneal) if anneal is not None else None
    first_snapshot_step = int(earlier_snapshots["steps"][-1]) if earlier_snapshots else 0
    trained = load_embedded(anneal) if anneal is not None else None
    model, record = train_texture_model(
        config, base=base, workers=workers, anneal=trained, first_snapshot_step=first_snapshot_step
    )
    command = "cliphead train texture" + (" --quick" if preset == "quick" else "") + (" --anneal" if anneal else "")
    command += f" --anneal-steps {anneal_steps}" if anneal_steps is not None else ""
    command += " --install" if install else ""
    if base:
        command += f" --base {base}"
        model.controlnet.save_pretrained(out / "controlnet")
        weights = [out / "controlnet"]
    else:
        weights = save_texture_model(model, embedded_config(anneal) if anneal is not None else config.model, out)
    history = record.frame()
    history.to_csv(out / "history.csv", index=False)
    np.savez_compressed(
        out / "snapshots.npz",
        steps=np.array([step for _, step, _ in record.snapshots]),
        textures=np.stack([textures for _, _, textures in record.snapshots]) if record.snapshots else np.zeros(0),
    )
    seconds = round(time.perf_counter() - start, 1)
    (out / "training.json").write_text(
        json.dumps(
            {"command": command, "config": asdict(config), "seconds": seconds, "latent_scale": model.latent_scale},
            indent=2,
        )
    )
    final = history.groupby("phase")["loss"].apply(lambda losses: float(losses.tail(50).mean()))
    payload = {"weights": [str(path) for path in weights], "final_loss": final.round(5).to_dict(), "seconds": seconds}
    if install:
        annealed = command.removeprefix("cliphead train texture ").removesuffix(" --install") if anneal else None
        payload.update(_install(out, history, annealed=annealed, earlier_snapshots=earlier_snapshots))
    return payload


def _snapshots_beside(folder: Path) -> dict[str, np.ndarray] | None:
    """The snapshots saved with the weights in ``folder`` (shipped or a run's), if any."""
    for name in (SHIPPED_SNAPSHOTS, "snapshots.npz"):
        if (Path(folder) / name).is_file():
            with np.load(Path(folder) / name) as saved:
                if len(saved["steps"]):
                    return {"steps": saved["steps"], "textures": saved["textures"]}
    return None


def shipped_command(part: str) -> str:
    """The commands that made the shipped ``part``, as the manifest lists them."""
    return json.loads(MANIFEST.read_text())[part_path(WEIGHTS_DIR, part).name]["command"]


def anneal_rounds_beside(folder: Path, anneal_steps: int) -> int:
    """How many phase 4 runs the loss history beside the weights in ``folder`` (shipped or a run's) holds."""
    for path in (part_path(folder, "controlnet").with_suffix(".history.csv"), Path(folder) / "history.csv"):
        if path.is_file():
            return int((pd.read_csv(path)["phase"] == "anneal").sum()) // anneal_steps
    return 0


def _install(
    out: Path, history: pd.DataFrame, annealed: str | None, earlier_snapshots: dict[str, np.ndarray] | None
) -> dict:
    """Ship the run in ``out``: all three parts after a full run; the UNet and ControlNet after phase 4 alone
    (``annealed``: its arguments, e.g. ``--anneal --anneal-steps 1000``), with the shipped histories and snapshots
    (``earlier_snapshots``) extended by the new phase."""
    installed = {}
    for part in ("unet", "controlnet") if annealed else PARTS:
        phase_history = out / f"history_{part}.csv"
        rows = history[history["phase"].isin(PART_PHASES[part])]
        if annealed:
            rows = pd.concat([pd.read_csv(part_path(WEIGHTS_DIR, part).with_suffix(".history.csv")), rows])
        rows.to_csv(phase_history, index=False)
        command = "cliphead train texture --install"
        if annealed:
            command = f"{shipped_command(part)}, then cliphead train texture {annealed} --install"
        installed[f"installed {part}"] = install_weights(
            part_path(out, part), phase_history, part_path(WEIGHTS_DIR, part), command, DESCRIPTIONS[part]
        )
    if annealed and earlier_snapshots:
        with np.load(out / "snapshots.npz") as new:
            np.savez_compressed(
                WEIGHTS_DIR / SHIPPED_SNAPSHOTS,
                steps=np.concatenate([earlier_snapshots["steps"], new["steps"]]),
                textures=np.concatenate([earlier_snapshots["textures"], new["textures"]]),
            )
    else:
        shutil.copyfile(out / "snapshots.npz", WEIGHTS_DIR / SHIPPED_SNAPSHOTS)
    return installed
