"""Training the neural head model on the ICT scans (auto-decoding, as NPHM and DeepSDF).

Every training identity and every training expression owns a latent code that is optimised with the
decoders. One step draws a batch of identities and, for each, one expression, and minimises

- surface SDF ``|F_id(x_s)|`` and normal ``1 − cos(∇F_id(x_s), n_s)`` on surface points,
- SDF ``|F_id(x) − sdf(x)|`` and eikonal ``(‖∇F_id(x)‖ − 1)²`` on near-surface and volume points,
- deformation correspondence ``‖x_s + F_exp(x_s) − x_s'‖`` on corresponding skin points,
- deformation penalty ``‖F_exp(x)‖`` at volume points more than 2 cm outside the skin,
- landmarks ``‖L(z_id) − l‖`` against the ICT landmark vertices,
- latent regularisation ``‖z_id‖² + ‖z_exp‖²``.

The run writes a checkpoint every ``checkpoint_every`` steps and resumes from it when started
again with the same output folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from cliphead.lab.distributed import autocast, is_main_process, mean_over_processes, process_seed, sum_gradients
from cliphead.files import atomic_path
from cliphead.heads.neural import NeuralHeadConfig, NeuralHeadModel
from cliphead.lab.heads.scans import ScanSet

#: Volume points this far outside the skin (cm) are held still by the deformation penalty.
STILL_BEYOND_CM = 2.0


@dataclass(frozen=True)
class LossWeights:
    surface: float = 3.0
    normal: float = 0.5
    sdf: float = 1.0
    eikonal: float = 0.3
    deformation: float = 2.0
    still: float = 0.2
    landmarks: float = 0.5
    latent: float = 1e-3


@dataclass(frozen=True)
class TrainingConfig:
    steps: int = 8000
    identities_per_step: int = 8
    surface_points: int = 2048
    sdf_points: int = 3072
    deformation_points: int = 2048
    learning_rate: float = 1e-3
    plane_learning_rate: float = 5e-3
    code_learning_rate: float = 2e-3
    final_learning_rate_factor: float = 0.05
    initial_code_std: float = 0.1
    checkpoint_every: int = 250
    log_every: int = 25
    seed: int = 0
    weights: LossWeights = field(default_factory=LossWeights)


class AutoDecoder(torch.nn.Module):
    """The model with one trainable code per training identity and per training expression."""

    def __init__(self, model: NeuralHeadModel, n_identities: int, n_expressions: int, code_std: float) -> None:
        super().__init__()
        self.model = model
        self.identity_codes = torch.nn.Parameter(code_std * torch.randn(n_identities, model.config.identity_dim))
        self.expression_codes = torch.nn.Parameter(code_std * torch.randn(n_expressions, model.config.expression_dim))


def _losses(
    auto: AutoDecoder, scans: ScanSet, config: TrainingConfig, rng: np.random.Generator
) -> dict[str, torch.Tensor]:
    model = auto.model
    batch = rng.choice(len(scans.identity_weights), size=config.identities_per_step, replace=False)
    z_id = auto.identity_codes[batch]

    columns = rng.integers(scans.surface_points.shape[1], size=(len(batch), config.surface_points))
    surface = torch.from_numpy(scans.surface_points[batch[:, None], columns])
    normals = torch.from_numpy(scans.surface_normals[batch[:, None], columns])
    columns = rng.integers(scans.sdf_points.shape[1], size=(len(batch), config.sdf_points))
    sdf_points = torch.from_numpy(scans.sdf_points[batch[:, None], columns])
    sdf_targets = torch.from_numpy(scans.sdf_values[batch[:, None], columns])

    points = torch.cat([surface, sdf_points], 1).requires_grad_(True)
    sdf = model.identity(points, z_id, twice_differentiable=True)
    gradient = torch.autograd.grad(sdf.sum(), points, create_graph=True)[0]
    n_surface = config.surface_points
    losses = {
        "surface": sdf[:, :n_surface].abs().mean(),
        "normal": (1 - torch.nn.functional.cosine_similarity(gradient[:, :n_surface], normals, dim=-1)).mean(),
        "sdf": (sdf[:, n_surface:] - sdf_targets).abs().mean(),
        "eikonal": ((gradient[:, n_surface:].norm(dim=-1) - 1) ** 2).mean(),
    }

    expressions = rng.integers(len(scans.expression_weights), size=len(batch))
    pairs = [
        scans.skin_points(scans.identity_weights[i], scans.expression_weights[e], config.deformation_points, rng)
        for i, e in zip(batch, expressions)
    ]
    canonical = torch.from_numpy(np.stack([c for c, _ in pairs])).float()
    posed = torch.from_numpy(np.stack([p for _, p in pairs])).float()
    z_exp = auto.expression_codes[expressions]
    displacement = model.expression(canonical, z_id, z_exp)
    losses["deformation"] = (canonical + displacement - posed).norm(dim=-1).mean()
    still = sdf_points[sdf_targets > STILL_BEYOND_CM].view(1, -1, 3)[:, : config.deformation_points]
    if still.shape[1]:
        moved = model.expression(still.expand(len(batch), -1, -1), z_id, z_exp)
        losses["still"] = moved.norm(dim=-1).mean()

    landmarks = torch.from_numpy(np.stack([scans.landmarks(scans.identity_weights[i]) for i in batch])).float()
    losses["landmarks"] = (model.landmarks(z_id) - landmarks).norm(dim=-1).mean()
    losses["latent"] = z_id.pow(2).sum(-1).mean() + z_exp.pow(2).sum(-1).mean()
    return losses


def _optimiser(auto: AutoDecoder, config: TrainingConfig) -> torch.optim.Optimizer:
    planes = [auto.model.identity.detail, auto.model.identity.basis, auto.model.expression.planes]
    plane_ids = {id(p) for p in planes}
    networks = [p for p in auto.model.parameters() if id(p) not in plane_ids]
    return torch.optim.Adam(
        [
            {"params": planes, "lr": config.plane_learning_rate},
            {"params": networks, "lr": config.learning_rate},
            {"params": [auto.identity_codes, auto.expression_codes], "lr": config.code_learning_rate},
        ]
    )


def finalise(auto: AutoDecoder, expression_names: tuple[str, ...]) -> NeuralHeadModel:
    """The trained model with its latent distribution and named expression codes filled in."""
    model = auto.model
    with torch.no_grad():
        codes = auto.identity_codes.detach()
        model.latent_mean.copy_(codes.mean(0))
        model.latent_std.copy_(codes.std(0))
        expression_codes = auto.expression_codes.detach()
        model.expression_latent_mean.copy_(expression_codes.mean(0))
        model.expression_latent_std.copy_(expression_codes.std(0))
        model.expression_codes = expression_codes.clone()
        model.identity_codes = codes.clone()
    model.expression_names = expression_names
    return model


def train_head_model(
    scans: ScanSet,
    out_dir: Path,
    config: TrainingConfig = TrainingConfig(),
    model_config: NeuralHeadConfig | None = None,
    progress: bool = True,
) -> tuple[NeuralHeadModel, pd.DataFrame]:
    """Train (or resume training) and return the final model and the loss history (the main process's draws;
    under ``accelerate launch`` each process draws its own identities, :mod:`cliphead.lab.distributed`)."""
    model_config = model_config or NeuralHeadConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = NeuralHeadModel(model_config, scans.expression_names)
    auto = AutoDecoder(model, len(scans.identity_weights), len(scans.expression_weights), config.initial_code_std)
    optimiser = _optimiser(auto, config)
    decay = config.final_learning_rate_factor ** (1 / max(config.steps, 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, decay)
    rng = np.random.default_rng(process_seed(config.seed))
    history: list[dict] = []
    start = 0
    checkpoint_path = out_dir / "checkpoint.pt"
    if checkpoint_path.is_file():
        state = torch.load(checkpoint_path, weights_only=False)
        if state["config"] != asdict(config) or state["model_config"] != model_config.to_dict():
            raise ValueError(f"{checkpoint_path} was written with another configuration; use another folder.")
        auto.load_state_dict(state["auto"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        history, start = state["history"], state["step"]
        if not is_main_process():  # the checkpoint holds the main process's draws; the others start a new stream
            rng = np.random.default_rng([process_seed(config.seed), start])
    bar = tqdm(
        range(start, config.steps),
        initial=start,
        total=config.steps,
        desc="training the head model",
        disable=not progress,
    )
    for step in bar:
        with autocast():
            losses = _losses(auto, scans, config, rng)
        weights = asdict(config.weights)
        total = sum(weights[name] * value for name, value in losses.items())
        optimiser.zero_grad(set_to_none=True)
        mean_over_processes(total).backward()
        sum_gradients(auto.parameters())
        optimiser.step()
        scheduler.step()
        if step % config.log_every == 0 or step == config.steps - 1:
            row = {"step": step, "total": total.item()} | {name: v.item() for name, v in losses.items()}
            history.append(row)
            bar.set_postfix(surface_mm=f"{10 * row['surface']:.2f}", deform_mm=f"{10 * row['deformation']:.2f}")
        if is_main_process() and ((step + 1) % config.checkpoint_every == 0 or step == config.steps - 1):
            with atomic_path(checkpoint_path) as temporary:
                torch.save(
                    {
                        "config": asdict(config),
                        "model_config": model_config.to_dict(),
                        "auto": auto.state_dict(),
                        "optimiser": optimiser.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "rng": rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state(),
                        "history": history,
                        "step": step + 1,
                    },
                    temporary,
                )
    history_frame = pd.DataFrame(history)
    if is_main_process():
        with atomic_path(out_dir / "history.csv") as temporary:
            history_frame.to_csv(temporary, index=False)
        (out_dir / "training_config.json").write_text(json.dumps(asdict(config), indent=2))
    return finalise(auto, scans.expression_names), history_frame
