"""The embedded neural parametric head model: an NPHM-style identity SDF and expression deformation.

CLIP-Head generates geometry with NPHM (its eq. 1): an identity decoder ``F_id(x, z_id)`` gives a
signed distance field, an expression decoder ``F_exp(x, z_id, z_exp)`` deforms it, and the mesh is
the zero level set. This module is a model of the same kind, built for extraction speed on a CPU:
both decoders read features from tri-planes (three axis-aligned 2D feature grids, summed per grid)
and decode them with small MLPs, which "Learning Neural Parametric Head Models with 2D Adversarial
Objectives" (thesis) reports ~9× faster to extract than NPHM's ensemble of local MLPs (3.7 s against
33.1 s at resolution 256).

- **Identity** (:class:`IdentitySDF`): a shared high-resolution "detail" tri-plane, and a
  low-resolution tri-plane that is linear in ``z_id`` (a mean plane plus one basis plane per latent
  dimension), built once per identity. The MLP sees both features and ``z_id``; the SDF is its output
  added to a sphere, so that far from the head it starts as a distance.
- **Expression** (:class:`ExpressionDeformation`): a forward deformation of canonical points,
  ``x ↦ x + Δ(x, z_id, z_exp)``; an MLP on tri-plane features, ``z_exp`` and a projection of ``z_id``
  gives one displacement per latent dimension, contracted with ``z_exp`` (so no expression is no
  deformation). An expression costs one pass over the canonical mesh's vertices, not an extraction.
- **Landmarks** (:class:`LandmarkHead`): the 68 canonical landmarks of an identity from ``z_id``,
  like NPHM's anchors; the expression deformation moves them with the surface.

Points are in the ICT frame (cm); inside the model they are scaled into the cube [-1, 1]³ of
:data:`BOX_CENTRE` / :data:`BOX_HALF_SIDE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

N_LANDMARKS = 68
#: The box every head of the model lies in (cm, ICT frame): centre and half side of a cube.
BOX_CENTRE = np.array([0.0, 1.5, 1.5])
BOX_HALF_SIDE = 16.0


def box_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Corners of the model's cube (cm)."""
    return BOX_CENTRE - BOX_HALF_SIDE, BOX_CENTRE + BOX_HALF_SIDE


@dataclass(frozen=True)
class NeuralHeadConfig:
    """Sizes of the neural head model."""

    identity_dim: int = 64
    expression_dim: int = 32
    channels: int = 16
    detail_resolution: int = 128
    basis_resolution: int = 32
    hidden: int = 64
    deformation_resolution: int = 128
    deformation_hidden: int = 128
    identity_projection: int = 16
    sphere_radius: float = 0.6  # of the initial SDF, in box units

    def to_dict(self) -> dict:
        return asdict(self)


def to_box(points: torch.Tensor) -> torch.Tensor:
    """ICT-frame centimetres → the model's cube [-1, 1]³."""
    return (points - points.new_tensor(BOX_CENTRE)) / BOX_HALF_SIDE


def _plane_coordinates(points: torch.Tensor) -> torch.Tensor:
    """(..., 3) box points → (3, ..., 2) coordinates on the xy, xz and yz planes."""
    return torch.stack([points[..., [0, 1]], points[..., [0, 2]], points[..., [1, 2]]])


def sample_triplane(planes: torch.Tensor, points: torch.Tensor, twice_differentiable: bool = False) -> torch.Tensor:
    """Bilinear tri-plane features summed over the three planes.

    ``planes``: (B, 3, C, R, R); ``points``: (B, P, 3) in the box. Returns (B, P, C).
    ``grid_sample`` is fast but has no second derivative with respect to the points, which the
    normal and eikonal losses need; ``twice_differentiable`` switches to an explicit bilinear
    interpolation (the same values, corners aligned).
    """
    batch, _, channels, resolution, _ = planes.shape
    coordinates = _plane_coordinates(points)  # (3, B, P, 2)
    if not twice_differentiable:
        features = 0
        for k in range(3):
            grid = coordinates[k].unsqueeze(1)  # (B, 1, P, 2), (x, y) ↦ (width, height)
            features = features + F.grid_sample(planes[:, k], grid, mode="bilinear", align_corners=True)[:, :, 0]
        return features.transpose(1, 2)
    position = ((coordinates + 1) * 0.5 * (resolution - 1)).clamp(0, resolution - 1)
    corner = position.detach().floor().clamp(max=resolution - 2)
    fraction = position - corner
    corner = corner.long()
    flat = planes.permute(0, 1, 3, 4, 2).reshape(-1, channels)  # rows: (b, plane, row, column)
    plane_index = torch.arange(3, device=points.device).view(3, 1, 1)
    batch_index = torch.arange(batch, device=points.device).view(1, batch, 1)
    base = (batch_index * 3 + plane_index) * resolution * resolution  # (3, B, 1)
    features = 0
    for dy in (0, 1):
        for dx in (0, 1):
            rows = base + (corner[..., 1] + dy) * resolution + corner[..., 0] + dx
            weight = (fraction[..., 0] if dx else 1 - fraction[..., 0]) * (
                fraction[..., 1] if dy else 1 - fraction[..., 1]
            )
            features = features + flat[rows.reshape(-1)].view(3, batch, -1, channels) * weight.unsqueeze(-1)
    return features.sum(0)


