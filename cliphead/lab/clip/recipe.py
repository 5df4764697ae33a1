"""``cliphead train clip``: render sets → LiT training → weights, evaluation, and (optionally) shipping."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from cliphead.lab.world.dataset import (
    EVAL_RENDERS,
    QUICK_EVAL_RENDERS,
    QUICK_TRAIN_RENDERS,
    RenderSetConfig,
    load_render_set,
)
from cliphead.lab.clip.evaluation import evaluate_encoder, evaluation_rows
from cliphead.clip.image_tower import ImageTowerConfig
from cliphead.clip.lit import DEFAULT_LIT_WEIGHTS, LiTMiniLMEncoder, save_image_tower
from cliphead.lab.clip.training import QUICK_LIT_TRAINING, QUICK_TOWER, LiTTrainingConfig, train_image_tower
from cliphead.weights.manifest import check_size, install_weights


def train_and_save_clip(out: Path, quick: bool = False, install: bool = False, progress: bool = True) -> dict:
    """Train the image tower (quick: a tiny one on a tiny set), evaluate it, write weights and tables."""
    if install and quick:
        raise ValueError("--install ships the full model; drop --quick.")
    start = time.perf_counter()
    train_config = QUICK_TRAIN_RENDERS if quick else RenderSetConfig()
    eval_config = QUICK_EVAL_RENDERS if quick else EVAL_RENDERS
    training = QUICK_LIT_TRAINING if quick else LiTTrainingConfig()
    tower_config = QUICK_TOWER if quick else ImageTowerConfig()
    train_set = load_render_set(train_config)
    tower = train_image_tower(train_set, out, training, tower_config, progress)
    command = "cliphead train clip" + (" --quick" if quick else " --install" if install else "")
    provenance = {"command": command, "renders": asdict(train_config), "training": asdict(training)}
    weights = save_image_tower(tower, out / DEFAULT_LIT_WEIGHTS.name, provenance)
    check_size(weights)
    encoder = LiTMiniLMEncoder(tower, name="lit-minilm" if install else f"lit-minilm:{weights}")
    results, recall = evaluate_encoder(encoder, load_render_set(eval_config))
    table = pd.DataFrame(evaluation_rows("lit-minilm (embedded)", results, recall))
    table.to_csv(out / "eval.csv", index=False)
    history = pd.read_csv(out / "history.csv")
    payload = {
        "weights": str(weights),
        "bytes": weights.stat().st_size,
        "steps": training.steps,
        "train_images": train_config.n_images,
        "eval_images": eval_config.n_images,
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
