"""``cliphead train head-model``: ICT scans → the neural head model → weights, history, (optionally) shipping."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cliphead.lab.distributed import is_main_process
from cliphead.heads.checkpoints import DEFAULT_HEAD_WEIGHTS, save_head_model
from cliphead.heads.ict import load_ict_model
from cliphead.heads.neural import NeuralHeadConfig
from cliphead.lab.heads.scans import ScanConfig, load_scans
from cliphead.lab.heads.training import TrainingConfig, train_head_model
from cliphead.weights.manifest import install_weights

#: The manifest's description of the shipped weights.
DESCRIPTION = "neural head model (NPHM-style tri-plane identity SDF + expression deformation + landmarks), fp16"


@dataclass(frozen=True)
class HeadModelRecipe:
    """The scans ``cliphead train head-model`` trains on, the training, and the model's sizes (None: defaults)."""

    scans: ScanConfig = ScanConfig()
    training: TrainingConfig = TrainingConfig()
    model: NeuralHeadConfig | None = None


#: ``full`` trains the shipped model; ``quick`` 12 identities, 150 steps and small tri-planes, in minutes.
PRESETS = {
    "full": HeadModelRecipe(),
    "quick": HeadModelRecipe(
        scans=ScanConfig(
            identities=12,
            held_out_identities=2,
            blends=6,
            held_out_blends=2,
            surface_points=4000,
            near_points=4000,
            volume_points=2000,
        ),
        training=TrainingConfig(
            steps=150,
            identities_per_step=4,
            surface_points=1024,
            sdf_points=1024,
            deformation_points=1024,
            checkpoint_every=50,
            log_every=10,
        ),
        model=NeuralHeadConfig(detail_resolution=64, basis_resolution=16, deformation_resolution=64),
    ),
}


def train_and_save_head_model(out: Path, preset: str = "full", install: bool = False) -> dict:
    """Train the head model of the named preset on the ICT scans into ``out``.

    The run checkpoints into ``out`` and resumes from there; it writes ``out``/neural_head.safetensors and
    ``out``/history.csv. ``install`` ships the full model as the embedded default and records its sha256
    in the manifest. Returns the weights, their size, the steps, the scan counts, the final losses in mm
    and the seconds (and the manifest entry when installed).
    """
    if install and preset != "full":
        raise ValueError("--install ships the full model; drop --quick.")
    out = Path(out)
    start = time.perf_counter()
    recipe = PRESETS[preset]
    scans = load_scans(load_ict_model(), recipe.scans)
    config = recipe.training
    model, history = train_head_model(scans, out, config, recipe.model)
    if not is_main_process():  # under `accelerate launch` the main process writes and reports
        return {"seconds": round(time.perf_counter() - start, 1)}
    weights = save_head_model(model, out / DEFAULT_HEAD_WEIGHTS.name)
    payload = {
        "weights": str(weights),
        "bytes": weights.stat().st_size,
        "steps": config.steps,
        "identities": len(scans.identity_weights),
        "expressions": len(scans.expression_weights),
        "final_surface_mm": round(10 * history["surface"].iloc[-1], 4),
        "final_deformation_mm": round(10 * history["deformation"].iloc[-1], 4),
        "final_landmarks_mm": round(10 * history["landmarks"].iloc[-1], 4),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if install:
        payload |= install_weights(
            weights, out / "history.csv", DEFAULT_HEAD_WEIGHTS, "cliphead train head-model --install", DESCRIPTION
        )
    return payload
