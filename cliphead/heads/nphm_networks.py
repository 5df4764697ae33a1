"""NPHM's two decoders, written afresh for the published state-dict layouts (CLIP-Head eq. 1, NPHM §3).

CLIP-Head generates geometry with NPHM (Giebenhain et al., "Learning Neural Parametric Head Models",
CVPR 2023): an identity SDF ``F_id(x, z_id)`` and a forward deformation ``F_ex(x, z_id, z_ex)``. This
module evaluates both from the tensors of the published checkpoints (SimonGiebenhain/NPHM, MIT code,
read for the layout; this is an independent implementation). Coordinates are NPHM's own (FLAME × 4).

**Identity** (:class:`NPHMIdentity`, NPHM §3.1, the public ``FastEnsembleDeepSDFMirrored``): ``A + 1``
DeepSDF members (``A = 39`` anchors) run as one batched stack ``ensembled_deep_sdf.lin{k}`` whose
weights have ``A + 1 - S`` slots (24 for ``S = 16`` symmetric pairs): member ``2i`` and ``2i + 1``
(``i < S``) share slot ``i``; the remaining members take one slot each, in order.

- Anchors: ``mlp_pos`` (Linear G→P, ReLU, Linear P→P, ReLU, Linear P→3A) of the global code, plus the
  mean anchors (``assets/anchors_39.npy`` of an NPHM checkout).
- Member ``m < A`` sees ``x - a_m``; the last member sees ``x`` itself. The odd member of each pair
  (``m = 1, 3, …, 2S - 1``) sees that offset with x negated (mirrored).
- Member ``m``'s input is ``[local xyz, z_glob, z_m]`` with ``z = [z_glob | z_0 … z_A]`` (the local
  codes in member order: pairs first, then the non-symmetric anchors, then the background member).
- Softplus(β = 100) after every layer but the last; at the skip layer the hidden state and the input
  are concatenated and divided by √2 as a whole.
- Blending: weight ``exp(-(|x - a_m| + 1e-5)² / 0.1²)`` per anchor and the constant ``exp(-0.2 / 0.1²)``
  for the last member; ``F = Σ w_m f_m / (Σ w_m + 1e-6)`` (an absolute 1e-6, so the field fades towards
  0 far from every anchor, as in NPHM).

Where issue 24's text and the public code differ, the public code is followed: the issue says the 40th
member is forced to 1 at inference, but the public line ``sdf_pred[:, :, -1, 0] = 1`` runs before the
members axis is moved, so it sets the last query point of each batch (for every member), not the last
member. That is a batching artefact (it depends on how points are chunked), so it is not reproduced;
the last member contributes its own prediction, as it did in training.

**Expression** (:class:`NPHMExpression`, NPHM §3.2, the public ``DeformationNetwork`` in ``compress``
mode): ``compressor.0`` (Linear over ``[z_id, anchors flattened]`` → C = 32), then a DeepSDF MLP
``defDeepSDF.lin{k}`` on ``[x, compressed, z_ex]`` with the same skip and Softplus (NPHM's "6 layers"
are six hidden layers, so seven linear maps ``lin0``-``lin6``, the input joining before ``lin3``); the
first three outputs are the forward offset (NPHM also returns the last output separately, unused).
The public code adds noise to the compressed code in training mode only; this module has no such
branch (it always evaluates as NPHM does in eval mode).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

#: NPHM's blending: Gaussian variance, the constant "distance" logit of the background member, the
#: distance offset (written ``10e-6`` in NPHM) and the absolute term of the normaliser.
BLEND_VARIANCE = 0.1**2
BACKGROUND_LOGIT = -0.2
DISTANCE_EPSILON = 1e-5
NORMALISER_EPSILON = 1e-6
SOFTPLUS_BETA = 100.0

_IDENTITY_KEY = re.compile(r"ensembled_deep_sdf\.lin(\d+)\.(weight|bias)|mlp_pos\.([024])\.(weight|bias)")
_EXPRESSION_KEY = re.compile(r"defDeepSDF\.lin(\d+)\.(weight|bias)|compressor\.0\.(weight|bias)")


@dataclass(frozen=True)
class NPHMIdentityConfig:
    """Sizes of the identity decoder (NPHM's ``decoder`` section: lat_dim_glob, lat_dim_loc, nloc, …)."""

    lat_dim_glob: int = 64
    lat_dim_loc: int = 32
    n_anchors: int = 39
    n_symm_pairs: int = 16
    widths: tuple[int, ...] = (200, 101, 200, 200, 1)  # output width of each ensembled layer
    skip_layer: int = 2  # the layer whose input is [hidden, input] / √2
    pos_mlp_dim: int = 256

    @property
    def members(self) -> int:
        return self.n_anchors + 1

    @property
    def latent_dim(self) -> int:
        return self.lat_dim_glob + self.members * self.lat_dim_loc

    @property
    def input_dim(self) -> int:
        return 3 + self.lat_dim_glob + self.lat_dim_loc

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NPHMExpressionConfig:
    """Sizes of the expression decoder (NPHM's ``ex_decoder`` section, ``compress`` mode)."""

    id_input_dim: int = 1344 + 3 * 39  # [z_id, anchors flattened]
    lat_dim_id: int = 32  # the compressed identity
    lat_dim_expr: int = 200
    widths: tuple[int, ...] = (512, 512, 277, 512, 512, 512, 3)
    skip_layer: int = 3

    @property
    def input_dim(self) -> int:
        return 3 + self.lat_dim_id + self.lat_dim_expr

    def to_dict(self) -> dict:
        return asdict(self)


def layer_inputs(input_dim: int, widths: tuple[int, ...], skip_layer: int) -> list[int]:
    """Input width of each layer of a DeepSDF MLP whose ``skip_layer`` also takes the network's input."""
    inputs = [input_dim, *widths[:-1]]
    inputs[skip_layer] += input_dim
    return inputs


def run_mlp(layers: Sequence[nn.Module], inputs: torch.Tensor, skip_layer: int) -> torch.Tensor:
    """DeepSDF's forward pass: Softplus(β=100) between layers, ``[hidden, input] / √2`` into ``skip_layer``."""
    hidden = inputs
    for k, layer in enumerate(layers):
        if k == skip_layer:
            hidden = torch.cat([hidden, inputs], dim=-1) / np.sqrt(2.0)
        hidden = layer(hidden)
        if k < len(layers) - 1:
            hidden = F.softplus(hidden, beta=SOFTPLUS_BETA)
    return hidden


class SharedSlotLinear(nn.Module):
    """One ensembled layer: ``weight`` (slots, out, in) and ``bias`` (slots, out), applied per member.

    ``slot_of_member`` maps each of the members to its weight slot (pairs share one).
    """

    def __init__(self, slot_of_member: torch.Tensor, in_features: int, out_features: int) -> None:
        super().__init__()
        slots = int(slot_of_member.max()) + 1
        self.weight = nn.Parameter(torch.zeros(slots, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(slots, out_features))
        self.register_buffer("slot_of_member", slot_of_member, persistent=False)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(members, N, in) → (members, N, out)."""
        weight = self.weight.index_select(0, self.slot_of_member)
        bias = self.bias.index_select(0, self.slot_of_member)
        return torch.baddbmm(bias.unsqueeze(1), inputs, weight.transpose(1, 2))


class MemberStack(nn.Module):
    """The members' MLPs (``lin0`` … ``linK``), for the key names ``ensembled_deep_sdf.lin{k}``."""

    def __init__(self, config: NPHMIdentityConfig) -> None:
        super().__init__()
        pairs = config.n_symm_pairs
        slots = [m // 2 if m < 2 * pairs else m - pairs for m in range(config.members)]
        slot_of_member = torch.tensor(slots, dtype=torch.long)
        inputs = layer_inputs(config.input_dim, config.widths, config.skip_layer)
        for k, (n_in, n_out) in enumerate(zip(inputs, config.widths)):
            setattr(self, f"lin{k}", SharedSlotLinear(slot_of_member, n_in, n_out))
        self.n_layers, self.skip_layer = len(config.widths), config.skip_layer

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(members, N, input_dim) → (members, N, 1)."""
        return run_mlp([getattr(self, f"lin{k}") for k in range(self.n_layers)], inputs, self.skip_layer)


class NPHMIdentity(nn.Module):
    """``F_id(x, z_id)`` in NPHM units: the blended SDF of the anchor-centred members (module doc)."""

    def __init__(self, config: NPHMIdentityConfig, mean_anchors: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        self.ensembled_deep_sdf = MemberStack(config)
        p = config.pos_mlp_dim
        self.mlp_pos = nn.Sequential(
            nn.Linear(config.lat_dim_glob, p), nn.ReLU(), nn.Linear(p, p), nn.ReLU(), nn.Linear(p, 3 * config.n_anchors)
        )
        self.register_buffer("mean_anchors", mean_anchors.float().reshape(config.n_anchors, 3), persistent=False)
        mirror = torch.ones(config.members, 1, 3)
        mirror[1 : 2 * config.n_symm_pairs : 2, 0, 0] = -1.0
        self.register_buffer("mirror", mirror, persistent=False)

    def anchors(self, z_id: torch.Tensor) -> torch.Tensor:
        """(A, 3) anchor positions of a (latent_dim,) code: predicted offsets plus the mean anchors."""
        offsets = self.mlp_pos(z_id[: self.config.lat_dim_glob]).view(self.config.n_anchors, 3)
        return offsets + self.mean_anchors

    def members(self, points: torch.Tensor, z_id: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """(N, members) predictions of every member at (N, 3) points."""
        c = self.config
        centres = torch.cat([anchors, anchors.new_zeros(1, 3)])  # the last member: global coordinates
        local = (points.unsqueeze(0) - centres.unsqueeze(1)) * self.mirror  # (members, N, 3)
        codes = torch.cat([z_id[: c.lat_dim_glob].expand(c.members, -1), z_id[c.lat_dim_glob :].view(c.members, -1)], 1)
        inputs = torch.cat([local, codes.unsqueeze(1).expand(-1, len(points), -1)], dim=-1)
        return self.ensembled_deep_sdf(inputs)[..., 0].T

    def forward(self, points: torch.Tensor, z_id: torch.Tensor, anchors: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 3) points, a (latent_dim,) code → (N,) signed distances, all in NPHM units."""
        anchors = self.anchors(z_id) if anchors is None else anchors
        predictions = self.members(points, z_id, anchors)
        squared = ((points.unsqueeze(1) - anchors.unsqueeze(0)).norm(dim=-1) + DISTANCE_EPSILON) ** 2
        logits = torch.cat([-squared, squared.new_full((len(points), 1), BACKGROUND_LOGIT)], dim=1)
        weights = torch.exp(logits / BLEND_VARIANCE)
        return (weights * predictions).sum(1) / (weights.sum(1) + NORMALISER_EPSILON)


class NPHMExpression(nn.Module):
    """``F_ex``: forward offsets (NPHM units) of canonical points for ``[z_id, anchors]`` and ``z_ex``."""

    def __init__(self, config: NPHMExpressionConfig) -> None:
        super().__init__()
        self.config = config
        self.compressor = nn.Sequential(nn.Linear(config.id_input_dim, config.lat_dim_id))
        inputs = layer_inputs(config.input_dim, config.widths, config.skip_layer)
        self.defDeepSDF = nn.Module()
        for k, (n_in, n_out) in enumerate(zip(inputs, config.widths)):
            setattr(self.defDeepSDF, f"lin{k}", nn.Linear(n_in, n_out))

    def forward(
        self, points: torch.Tensor, z_id: torch.Tensor, anchors: torch.Tensor, z_exp: torch.Tensor
    ) -> torch.Tensor:
        """(N, 3) canonical points → (N, 3) offsets (deformed = points + offsets)."""
        compressed = self.compressor(torch.cat([z_id, anchors.reshape(-1)]))
        codes = torch.cat([compressed, z_exp]).expand(len(points), -1)
        layers = [getattr(self.defDeepSDF, f"lin{k}") for k in range(len(self.config.widths))]
        return run_mlp(layers, torch.cat([points, codes], dim=-1), self.config.skip_layer)[:, :3]


def _check_keys(state: dict[str, torch.Tensor], pattern: re.Pattern, expected: set[str], path: Path, what: str) -> None:
    """Refuse a state dict with keys outside ``pattern`` or missing any of ``expected``."""
    unexpected = sorted(key for key in state if not pattern.fullmatch(key))
    missing = sorted(expected - set(state))
    if unexpected or missing:
        raise ValueError(
            f"{path}: decoder_state_dict is not NPHM's {what} (missing {missing[:4]}, unexpected {unexpected[:4]})."
        )


def _layer_count(state: dict[str, torch.Tensor], pattern: re.Pattern, path: Path, what: str) -> int:
    """The number of ``lin{k}`` layers (k = 0 … K, all present)."""
    indices = {int(match.group(1)) for key in state if (match := pattern.fullmatch(key)) and match.group(1)}
    if not indices:
        raise ValueError(f"{path}: decoder_state_dict holds no lin0 … linK layers of NPHM's {what}.")
    return max(indices) + 1


def _chain(shapes: list[tuple[int, int]], input_dim: int, prefix: str, path: Path) -> int:
    """The skip layer of a chain of (out, in) shapes, checking every layer takes what the last one gives."""
    skips = [k for k in range(1, len(shapes)) if shapes[k][1] == shapes[k - 1][0] + input_dim]
    for k in range(1, len(shapes)):
        if shapes[k][1] not in (shapes[k - 1][0], shapes[k - 1][0] + input_dim) or len(skips) != 1:
            raise ValueError(
                f"{path}: {prefix}.lin{k}.weight takes {shapes[k][1]} inputs after {prefix}.lin{k - 1} gives "
                f"{shapes[k - 1][0]} (input {input_dim}); the layers {shapes} do not chain into one DeepSDF with "
                "a single skip of the input."
            )
    return skips[0]


def _shape(state: dict[str, torch.Tensor], key: str, ndim: int, path: Path) -> tuple[int, ...]:
    shape = tuple(state[key].shape)
    if len(shape) != ndim:
        raise ValueError(f"{path}: {key} has shape {shape}; NPHM's layout has {ndim} dimensions there.")
    return shape


def _bias(state: dict[str, torch.Tensor], key: str, expected: tuple[int, ...], path: Path) -> None:
    if tuple(state[key].shape) != expected:
        raise ValueError(f"{path}: {key} has shape {tuple(state[key].shape)}; its weight implies {expected}.")


def identity_config(state: dict[str, torch.Tensor], path: Path) -> NPHMIdentityConfig:
    """The identity decoder's sizes, read off the tensors' shapes; a clear error naming what does not fit."""
    what = "identity decoder (FastEnsembleDeepSDFMirrored)"
    n = _layer_count(state, _IDENTITY_KEY, path, what)
    expected = {f"ensembled_deep_sdf.lin{k}.{part}" for k in range(n) for part in ("weight", "bias")}
    expected |= {f"mlp_pos.{k}.{part}" for k in (0, 2, 4) for part in ("weight", "bias")}
    _check_keys(state, _IDENTITY_KEY, expected, path, what)
    shapes = [_shape(state, f"ensembled_deep_sdf.lin{k}.weight", 3, path) for k in range(n)]
    slots = shapes[0][0]
    for k, shape in enumerate(shapes):
        if shape[0] != slots:
            raise ValueError(f"{path}: ensembled_deep_sdf.lin{k}.weight has {shape[0]} weight slots, lin0 {slots}.")
        _bias(state, f"ensembled_deep_sdf.lin{k}.bias", shape[:2], path)
    pos = [_shape(state, f"mlp_pos.{k}.weight", 2, path) for k in (0, 2, 4)]
    width, glob = pos[0]
    if pos[1] != (width, width) or pos[2][1] != width or pos[2][0] % 3:
        raise ValueError(f"{path}: mlp_pos weights {pos} are not Linear(G, P), Linear(P, P), Linear(P, 3·anchors).")
    for k, shape in zip((0, 2, 4), pos):
        _bias(state, f"mlp_pos.{k}.bias", shape[:1], path)
    n_anchors, input_dim = pos[2][0] // 3, shapes[0][2]
    local, pairs = input_dim - 3 - glob, n_anchors + 1 - slots
    if local <= 0 or pairs < 0 or 2 * pairs > n_anchors:
        raise ValueError(
            f"{path}: lin0 takes {input_dim} inputs, mlp_pos gives {n_anchors} anchors from a {glob}-d global code "
            f"and the stack has {slots} weight slots; these do not make 3 + global + local inputs and "
            f"{n_anchors} + 1 members sharing weights in symmetric pairs."
        )
    skip = _chain([shape[1:] for shape in shapes], input_dim, "ensembled_deep_sdf", path)
    if shapes[-1][1] != 1:
        raise ValueError(f"{path}: ensembled_deep_sdf.lin{n - 1} gives {shapes[-1][1]} outputs; an SDF gives 1.")
    return NPHMIdentityConfig(glob, local, n_anchors, pairs, tuple(s[1] for s in shapes), skip, width)


def expression_config(state: dict[str, torch.Tensor], path: Path) -> NPHMExpressionConfig:
    """The expression decoder's sizes (``compress`` mode), read off the tensors' shapes."""
    what = "expression decoder (DeformationNetwork, compress mode)"
    n = _layer_count(state, _EXPRESSION_KEY, path, what)
    expected = {f"defDeepSDF.lin{k}.{part}" for k in range(n) for part in ("weight", "bias")}
    _check_keys(state, _EXPRESSION_KEY, expected | {"compressor.0.weight", "compressor.0.bias"}, path, what)
    compressed, id_input = _shape(state, "compressor.0.weight", 2, path)
    _bias(state, "compressor.0.bias", (compressed,), path)
    shapes = [_shape(state, f"defDeepSDF.lin{k}.weight", 2, path) for k in range(n)]
    for k, shape in enumerate(shapes):
        _bias(state, f"defDeepSDF.lin{k}.bias", shape[:1], path)
    input_dim = shapes[0][1]
    expression = input_dim - 3 - compressed
    if expression <= 0:
        raise ValueError(
            f"{path}: defDeepSDF.lin0 takes {input_dim} inputs, too few for xyz + the {compressed}-d compressed "
            "identity + an expression code."
        )
    skip = _chain(shapes, input_dim, "defDeepSDF", path)
    if shapes[-1][0] < 3:
        raise ValueError(f"{path}: defDeepSDF.lin{n - 1} gives {shapes[-1][0]} outputs; an offset needs 3.")
    return NPHMExpressionConfig(id_input, compressed, expression, tuple(s[0] for s in shapes), skip)
