"""Training the embedded image tower, LiT-style, against the locked MiniLM text tower.

Each step takes a batch of renders and one of each render's captions, embeds the captions with the
locked text tower (precomputed once per render set) and the renders with the image tower, and
minimises the symmetric InfoNCE loss of CLIP (Radford et al. 2021) with a learnable temperature.
Only the image tower and the temperature learn ("locked-text tuning", the LiT recipe of Zhai et al.
2022 with the towers' roles swapped). Checkpoints are written every few hundred steps and a run
resumes from its last one.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cliphead.lab.distributed import autocast, is_main_process, mean_over_processes, process_seed, sum_gradients, summed
from cliphead.lab.world.dataset import RenderSet
from cliphead.assets import load_cached_npz
from cliphead.clip.image_tower import ImageTower, ImageTowerConfig
from cliphead.clip.minilm import MINILM_SHA256, minilm_text_tower


@dataclass(frozen=True)
class LiTTrainingConfig:
    steps: int = 2400
    batch_size: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 0.05
    warmup_steps: int = 100
    shift_pixels: int = 4  # random translation augmentation
    seed: int = 0
    log_every: int = 20
    checkpoint_every: int = 200


def caption_embeddings(renders: RenderSet) -> np.ndarray:
    """``(n, k, 384)`` float16 MiniLM embeddings of every caption of the set, cached beside it."""

    def build() -> dict[str, np.ndarray]:
        from tqdm.auto import tqdm

        unique, inverse = np.unique(renders.captions.ravel(), return_inverse=True)
        tower = minilm_text_tower()
        starts = tqdm(range(0, len(unique), 512), desc=f"embedding {len(unique)} captions (MiniLM)", unit="batch")
        chunks = [tower.encode(list(unique[i : i + 512]), check=False) for i in starts]
        embeddings = torch.cat(chunks).numpy().astype(np.float16)
        return {"embeddings": embeddings[inverse].reshape(*renders.captions.shape, -1)}

    return load_cached_npz(f"{renders.config.key()}-minilm-{MINILM_SHA256[:12]}", build)["embeddings"]


def contrastive_loss(image_embeddings: torch.Tensor, text_embeddings: torch.Tensor, logit_scale: torch.Tensor):
    """Symmetric InfoNCE over a batch of matching (image, text) unit vectors (CLIP's loss)."""
    logits = logit_scale.exp().clamp(max=100.0) * image_embeddings @ text_embeddings.T
    targets = torch.arange(len(logits))
    return 0.5 * (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets))


def _augment(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Random translations by up to ``shift`` pixels (edge padding) and ±10% brightness."""
    if shift:
        size = images.shape[-1]
        padded = F.pad(images, (shift,) * 4, mode="replicate")
        dx, dy = torch.randint(0, 2 * shift + 1, (2,), generator=generator).tolist()
        images = padded[..., dy : dy + size, dx : dx + size]
    gain = 0.9 + 0.2 * torch.rand(len(images), 1, 1, 1, generator=generator)
    return (images * gain).clamp(0.0, 1.0)


def _learning_rate(config: LiTTrainingConfig, step: int) -> float:
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))


def train_image_tower(
    renders: RenderSet,
    out_dir: Path,
    config: LiTTrainingConfig = LiTTrainingConfig(),
    tower_config: ImageTowerConfig = ImageTowerConfig(),
    progress: bool = True,
) -> ImageTower:
    """Train (or resume) an image tower on ``renders``; writes ``checkpoint.pt`` and ``history.csv``. Under
    ``accelerate launch`` each process draws its own batch (:mod:`cliphead.lab.distributed`)."""
    from tqdm.auto import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    texts = torch.from_numpy(caption_embeddings(renders).astype(np.float32))
    images = torch.from_numpy(renders.images).permute(0, 3, 1, 2)
    tower = ImageTower(tower_config)
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    optimiser = torch.optim.AdamW(
        [
            {"params": tower.parameters(), "weight_decay": config.weight_decay},
            {"params": [logit_scale], "weight_decay": 0.0},
        ],
        lr=config.learning_rate,
    )
    generator = torch.Generator().manual_seed(process_seed(config.seed))
    checkpoint, history_path = out_dir / "checkpoint.pt", out_dir / "history.csv"
    start, history = 0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state["config"] != asdict(config) or state["tower_config"] != tower_config.to_dict():
            raise ValueError(f"{checkpoint} was written with other settings; use a fresh --out folder")
        tower.load_state_dict(state["tower"])
        logit_scale.data.copy_(state["logit_scale"])
        optimiser.load_state_dict(state["optimiser"])
        generator.set_state(state["generator"])
        start, history = state["step"], state["history"]
        if not is_main_process():  # the checkpoint holds the main process's draws; the others start a new stream
            generator.manual_seed(process_seed(config.seed) + start)
    tower.train()
    bar = tqdm(
        range(start, config.steps), initial=start, total=config.steps, desc="LiT image tower", disable=not progress
    )
    running, began = [], time.perf_counter()
    for step in bar:
        for group in optimiser.param_groups:
            group["lr"] = _learning_rate(config, step)
        index = torch.randint(0, len(images), (config.batch_size,), generator=generator)
        caption = torch.randint(0, texts.shape[1], (config.batch_size,), generator=generator)
        batch = _augment(images[index].float() / 255.0, config.shift_pixels, generator)
        with autocast():
            loss = contrastive_loss(F.normalize(tower(batch).float(), dim=-1), texts[index, caption], logit_scale)
        optimiser.zero_grad(set_to_none=True)
        mean_over_processes(loss).backward()
        sum_gradients([*tower.parameters(), logit_scale])
        optimiser.step()
        running.append(summed(mean_over_processes(loss)))
        if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
            history.append(
                {"step": step + 1, "loss": float(np.mean(running)), "temperature": float(1 / logit_scale.exp())}
            )
            bar.set_postfix(loss=f"{history[-1]['loss']:.3f}")
            running = []
        if is_main_process() and ((step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps):
            parts = {"tower": tower, "logit_scale": logit_scale, "optimiser": optimiser, "generator": generator}
            torch.save(_checkpoint_state(config, tower_config, step + 1, parts, history), checkpoint)
            _write_history(history_path, history)
    bar.close()
    if not is_main_process():
        return tower.eval()
    (out_dir / "run.json").write_text(
        json.dumps({"seconds_this_run": time.perf_counter() - began, "steps": config.steps}, indent=2) + "\n"
    )
    return tower.eval()


def _checkpoint_state(
    config: LiTTrainingConfig, tower_config: ImageTowerConfig, step: int, parts: dict, history: list[dict]
) -> dict:
    """What a checkpoint holds: the settings, the step, the tower, temperature, optimiser and generator states."""
    return {
        "config": asdict(config),
        "tower_config": tower_config.to_dict(),
        "step": step,
        "tower": parts["tower"].state_dict(),
        "logit_scale": parts["logit_scale"].detach(),
        "optimiser": parts["optimiser"].state_dict(),
        "generator": parts["generator"].get_state(),
        "history": history,
    }


def _write_history(path: Path, history: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["step", "loss", "temperature"])
        writer.writeheader()
        writer.writerows(history)
