"""The published NPHM checkpoints as a parametric head model: ``--head-weights nphm:EXP_DIR`` (CLIP-Head eq. 1).

CLIP-Head's geometry is NPHM's (Giebenhain et al. 2023). Its weights are released on request, never
redistributed, as an experiment tree::

    EXP_DIR/nphm_identity_space_pretrained/{configs.yaml, checkpoints/checkpoint_epoch_15000.tar}
    EXP_DIR/nphm_expression_space_pretrained/{configs.yaml, checkpoints/checkpoint_epoch_2500.tar}

plus the mean anchors ``assets/anchors_39.npy`` of an NPHM checkout. :func:`load_nphm` reads the tree
from ``nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]``: each ``.tar`` with a weights-only ``torch.load``
(a pickled module is refused), the sizes read off the tensors' shapes
(:func:`~cliphead.heads.nphm_networks.identity_config`), the values ``configs.yaml`` states checked
against them, then ``load_state_dict(strict=True)`` into the networks of
:mod:`cliphead.heads.nphm_networks`, in eval mode. Without an expression folder only the identity
loads (no deformation).

**Frames.** NPHM's space is FLAME's (metres, y up, face towards +z) scaled by 4, so one NPHM unit is
25 cm, and the project's ICT frame is centimetres with the same axes. The one free choice is where
FLAME's origin sits on the head: from NPHM's own boxes (its extraction grid reaches 10 cm in front of
and 12.5 cm below the origin, its face box 8.75 cm in front), the origin lies about 8 cm behind the
nose tip and 9-10 cm above the chin, near the head's centre. :data:`NPHM_ORIGIN_IN_ICT_CM` puts it
where that point is on the ICT heads (nose tip z = 13.1 cm, chin y = -7.6 cm): an estimate good to
about a centimetre, stated here and in the output; ``--frame nphm`` writes NPHM's own coordinates.

NPHM has no 68 Multi-PIE landmarks (its anchors are 39 other points), so
:meth:`NPHMHeadModel.canonical_landmarks` refuses, naming :meth:`NPHMHeadModel.anchors` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn

from cliphead.weights.torch_files import load_weights_only
from cliphead.heads.nphm_networks import (
    NPHMExpression,
    NPHMIdentity,
    NPHMIdentityConfig,
    expression_config,
    identity_config,
)

#: The experiment folders and default epochs of the published release.
IDENTITY_FOLDER, EXPRESSION_FOLDER = "nphm_identity_space_pretrained", "nphm_expression_space_pretrained"
DEFAULT_EPOCHS = (15000, 2500)
ANCHORS_FILE = "anchors_39.npy"
#: NPHM's latent statistics, looked for beside the anchors (``assets/`` of an NPHM checkout).
LATENT_FILES = ("nphm_lat_mean.npy", "nphm_lat_std.npy")
#: NPHM's sampling script draws ``mean + 0.85 · std · N(0, 1)``.
SAMPLING_STD_SCALE = 0.85
#: Centimetres per NPHM unit: NPHM = 4 × FLAME (metres).
NPHM_UNIT_CM = 25.0
#: Where NPHM's (FLAME's) origin lies in the ICT frame, in cm (module doc: an estimate).
NPHM_ORIGIN_IN_ICT_CM = np.array([0.0, 2.0, 5.0])
#: Points per identity-decoder pass (40 members × hidden width activations each).
CHUNK = 4096


def nphm_to_ict(points: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """NPHM coordinates → the ICT frame (cm): a uniform scale and a translation, axes unchanged."""
    origin = points.new_tensor(NPHM_ORIGIN_IN_ICT_CM) if isinstance(points, torch.Tensor) else NPHM_ORIGIN_IN_ICT_CM
    return points * NPHM_UNIT_CM + origin


def ict_to_nphm(points: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """The ICT frame (cm) → NPHM coordinates (the inverse of :func:`nphm_to_ict`)."""
    origin = points.new_tensor(NPHM_ORIGIN_IN_ICT_CM) if isinstance(points, torch.Tensor) else NPHM_ORIGIN_IN_ICT_CM
    return (points - origin) / NPHM_UNIT_CM


@dataclass(frozen=True)
class NPHMSpec:
    """Where the pieces of ``nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]`` are."""

    root: Path
    anchors: Path
    epochs: tuple[int, int] = DEFAULT_EPOCHS

    def checkpoint(self, folder: str, epoch: int) -> Path:
        return self.root / folder / "checkpoints" / f"checkpoint_epoch_{epoch}.tar"


SPEC_HELP = (
    "nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]: EXP_DIR holds nphm_identity_space_pretrained/ and "
    "nphm_expression_space_pretrained/ (each configs.yaml + checkpoints/checkpoint_epoch_N.tar); anchors= is "
    f"{ANCHORS_FILE} of your NPHM checkout (default: EXP_DIR/{ANCHORS_FILE} or EXP_DIR/assets/{ANCHORS_FILE}); "
    f"epochs= picks the checkpoints (default {DEFAULT_EPOCHS[0]}:{DEFAULT_EPOCHS[1]})"
)


def parse_nphm_spec(spec: str) -> NPHMSpec:
    """Parse ``nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]`` (:data:`SPEC_HELP`)."""
    if not spec.startswith("nphm:"):
        raise ValueError(f"{spec!r} is not an NPHM spec; give {SPEC_HELP}.")
    root, *options = spec.removeprefix("nphm:").split(",")
    root_path = Path(root).expanduser()
    if not root or not root_path.is_dir():
        raise FileNotFoundError(f"{spec!r}: no NPHM experiment folder at {root!r}; give {SPEC_HELP}.")
    values = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in ("anchors", "epochs") or key in values:
            raise ValueError(f"{spec!r}: {option!r} is not anchors=PATH or epochs=ID:EX (each at most once).")
        values[key] = value
    try:
        epochs = tuple(int(part) for part in values.get("epochs", "%d:%d" % DEFAULT_EPOCHS).split(":"))
    except ValueError:
        epochs = ()
    if len(epochs) != 2:
        raise ValueError(f"{spec!r}: epochs={values['epochs']!r} must be two integers ID:EX, e.g. 15000:2500.")
    candidates = [Path(values["anchors"]).expanduser()] if "anchors" in values else [root_path / ANCHORS_FILE]
    candidates += [] if "anchors" in values else [root_path / "assets" / ANCHORS_FILE]
    anchors = next((path for path in candidates if path.is_file()), None)
    if anchors is None:
        raise FileNotFoundError(
            f"{spec!r}: no mean anchors at {' or '.join(map(str, candidates))}; add anchors=PATH pointing at "
            f"assets/{ANCHORS_FILE} of your NPHM checkout (github.com/SimonGiebenhain/NPHM)."
        )
    return NPHMSpec(root_path, anchors, epochs)  # type: ignore[arg-type]


def read_decoder_state(path: Path) -> dict[str, torch.Tensor]:
    """``decoder_state_dict`` of an NPHM ``.tar`` (weights-only load), float32; clear errors otherwise."""
    checkpoint = load_weights_only(
        path,
        missing=f"No NPHM checkpoint at {path} (wrong EXP_DIR or epochs=ID:EX?).",
        save_instead="{'decoder_state_dict': decoder.state_dict()}",
    )
    state = checkpoint.get("decoder_state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        keys = sorted(checkpoint)[:6] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ValueError(f"{path} has no decoder_state_dict of tensors (it holds {keys}); is it an NPHM checkpoint?")
    return {key: value.float() for key, value in state.items()}


def check_configs(folder: Path, section: str, expected: dict[str, int | str]) -> None:
    """Refuse when ``folder/configs.yaml`` states a value of ``section`` other than the tensors imply.

    A missing file, section or key is not checked (the tensors' shapes are what the networks are built from).
    """
    path = folder / "configs.yaml"
    if not path.is_file():
        return
    try:
        configs = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not YAML ({error}).") from None
    values = configs.get(section) if isinstance(configs, dict) else None
    for key, value in expected.items():
        if isinstance(values, dict) and key in values and values[key] != value:
            raise ValueError(
                f"{path}: {section}.{key} is {values[key]!r} but the checkpoint's tensors give {value!r}; the "
                "configs.yaml and the checkpoint are not one experiment's."
            )


def _identity_expectations(config: NPHMIdentityConfig) -> dict[str, int]:
    """The ``decoder`` entries of an identity experiment's configs.yaml that the tensors determine.

    An expression experiment's ``id_decoder`` section is checked only for the sizes its compressor
    depends on: NPHM's own ``nphm_def.yaml`` states ``pos_mlp_dim: 128`` there, while its training
    script builds that identity decoder with the default 256, so the other entries need not match.
    """
    return {
        "decoder_lat_dim_glob": config.lat_dim_glob,
        "decoder_lat_dim_loc": config.lat_dim_loc,
        "decoder_hidden_dim": config.widths[0],
        "decoder_nlayers": len(config.widths) - 1,
        "decoder_nloc": config.n_anchors,
        "decoder_nsymm_pairs": config.n_symm_pairs,
        "pos_mlp_dim": config.pos_mlp_dim,
    }


def _vector_file(path: Path, size: int, what: str) -> torch.Tensor:
    """A float32 vector of ``size`` numbers from a ``.npy`` file (any shape of that size)."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a .npy array of numbers ({error}).") from None
    if array.size != size or not np.isfinite(array).all():
        raise ValueError(f"{path}: {what} must hold {size} finite numbers, got shape {array.shape}.")
    return torch.from_numpy(np.asarray(array, dtype=np.float32).reshape(size))


