"""Training the mapping networks: L2 (CLIP-Head supp. §2) and L2 + cyclic (supp. §5, Table 1).

The L2 objective is the mean squared error between predicted and ground-truth latents. The cyclic
variant trains a backward network MLP_ψ jointly with the mapper and adds
``cyclic_weight · ‖MLP_ψ(MLP(ψ)) − ψ‖²`` (mean over ψ's dimensions): the predicted latent must
carry enough of ψ to give it back. The held-out MSE that Table 1 reports is the L2 error of the
latents on pairs whose group (an identity, or an expression prompt) was never trained on.

``input_noise`` > 0 departs from the paper: each step adds Gaussian noise of that expected norm to
the unit-length ψ and normalises it again, so the mapper answers for a neighbourhood of each
training embedding rather than for the point. The expression pairs need it: 23 targets reached
through 8 wordings each, with unseen wordings landing between them (see :func:`noisy`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from cliphead.lab.distributed import autocast, batch_share, share_mean, sum_gradients, summed
from cliphead.mapping.networks import MapperConfig, MappingMLP
from cliphead.lab.mapping.pairs import ExpressionPairs, IdentityPairs
from cliphead.lab.mapping.prompts import NO_FACE_TRAINING

#: Where identity ψ come from: the paper's image embeddings, the identity captions, or both.
IDENTITY_SOURCES = ("image", "caption", "image+caption")
#: Share of the identity training set made of no-face sentences mapped to the latent mean.
NO_FACE_SHARE = 0.05


@dataclass(frozen=True)
class MapperTrainingConfig:
    """Supplementary §2: AdamW, batch size 10, 100 epochs; ``cyclic_weight`` > 0 adds the cyclic loss."""

    epochs: int = 100
    batch_size: int = 10
    learning_rate: float = 1e-4
    weight_decay: float = 1e-2
    cyclic_weight: float = 0.0
    input_noise: float = 0.0  # expected norm of the noise added to ψ per step (0: the paper's recipe)
    held_out: float = 0.1  # share of the groups kept out of training
    seed: int = 0


#: The mappers' width: the paper does not fix it; 256 keeps 100 epochs of batch 10 a few minutes on a CPU.
MAPPER_HIDDEN = 256


@dataclass(frozen=True)
class TrainingSet:
    """Pairs with the group each belongs to; groups below 0 are train-only (the no-face sentences)."""

    psi: np.ndarray
    targets: np.ndarray
    groups: np.ndarray

    def split(self, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of training and held-out pairs: ``held_out`` of the (non-negative) groups are held out."""
        groups = np.unique(self.groups[self.groups >= 0])
        rng = np.random.default_rng(seed)
        n_out = max(1, round(held_out * len(groups))) if held_out > 0 else 0
        out = np.isin(self.groups, rng.choice(groups, n_out, replace=False))
        return np.flatnonzero(~out), np.flatnonzero(out)


def _no_face(encoder_psi: np.ndarray, target: np.ndarray, n: int) -> TrainingSet:
    reps = int(np.ceil(n / len(encoder_psi)))
    psi = np.tile(encoder_psi, (reps, 1))[:n]
    return TrainingSet(psi, np.tile(target, (n, 1)).astype(np.float32), np.full(n, -1))


def identity_training_set(pairs: IdentityPairs, source: str, no_face_psi: np.ndarray, latent_mean) -> TrainingSet:
    """(ψ, z_id) of ``source`` (see :data:`IDENTITY_SOURCES`), grouped by identity, plus no-face sentences."""
    if source not in IDENTITY_SOURCES:
        raise ValueError(f"source must be one of {IDENTITY_SOURCES}, got {source!r}")
    parts = [pairs.image_psi] * ("image" in source.split("+")) + [pairs.caption_psi] * ("caption" in source)
    psi = np.concatenate(parts)
    groups = np.tile(pairs.renders.identity, len(parts))
    pairs_set = TrainingSet(psi, np.tile(pairs.z_id, (len(parts), 1)), groups)
    extra = _no_face(no_face_psi, np.asarray(latent_mean, dtype=np.float32), round(NO_FACE_SHARE * len(psi)))
    return _join(pairs_set, extra)


def expression_training_set(pairs: ExpressionPairs) -> TrainingSet:
    """(ψ, z_exp), one group per prompt; the no-face sentences train only."""
    groups = np.array([-1 if label == "no face" else k for k, label in enumerate(pairs.labels)])
    return TrainingSet(pairs.psi, pairs.z_exp, groups)


def _join(a: TrainingSet, b: TrainingSet) -> TrainingSet:
    return TrainingSet(
        np.concatenate([a.psi, b.psi]), np.concatenate([a.targets, b.targets]), np.concatenate([a.groups, b.groups])
    )


@dataclass
class MapperRun:
    """A trained mapper with its backward network (cyclic runs), loss history and held-out error."""

    mapper: MappingMLP
    backward: MappingMLP | None
    history: pd.DataFrame  # epoch, train_l2, train_cyclic, held_out_mse
    held_out_mse: float
    seconds: float
    config: MapperTrainingConfig


def noisy(psi: torch.Tensor, norm: float, generator: torch.Generator) -> torch.Tensor:
    """Unit-length ``psi`` moved by isotropic Gaussian noise of expected norm about ``norm``, then renormalised."""
    noise = torch.randn(psi.shape, generator=generator) * (norm / psi.shape[-1] ** 0.5)
    return torch.nn.functional.normalize(psi + noise, dim=-1)


def _mse(mapper: MappingMLP, psi: torch.Tensor, targets: torch.Tensor) -> float:
    if len(psi) == 0:
        return float("nan")
    with torch.no_grad():
        return float(((mapper(psi) - targets) ** 2).mean())