class IdentitySDF(nn.Module):
    """``F_id(x, z_id)``: the canonical (neutral) signed distance in cm, negative inside."""

    def __init__(self, config: NeuralHeadConfig) -> None:
        super().__init__()
        c = config
        self.config = config
        self.detail = nn.Parameter(1e-2 * torch.randn(3, c.channels, c.detail_resolution, c.detail_resolution))
        self.basis = nn.Parameter(
            1e-2 * torch.randn(c.identity_dim + 1, 3, c.channels, c.basis_resolution, c.basis_resolution)
        )
        self.features_in = nn.Linear(2 * c.channels, c.hidden)
        self.code_in = nn.Linear(c.identity_dim, c.hidden, bias=False)
        self.hidden = nn.Linear(c.hidden, c.hidden)
        self.out = nn.Linear(c.hidden, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def identity_planes(self, z_id: torch.Tensor) -> torch.Tensor:
        """(B, K) codes → (B, 3, C, R, R) identity tri-planes (linear in the code)."""
        return self.basis[0] + torch.einsum("bk,kpcij->bpcij", z_id, self.basis[1:])

    def forward(self, points: torch.Tensor, z_id: torch.Tensor, twice_differentiable: bool = False) -> torch.Tensor:
        """(B, P, 3) cm points, (B, K) codes → (B, P) signed distances in cm."""
        return self.decode(points, z_id, self.identity_planes(z_id), twice_differentiable)

    def decode(
        self, points: torch.Tensor, z_id: torch.Tensor, planes: torch.Tensor, twice_differentiable: bool = False
    ) -> torch.Tensor:
        """As :meth:`forward`, with the identity tri-planes already built (extraction reuses them)."""
        box = to_box(points)
        batch = points.shape[0]
        detail = sample_triplane(self.detail.expand(batch, -1, -1, -1, -1), box, twice_differentiable)
        identity = sample_triplane(planes, box, twice_differentiable)
        hidden = F.silu(self.features_in(torch.cat([detail, identity], -1)) + self.code_in(z_id).unsqueeze(1))
        hidden = F.silu(self.hidden(hidden))
        sphere = box.norm(dim=-1) - self.config.sphere_radius
        return (sphere + self.out(hidden)[..., 0]) * BOX_HALF_SIDE


class ExpressionDeformation(nn.Module):
    """``F_exp(x, z_id, z_exp)``: forward displacement (cm) of canonical points under an expression."""

    def __init__(self, config: NeuralHeadConfig) -> None:
        super().__init__()
        c = config
        self.config = config
        self.planes = nn.Parameter(
            1e-2 * torch.randn(3, c.channels, c.deformation_resolution, c.deformation_resolution)
        )
        self.identity_projection = nn.Linear(c.identity_dim, c.identity_projection)
        self.mlp = nn.Sequential(
            nn.Linear(c.channels + c.identity_projection + c.expression_dim, c.deformation_hidden),
            nn.SiLU(),
            nn.Linear(c.deformation_hidden, c.deformation_hidden),
            nn.SiLU(),
            nn.Linear(c.deformation_hidden, 3 * c.expression_dim),
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, points: torch.Tensor, z_id: torch.Tensor, z_exp: torch.Tensor) -> torch.Tensor:
        """(B, P, 3) canonical cm points, (B, K) and (B, J) codes → (B, P, 3) displacements in cm."""
        batch, n_points, _ = points.shape
        features = sample_triplane(self.planes.expand(batch, -1, -1, -1, -1), to_box(points))
        codes = torch.cat([self.identity_projection(z_id), z_exp], -1).unsqueeze(1).expand(-1, n_points, -1)
        per_dimension = self.mlp(torch.cat([features, codes], -1)).view(batch, n_points, -1, 3)
        return torch.einsum("bpjd,bj->bpd", per_dimension, z_exp) * BOX_HALF_SIDE


class LandmarkHead(nn.Module):
    """The 68 canonical landmarks (cm) of an identity: linear in ``z_id`` plus a small MLP."""

    def __init__(self, config: NeuralHeadConfig) -> None:
        super().__init__()
        self.linear = nn.Linear(config.identity_dim, 3 * N_LANDMARKS)
        self.mlp = nn.Sequential(nn.Linear(config.identity_dim, 128), nn.SiLU(), nn.Linear(128, 3 * N_LANDMARKS))
        nn.init.zeros_(self.mlp[-1].weight)

    def forward(self, z_id: torch.Tensor) -> torch.Tensor:
        """(B, K) → (B, 68, 3)."""
        box = self.linear(z_id) + self.mlp(z_id)
        return box.view(-1, N_LANDMARKS, 3) * BOX_HALF_SIDE + z_id.new_tensor(BOX_CENTRE)


class NeuralHeadModel(nn.Module):
    """Identity SDF, expression deformation and landmarks, with the latent distribution for sampling.

    Extraction, sampling and fitting use only :meth:`sdf_field`, :meth:`deform`,
    :meth:`canonical_landmarks`, :meth:`sample_identity_code`, :meth:`expression_code`, the
    ``config.identity_dim``/``expression_dim`` sizes and the latent statistics; an NPHM-style
    checkpoint plugs in by wrapping its decoders in a module with the same methods (see
    :class:`~cliphead.heads.generation.ParametricHeadModel`).

    ``latent_mean``/``latent_std`` (and their expression counterparts) are the per-dimension
    statistics of the trained codes (NPHM's ``lat_mean``/``lat_std``); ``expression_codes`` holds
    the trained code of every named expression (the 23 labels and the training blends), and
    ``identity_codes`` those of the training identities (for interpolation and transfer).
    """

    def __init__(self, config: NeuralHeadConfig = NeuralHeadConfig(), expression_names: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.config = config
        self.identity = IdentitySDF(config)
        self.expression = ExpressionDeformation(config)
        self.landmarks = LandmarkHead(config)
        self.expression_names = tuple(expression_names)
        self.register_buffer("latent_mean", torch.zeros(config.identity_dim))
        self.register_buffer("latent_std", torch.full((config.identity_dim,), 0.1))
        self.register_buffer("expression_latent_mean", torch.zeros(config.expression_dim))
        self.register_buffer("expression_latent_std", torch.full((config.expression_dim,), 0.1))
        self.register_buffer("expression_codes", torch.zeros(len(expression_names), config.expression_dim))
        self.register_buffer("identity_codes", torch.zeros(0, config.identity_dim))

    def sample_identity_code(self, seed: int) -> torch.Tensor:
        """A code drawn from the diagonal Gaussian of the trained identity codes."""
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(self.config.identity_dim, generator=generator)
        return self.latent_mean + self.latent_std * noise.to(self.latent_mean)

    def sdf_field(self, z_id: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The canonical SDF of one identity as a function of (P, 3) points (tri-planes built once)."""
        z_id = z_id.view(1, -1)
        planes = self.identity.identity_planes(z_id)
        return lambda points: self.identity.decode(points.view(1, -1, 3), z_id, planes)[0]

    def deform(self, points: torch.Tensor, z_id: torch.Tensor, z_exp: torch.Tensor) -> torch.Tensor:
        """(P, 3) canonical points of one identity moved by an expression (forward deformation)."""
        return points + self.expression(points.view(1, -1, 3), z_id.view(1, -1), z_exp.view(1, -1))[0]

    def canonical_landmarks(self, z_id: torch.Tensor) -> torch.Tensor:
        """(68, 3) landmarks of the identity's neutral head."""
        return self.landmarks(z_id.view(1, -1))[0]

    def expression_code(self, name: str) -> torch.Tensor:
        """The trained code of a named expression (one of the 23 labels or a training blend)."""
        if name not in self.expression_names:
            raise KeyError(f"Unknown expression {name!r}; the model knows {', '.join(self.expression_names)}.")
        return self.expression_codes[self.expression_names.index(name)]
