"""The training "scans" of the neural head model, sampled from ICT-FaceKit.

NPHM (CLIP-Head eq. 1) is trained on registered 3D scans: SDF samples around each neutral scan for
the identity decoder, and correspondences neutral → expression for the expression decoder. Those
scans can't be had here, so the same data is drawn from the ICT model:

- identities ``z ~ N(0, I)`` over its 100 identity modes (:func:`~cliphead.heads.surfaces.sample_identity`),
  a training set and a disjoint held-out set, each from its own seed stream;
- expressions: the 23 labelled expressions of :mod:`cliphead.heads.expressions` and random sparse
  blends of the 53 ARKit modes (again a training set and a held-out set);
- per identity, SDF samples of the watertight neutral skin (:func:`~cliphead.heads.surfaces.watertight_skin`):
  points on the surface with their normals, points near it (Gaussian offsets) and in the volume, with
  exact distances and the sign from the fast winding number (libigl);
- correspondences for free: every skin point has the same barycentric coordinates on every expression
  of its identity, so :meth:`ScanSet.skin_points` gives (canonical, posed) pairs for any pair.

The solid is cut 1 cm under the neck crop plane (``y ≥ NECK_PLANE_Y − 1``), so the model spends no
capacity on the neck's bottom cap, which the extraction crops away anyway. Everything is
deterministic from the configuration and cached as an npz keyed by it (ICT-FaceKit at the pinned ``assets.ICT_COMMIT``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import igl
import numpy as np
from tqdm.auto import tqdm

from cliphead.assets import load_cached_npz
from cliphead.heads.expressions import EXPRESSION_LABELS, expression_weights
from cliphead.heads.ict import SKIN_LAST_VERTEX, ICTFaceModel
from cliphead.heads.metrics import sample_surface
from cliphead.heads.neural import box_bounds
from cliphead.heads.remesh import NECK_PLANE_Y
from cliphead.heads.surfaces import Head, watertight_skin

#: The scans' solid ends here (cm): 1 cm under the neck crop plane.
SOLID_FLOOR_Y = NECK_PLANE_Y - 1.0
#: Version of the cached arrays; bumped whenever the way they are computed changes.
SCAN_FORMAT = 2


@dataclass(frozen=True)
class ScanConfig:
    """How many scans, and how densely each is sampled."""

    identities: int = 320
    held_out_identities: int = 12
    blends: int = 48
    held_out_blends: int = 12
    surface_points: int = 12000
    near_points: int = 16000
    volume_points: int = 6000
    near_sigmas_cm: tuple[float, float] = (0.05, 0.6)
    seed: int = 0

    def key(self) -> str:
        described = asdict(self) | {"format": SCAN_FORMAT}
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def random_blend(rng: np.random.Generator, n_modes: int, active: tuple[int, int] = (2, 6)) -> np.ndarray:
    """A sparse random ARKit blend: a few modes at weights in [0.3, 1]."""
    weights = np.zeros(n_modes)
    chosen = rng.choice(n_modes, size=rng.integers(active[0], active[1] + 1), replace=False)
    weights[chosen] = rng.uniform(0.3, 1.0, size=len(chosen))
    return weights


def solid_sdf(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Exact distance to the closed skin, signed by winding number, intersected with ``y ≥ SOLID_FLOOR_Y``.

    (libigl's ``signed_distance`` with the fast-winding-number sign returns magnitudes up to 0.3 %
    off the closest-point distance, so distance and sign are computed separately.)
    """
    distance = np.sqrt(igl.point_mesh_squared_distance(points, vertices, faces)[0])
    inside = igl.fast_winding_number(vertices, faces, points) > 0.5
    return np.maximum(np.where(inside, -distance, distance), SOLID_FLOOR_Y - points[:, 1])