def train_mapper(
    data: TrainingSet,
    config: MapperTrainingConfig = MapperTrainingConfig(),
    hidden: int = MAPPER_HIDDEN,
    progress: bool = True,
    description: str = "mapper",
) -> MapperRun:
    """Train MLP(ψ) → latent with AdamW on L2 (+ cyclic), reporting held-out MSE after every epoch; under
    ``accelerate launch`` each process takes its share of every batch (:mod:`cliphead.lab.distributed`)."""
    from tqdm.auto import tqdm

    start = time.perf_counter()
    torch.manual_seed(config.seed)
    train, held = data.split(config.held_out, config.seed)
    psi, targets = torch.from_numpy(data.psi).float(), torch.from_numpy(data.targets).float()
    mapper = MappingMLP(MapperConfig(psi.shape[1], targets.shape[1], hidden))
    mapper.set_output_statistics(targets[train])
    parameters = list(mapper.parameters())
    backward = None
    if config.cyclic_weight > 0:
        backward = MappingMLP(MapperConfig(targets.shape[1], psi.shape[1], hidden))
        backward.set_output_statistics(psi[train])
        parameters += list(backward.parameters())
    optimiser = torch.optim.AdamW(parameters, config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    rows = []
    epochs = tqdm(range(1, config.epochs + 1), desc=description, unit="epoch", disable=not progress)
    for epoch in epochs:
        mapper.train()
        order = torch.from_numpy(train)[torch.randperm(len(train), generator=generator)]
        sums = np.zeros(2)
        for batch in order.split(config.batch_size):
            inputs = noisy(psi[batch], config.input_noise, generator) if config.input_noise > 0 else psi[batch]
            share = batch_share(len(batch))
            with autocast():
                predicted = mapper(inputs[share.items])
                l2 = share_mean((predicted - targets[batch][share.items]) ** 2, share)
                loss = l2
                if backward is not None:
                    cyclic = share_mean((backward(predicted) - psi[batch][share.items]) ** 2, share)
                    loss = l2 + config.cyclic_weight * cyclic
                    sums[1] += summed(cyclic) * len(batch)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            sum_gradients(parameters)
            optimiser.step()
            sums[0] += summed(l2) * len(batch)
        mapper.eval()
        held_out = _mse(mapper, psi[held], targets[held])
        rows.append(
            {
                "epoch": epoch,
                "train_l2": sums[0] / len(train),
                "train_cyclic": sums[1] / len(train) if backward is not None else float("nan"),
                "held_out_mse": held_out,
            }
        )
        epochs.set_postfix(held_out=f"{held_out:.3g}")
    if backward is not None:
        backward.eval()
    history = pd.DataFrame(rows)
    return MapperRun(mapper, backward, history, held_out, time.perf_counter() - start, config)


def _ablation_run(name: str, data: TrainingSet, loss: str, config: MapperTrainingConfig) -> tuple[dict, MapperRun]:
    run = train_mapper(data, config, progress=False)
    row = {
        "mapper": name,
        "loss": loss,
        "seed": config.seed,
        "held_out_mse": run.held_out_mse,
        "train_pairs": len(data.split(config.held_out, config.seed)[0]),
        "seconds": round(run.seconds, 1),
    }
    return row, run


def cyclic_ablation(
    sets: dict[str, TrainingSet],
    seeds: tuple[int, ...],
    config: MapperTrainingConfig = MapperTrainingConfig(),
    cyclic_weight: float = 1.0,
    workers: int = 1,
) -> tuple[pd.DataFrame, dict[tuple[str, str, int], MapperRun]]:
    """Supplementary Table 1: held-out MSE of each mapper for L2 and L2 + cyclic, one row per seed.

    ``workers`` > 1 trains runs side by side in worker processes (:mod:`cliphead.lab.parallel`): batch-10
    steps are too small for threads to help, separate runs are not.
    """
    from cliphead.lab.parallel import map_in_processes

    tasks = [
        (name, data, loss, replace(config, cyclic_weight=weight, seed=seed))
        for name, data in sets.items()
        for loss, weight in (("L2", 0.0), ("L2 + cyclic", cyclic_weight))
        for seed in seeds
    ]
    results = map_in_processes(_ablation_run, tasks, workers, "cyclic ablation", "run")
    runs = {(name, loss, task_config.seed): run for (name, _, loss, task_config), (_, run) in zip(tasks, results)}
    return pd.DataFrame([row for row, _ in results]), runs


#: Supplementary Table 1's held-out MSE (NPHM latents, OpenCLIP ViT, ControlNet images).
PAPER_TABLE_1 = {
    ("MLP_id", "L2"): 8.33e-5,
    ("MLP_exp", "L2"): 6.51e-4,
    ("MLP_id", "L2 + cyclic"): 8.74e-5,
    ("MLP_exp", "L2 + cyclic"): 6.87e-4,
}


def summarise_ablation(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per mapper and loss, next to the paper's figure."""
    summary = rows.groupby(["mapper", "loss"], sort=False)["held_out_mse"].agg(["mean", "std", "count"]).reset_index()
    summary["paper"] = [PAPER_TABLE_1.get((m, loss), float("nan")) for m, loss in zip(summary.mapper, summary.loss)]
    return summary.rename(columns={"mean": "held_out_mse_mean", "std": "held_out_mse_std", "count": "seeds"})


def no_face_psi(encoder) -> np.ndarray:
    """Text embeddings of the no-face training sentences."""
    return encoder.encode_text(list(NO_FACE_TRAINING)).numpy().astype(np.float32)
