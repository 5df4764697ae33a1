"""Fitting a head model to a scan: the slow optimisation an NPHM-style model needs for new data.

- **Identity** (:func:`fit_identity`): ``z_id`` minimises ``mean |F_id(p, z_id)|`` over the scan's
  points, plus ``1 − cos(∇F_id(p), n)`` where the scan has normals, plus a Gaussian prior
  ``‖(z_id − μ)/σ‖²`` from the latent distribution (NPHM's fitting, CLIP-Head eq. 1's decoder).
- **Expression** (:func:`fit_expression`): with the identity known, ``z_exp`` minimises the two-sided
  Chamfer distance between the forward-deformed canonical surface and the posed scan, plus the
  prior of the expression codes. A forward deformation has no SDF of the posed surface to query,
  so the expression is fitted on points, as NPHM's correspondence-based expression training does.
- **Linear baselines** (:func:`fit_linear`): the ICT model truncated to its first ``k`` identity
  modes (the FLAME-like row) or with all 100, fitted by least squares on vertex correspondences,
  which the ICT scans have and a point cloud would not (an advantage to the baseline).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from cliphead.heads.generation import ParametricHeadModel


@dataclass
class FitResult:
    code: torch.Tensor
    losses: list[float]
    seconds: float


@dataclass(frozen=True)
class FitSettings:
    iterations: int = 300
    learning_rate: float = 0.05  # times the mean latent std
    points_per_step: int = 8192
    normal_weight: float = 0.1
    prior_weight: float = 1e-5
    seed: int = 0


def _subset(points: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(len(points), (min(n, len(points)),), generator=generator)


def _optimise_code(
    data_loss: Callable[[torch.Tensor], torch.Tensor],
    mean: torch.Tensor,
    std: torch.Tensor,
    settings: FitSettings,
    description: str,
    progress: bool,
) -> FitResult:
    """Adam on one latent code from the distribution's mean: ``data_loss(code)`` plus the Gaussian prior."""
    start = time.perf_counter()
    mean, std = mean.detach(), std.detach()
    code = mean.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([code], lr=settings.learning_rate * float(std.mean()))
    losses = []
    for _ in tqdm(range(settings.iterations), desc=description, disable=not progress):
        loss = data_loss(code) + settings.prior_weight * ((code - mean) / std).pow(2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    return FitResult(code.detach(), losses, time.perf_counter() - start)


def fit_identity(
    model: ParametricHeadModel,
    points: np.ndarray,
    normals: np.ndarray | None = None,
    settings: FitSettings = FitSettings(),
    progress: bool = False,
) -> FitResult:
    """``z_id`` of a neutral scan given as (N, 3) points in cm (ICT frame), with optional normals."""
    generator = torch.Generator().manual_seed(settings.seed)
    target = torch.from_numpy(np.asarray(points, dtype=np.float32))
    target_normals = None if normals is None else torch.from_numpy(np.asarray(normals, dtype=np.float32))

    def data_loss(code: torch.Tensor) -> torch.Tensor:
        chosen = _subset(target, settings.points_per_step, generator)
        batch = target[chosen].requires_grad_(target_normals is not None)
        sdf = model.sdf_field(code)(batch)
        loss = sdf.abs().mean()
        if target_normals is not None:
            gradient = torch.autograd.grad(sdf.sum(), batch, create_graph=True)[0]
            cosine = torch.nn.functional.cosine_similarity(gradient, target_normals[chosen], dim=-1)
            loss = loss + settings.normal_weight * (1 - cosine).mean()
        return loss

    return _optimise_code(data_loss, model.latent_mean, model.latent_std, settings, "fitting the identity", progress)


def chamfer(
    moved: torch.Tensor, target: torch.Tensor, target_tree: cKDTree, target_subset: torch.Tensor
) -> torch.Tensor:
    """Two-sided mean nearest-neighbour distance, differentiable in ``moved`` (N, 3).

    Nearest neighbours are found by k-d trees (without gradient): every moved point against the
    whole ``target`` cloud, and the ``target_subset`` indices against the moved points.
    """
    moved_points = moved.detach().numpy()
    forward = target_tree.query(moved_points, workers=-1)[1]
    backward = cKDTree(moved_points).query(target[target_subset].numpy(), workers=-1)[1]
    to_target = (moved - target[forward]).norm(dim=-1).mean()
    to_moved = (moved[backward] - target[target_subset]).norm(dim=-1).mean()
    return 0.5 * (to_target + to_moved)


def fit_expression(
    model: ParametricHeadModel,
    points: np.ndarray,
    z_id: torch.Tensor,
    canonical_vertices: np.ndarray,
    settings: FitSettings = FitSettings(iterations=200),
    progress: bool = False,
) -> FitResult:
    """``z_exp`` of a posed scan (N, 3 points, cm) of the identity whose canonical mesh is given."""
    generator = torch.Generator().manual_seed(settings.seed)
    target = torch.from_numpy(np.asarray(points, dtype=np.float32))
    target_tree = cKDTree(target.numpy())
    canonical = torch.from_numpy(np.asarray(canonical_vertices, dtype=np.float32))

    def data_loss(code: torch.Tensor) -> torch.Tensor:
        moved = model.deform(canonical[_subset(canonical, settings.points_per_step, generator)], z_id, code)
        return chamfer(moved, target, target_tree, _subset(target, settings.points_per_step, generator))

    return _optimise_code(
        data_loss,
        model.expression_latent_mean,
        model.expression_latent_std,
        settings,
        "fitting the expression",
        progress,
    )


def fit_linear(
    vertices: np.ndarray,
    neutral: np.ndarray,
    identity_modes: np.ndarray,
    expression_modes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares weights of a linear model for registered ``vertices``; returns (weights, fitted vertices).

    ``identity_modes``: (k, V, 3); ``expression_modes``: (53, V, 3) or None (neutral scan).
    """
    modes = identity_modes if expression_modes is None else np.concatenate([identity_modes, expression_modes])
    basis = modes.reshape(len(modes), -1).T
    weights, *_ = np.linalg.lstsq(basis, (vertices - neutral).ravel(), rcond=None)
    return weights, neutral + (basis @ weights).reshape(neutral.shape)
