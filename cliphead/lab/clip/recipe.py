"""``cliphead train clip``: render sets → LiT training → weights, evaluation, and (optionally) shipping."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from cliphead.lab.distributed import is_main_process
from cliphead.lab.world.dataset import EVAL_RENDERS, RenderSetConfig, load_render_set
from cliphead.lab.clip.evaluation import evaluate_encoder, evaluation_rows
from cliphead.clip.image_tower import ImageTowerConfig
from cliphead.clip.lit import DEFAULT_LIT_WEIGHTS, LiTMiniLMEncoder, save_image_tower
from cliphead.lab.clip.training import LiTTrainingConfig, train_image_tower
from cliphead.weights.manifest import install_weights


@dataclass(frozen=True)
class CLIPRecipe:
    """What ``cliphead train clip`` trains on (renders), how (LiT, the tower's sizes) and evaluates on."""

    train_renders: RenderSetConfig = RenderSetConfig()
    eval_renders: RenderSetConfig = EVAL_RENDERS
    training: LiTTrainingConfig = LiTTrainingConfig()
    tower: ImageTowerConfig = ImageTowerConfig()


#: ``full`` trains the shipped tower; ``quick`` a tiny one on a tiny set, in minutes (tests, ``--quick``).
PRESETS = {
    "full": CLIPRecipe(),
    "quick": CLIPRecipe(
        train_renders=RenderSetConfig(n_images=384, bank_heads=12, train_heads=8, captions_per_image=2),
        eval_renders=RenderSetConfig(n_images=128, split="eval", bank_heads=12, train_heads=8, captions_per_image=2),
        training=LiTTrainingConfig(steps=30, batch_size=32, warmup_steps=5, log_every=5, checkpoint_every=15),
        tower=ImageTowerConfig(image_size=96, widths=(8, 16, 32, 64)),
    ),
}


def train_and_save_clip(out: Path, preset: str = "full", install: bool = False, progress: bool = True) -> dict:
    """Train the image tower of the named preset, evaluate it, write weights and tables."""
    if install and preset != "full":
        raise ValueError("--install ships the full model; drop --quick.")
    start = time.perf_counter()
    recipe = PRESETS[preset]
    train_set = load_render_set(recipe.train_renders)
    tower = train_image_tower(train_set, out, recipe.training, recipe.tower, progress)
    if not is_main_process():  # under `accelerate launch` the main process writes, evaluates and reports
        return {"seconds": round(time.perf_counter() - start, 1)}
    command = "cliphead train clip" + (" --quick" if preset == "quick" else " --install" if install else "")
    provenance = {"command": command, "renders": asdict(recipe.train_renders), "training": asdict(recipe.training)}
    weights = save_image_tower(tower, out / DEFAULT_LIT_WEIGHTS.name, provenance)
    encoder = LiTMiniLMEncoder(tower, name="lit-minilm" if install else f"lit-minilm:{weights}")
    results, recall = evaluate_encoder(encoder, load_render_set(recipe.eval_renders))
    table = pd.DataFrame(evaluation_rows("lit-minilm (embedded)", results, recall))
    table.to_csv(out / "eval.csv", index=False)
    history = pd.read_csv(out / "history.csv")
    payload = {
        "weights": str(weights),
        "bytes": weights.stat().st_size,
        "steps": recipe.training.steps,
        "train_images": recipe.train_renders.n_images,
        "eval_images": recipe.eval_renders.n_images,
        "final_loss": round(float(history["loss"].iloc[-1]), 4),
        "zero_shot": {
            f"{r.attribute}{'' if r.prompt_set == 'training wording' else ' (paraphrase)'}": round(r.accuracy, 4)
            for r in results
        },
        "R@1": round(recall["R@1"], 4),
        "R@5": round(recall["R@5"], 4),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if install:
        payload |= install_weights(
            weights,
            out / "history.csv",
            DEFAULT_LIT_WEIGHTS,
            "cliphead train clip --install",
            "lit-minilm image tower (residual CNN, 96² renders → MiniLM's 384-d text space, LiT), fp16",
        )
    return payload