class NPHMHeadModel(nn.Module):
    """NPHM's identity and expression decoders behind the project's ``ParametricHeadModel`` interface.

    Points and distances cross the interface in the ICT frame (cm); inside, everything is NPHM units
    (:func:`ict_to_nphm`). ``latent_mean``/``latent_std`` are NPHM's latent statistics when found
    beside the anchors, else None (then only given codes can be used).
    """

    def __init__(
        self,
        identity: NPHMIdentity,
        expression: NPHMExpression | None = None,
        latent: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.identity, self.expression = identity, expression
        self.latent_mean, self.latent_std = latent if latent is not None else (None, None)
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.identity.mean_anchors.device

    def code(self, z_id: torch.Tensor | np.ndarray) -> torch.Tensor:
        """A (latent_dim,) float32 identity code on the model's device, or a clear error."""
        z = torch.as_tensor(np.asarray(z_id) if not isinstance(z_id, torch.Tensor) else z_id).float().reshape(-1)
        if z.numel() != self.identity.config.latent_dim:
            raise ValueError(f"NPHM identity codes have {self.identity.config.latent_dim} numbers, got {z.numel()}.")
        return z.to(self.device)

    def nphm_sdf(self, points: torch.Tensor, z_id: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
        """(N, 3) NPHM points → (N,) signed distances in NPHM units, in chunks of ``chunk`` points."""
        z = self.code(z_id)
        with torch.no_grad():
            anchors = self.identity.anchors(z)
            parts = [self.identity(part.to(self.device).float(), z, anchors) for part in points.split(chunk)]
        return torch.cat(parts).to(points.device) if parts else points.new_zeros(0)

    def nphm_deform(self, points: torch.Tensor, z_id: torch.Tensor, z_exp: torch.Tensor) -> torch.Tensor:
        """(N, 3) canonical NPHM points moved by the expression ``z_exp`` (forward deformation, NPHM units)."""
        if self.expression is None:
            raise ValueError("This NPHM tree has no expression model (no nphm_expression_space_pretrained/).")
        z = self.code(z_id)
        e = torch.as_tensor(z_exp).float().reshape(-1).to(self.device)
        if e.numel() != self.expression.config.lat_dim_expr:
            raise ValueError(
                f"NPHM expression codes have {self.expression.config.lat_dim_expr} numbers, got {e.numel()}."
            )
        with torch.no_grad():
            anchors = self.identity.anchors(z)
            parts = [self.expression(part.to(self.device).float(), z, anchors, e) for part in points.split(CHUNK)]
        offsets = torch.cat(parts).to(points.device) if parts else torch.zeros_like(points)
        return points + offsets.to(points.dtype)

    def sdf_field(self, z_id: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The identity's SDF as a function of (P, 3) ICT-frame cm points, in cm."""
        z = self.code(z_id)
        return lambda points: self.nphm_sdf(ict_to_nphm(points), z) * NPHM_UNIT_CM

    def deform(self, points: torch.Tensor, z_id: torch.Tensor, z_exp: torch.Tensor) -> torch.Tensor:
        """(P, 3) canonical ICT-frame cm points moved by an expression (forward deformation), in cm."""
        return nphm_to_ict(self.nphm_deform(ict_to_nphm(points), z_id, z_exp))

    def anchors(self, z_id: torch.Tensor) -> torch.Tensor:
        """NPHM's 39 anchors of the identity, in the ICT frame (cm)."""
        with torch.no_grad():
            return nphm_to_ict(self.identity.anchors(self.code(z_id)).cpu())

    def canonical_landmarks(self, z_id: torch.Tensor) -> torch.Tensor:
        raise ValueError(
            "NPHM has no 68 Multi-PIE landmarks (its 39 anchors are other points; see NPHMHeadModel.anchors), "
            "so steps that need the 68 landmarks cannot take an NPHM head."
        )

    def sample_identity_code(self, seed: int) -> torch.Tensor:
        """``mean + 0.85 · std · N(0, 1)`` as NPHM's sampling script, from the latent statistics files."""
        if self.latent_mean is None or self.latent_std is None:
            raise ValueError(
                f"No NPHM latent statistics: put {' and '.join(LATENT_FILES)} (assets/ of your NPHM checkout) "
                "beside the anchors file, or give the codes (--codes CODES.npz)."
            )
        noise = torch.randn(self.latent_mean.shape, generator=torch.Generator().manual_seed(seed))
        return self.latent_mean + SAMPLING_STD_SCALE * self.latent_std * noise

    def expression_code(self, name: str) -> torch.Tensor:
        raise KeyError(f"NPHM has no named expressions ({name!r}); give an expression code z_exp instead.")


def _load_expression(where: NPHMSpec, config: NPHMIdentityConfig) -> NPHMExpression | None:
    """The expression decoder of the tree (None without an expression folder), checked against the identity's."""
    folder = where.root / EXPRESSION_FOLDER
    if not folder.is_dir():
        return None
    path = where.checkpoint(EXPRESSION_FOLDER, where.epochs[1])
    state = read_decoder_state(path)
    ex_config = expression_config(state, path)
    if ex_config.id_input_dim != config.latent_dim + 3 * config.n_anchors:
        raise ValueError(
            f"{path}: compressor.0 takes {ex_config.id_input_dim} inputs but the identity model's [z_id, anchors] "
            f"has {config.latent_dim} + {3 * config.n_anchors}; the two checkpoints are not one release."
        )
    ex_expected = {
        "mode": "compress",
        "decoder_hidden_dim": ex_config.widths[0],
        "decoder_lat_dim_expr": ex_config.lat_dim_expr,
        "decoder_lat_dim_id": ex_config.lat_dim_id,
        "decoder_nlayers": len(ex_config.widths) - 1,
    }
    check_configs(folder, "ex_decoder", ex_expected)
    id_expected = {key: _identity_expectations(config)[key] for key in ("decoder_lat_dim_glob", "decoder_lat_dim_loc")}
    check_configs(folder, "id_decoder", id_expected | {"decoder_nloc": config.n_anchors})
    expression = NPHMExpression(ex_config)
    expression.load_state_dict(state, strict=True)
    return expression


def load_nphm(spec: str, device: str | torch.device = "cpu") -> NPHMHeadModel:
    """The NPHM model of ``nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]``, loaded strictly, in eval mode."""
    where = parse_nphm_spec(spec)
    path = where.checkpoint(IDENTITY_FOLDER, where.epochs[0])
    state = read_decoder_state(path)
    config = identity_config(state, path)
    check_configs(where.root / IDENTITY_FOLDER, "decoder", _identity_expectations(config))
    anchors = _vector_file(where.anchors, 3 * config.n_anchors, f"the mean anchors of {config.n_anchors} points")
    identity = NPHMIdentity(config, anchors)
    identity.load_state_dict(state, strict=True)
    expression = _load_expression(where, config)
    latent_paths = [where.anchors.with_name(name) for name in LATENT_FILES]
    latent = None
    if all(path.is_file() for path in latent_paths):
        latent = tuple(_vector_file(path, config.latent_dim, "an NPHM latent statistic") for path in latent_paths)
    return NPHMHeadModel(identity, expression, latent).to(device).eval()  # type: ignore[arg-type]