@dataclass
class ScanSet:
    """Identities, expressions and per-identity SDF samples; the skin geometry comes from the ICT model."""

    config: ScanConfig
    identity_weights: np.ndarray  # (N, 100) training identities
    held_out_identity_weights: np.ndarray  # (M, 100)
    expression_weights: np.ndarray  # (E, 53): the 23 labels, then the training blends
    expression_names: tuple[str, ...]
    held_out_expression_weights: np.ndarray  # (H, 53) blends never seen in training
    surface_points: np.ndarray  # (N, S, 3) float32, on the canonical (neutral) surface
    surface_normals: np.ndarray  # (N, S, 3) float32
    sdf_points: np.ndarray  # (N, Q, 3) float32, near the surface and in the volume
    sdf_values: np.ndarray  # (N, Q) float32
    skin_neutral: np.ndarray  # (V, 3) the ICT skin's mean neutral
    skin_identity_modes: np.ndarray  # (100, V, 3)
    skin_expression_modes: np.ndarray  # (53, V, 3)
    skin_faces: np.ndarray  # (F, 3)
    landmark_vertices: np.ndarray  # (68,)

    def skin_vertices(self, identity: np.ndarray, expression: np.ndarray | None = None) -> np.ndarray:
        """Skin vertices of one identity (100 weights), optionally with an expression (53 weights)."""
        vertices = self.skin_neutral + np.tensordot(identity, self.skin_identity_modes, axes=1)
        if expression is not None:
            vertices = vertices + np.tensordot(expression, self.skin_expression_modes, axes=1)
        return vertices

    def landmarks(self, identity: np.ndarray, expression: np.ndarray | None = None) -> np.ndarray:
        return self.skin_vertices(identity, expression)[self.landmark_vertices]

    def skin_points(
        self, identity: np.ndarray, expression: np.ndarray, n_points: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Corresponding points (canonical, posed) at the same random barycentrics of the skin."""
        canonical = self.skin_vertices(identity)
        posed = canonical + np.tensordot(expression, self.skin_expression_modes, axes=1)
        faces = self.skin_faces[rng.integers(len(self.skin_faces), size=n_points)]
        weights = rng.dirichlet(np.ones(3), size=n_points)
        return np.einsum("nk,nkd->nd", weights, canonical[faces]), np.einsum("nk,nkd->nd", weights, posed[faces])

    def head(self, identity: np.ndarray, expression: np.ndarray | None = None) -> Head:
        """The open skin of an identity (and expression) as a :class:`Head`."""
        vertices = self.skin_vertices(identity, expression)
        return Head(vertices, self.skin_faces.copy(), vertices[self.landmark_vertices])


def _identity_samples(head: Head, config: ScanConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    closed = watertight_skin(head)
    surface = sample_surface(closed.vertices, closed.faces, 3 * config.surface_points, seed=int(rng.integers(2**31)))
    above = surface.points[:, 1] > SOLID_FLOOR_Y + 0.1
    on_surface = np.flatnonzero(above)[: config.surface_points]
    anchors = surface.points[rng.choice(np.flatnonzero(above), size=config.near_points)]
    sigmas = np.where(rng.random(config.near_points) < 0.5, *config.near_sigmas_cm)
    near = anchors + rng.standard_normal((config.near_points, 3)) * sigmas[:, None]
    low, high = box_bounds()
    volume = rng.uniform(low, high, size=(config.volume_points, 3))
    points = np.concatenate([near, volume])
    return {
        "surface_points": surface.points[on_surface].astype(np.float32),
        "surface_normals": surface.normals[on_surface].astype(np.float32),
        "sdf_points": points.astype(np.float32),
        "sdf_values": solid_sdf(closed.vertices, closed.faces, points).astype(np.float32),
    }


def _build(model: ICTFaceModel, config: ScanConfig) -> dict[str, np.ndarray]:
    identity_rng = np.random.default_rng([config.seed, 1])
    held_out_rng = np.random.default_rng([config.seed, 2])
    blend_rng = np.random.default_rng([config.seed, 3])
    held_out_blend_rng = np.random.default_rng([config.seed, 4])
    n_modes = model.identity_modes.shape[0]
    identities = identity_rng.standard_normal((config.identities, n_modes))
    held_out = held_out_rng.standard_normal((config.held_out_identities, n_modes))
    n_exp = len(model.expression_names)
    labelled = np.stack([expression_weights(label, model.expression_names) for label in EXPRESSION_LABELS])
    blends = np.stack([random_blend(blend_rng, n_exp) for _ in range(config.blends)]).reshape(-1, n_exp)
    held_out_blends = np.stack([random_blend(held_out_blend_rng, n_exp) for _ in range(config.held_out_blends)])
    skin = slice(0, SKIN_LAST_VERTEX + 1)
    sample_rng = np.random.default_rng([config.seed, 5])
    per_identity = []
    for identity in tqdm(identities, desc="SDF samples of the training scans", unit="identity"):
        vertices = model.neutral[skin] + np.tensordot(identity, model.identity_modes[:, skin], axes=1)
        head = Head(vertices.astype(np.float64), model.skin_triangles, vertices[model.landmark_vertices])
        per_identity.append(_identity_samples(head, config, sample_rng))
    arrays = {name: np.stack([s[name] for s in per_identity]) for name in per_identity[0]}
    names = list(EXPRESSION_LABELS) + [f"blend_{k:03d}" for k in range(config.blends)]
    return arrays | {
        "identity_weights": identities,
        "held_out_identity_weights": held_out,
        "expression_weights": np.concatenate([labelled, blends]),
        "expression_names": np.asarray(names),
        "held_out_expression_weights": held_out_blends,
    }


def load_scans(model: ICTFaceModel, config: ScanConfig = ScanConfig()) -> ScanSet:
    """The scan set of ``config``, built on first use (about 0.2 s per identity) and cached."""
    arrays = load_cached_npz(f"scans-{config.key()}", lambda: _build(model, config))
    skin = slice(0, SKIN_LAST_VERTEX + 1)
    return ScanSet(
        config=config,
        identity_weights=arrays["identity_weights"],
        held_out_identity_weights=arrays["held_out_identity_weights"],
        expression_weights=arrays["expression_weights"],
        expression_names=tuple(str(n) for n in arrays["expression_names"]),
        held_out_expression_weights=arrays["held_out_expression_weights"],
        surface_points=arrays["surface_points"],
        surface_normals=arrays["surface_normals"],
        sdf_points=arrays["sdf_points"],
        sdf_values=arrays["sdf_values"],
        skin_neutral=model.neutral[skin].astype(np.float64),
        skin_identity_modes=model.identity_modes[:, skin].astype(np.float64),
        skin_expression_modes=model.expression_modes[:, skin].astype(np.float64),
        skin_faces=model.skin_triangles,
        landmark_vertices=model.landmark_vertices,
    )
