"""Textured synthetic heads rendered as a camera would see them: the image side of the appearance world.

A bank of ICT heads (random identities × the 23 labelled expressions), each re-meshed like an NPHM
mesh and given its aligned UV map (CLIP-Head §2.2), so that any painted texture fits any head. A
render draws a head from the bank, a texture, and a random view: yaw within ±60°, pitch, a light
direction and strength, and a background colour. These are what the embedded image tower is trained
on (LiT, against the captions) and what the CLIP score is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cliphead.lab.shards import ChunkedBuild
from cliphead.heads.expressions import EXPRESSIONS
from cliphead.render.lit import View

#: The bank's heads are re-meshed at this resolution; renders are small, so this is plenty.
BANK_RESOLUTION = 96


@dataclass(frozen=True)
class BankHead:
    """One head of the bank: an open mesh with its aligned UV, landmarks and expression label."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    landmarks: np.ndarray
    identity_seed: int
    expression: str


@dataclass(frozen=True)
class HeadBank:
    heads: tuple[BankHead, ...]

    def __len__(self) -> int:
        return len(self.heads)

    def __getitem__(self, index: int) -> BankHead:
        return self.heads[index]


#: Heads one worker builds per task when the bank is built in parallel.
_BANK_CHUNK = 8


def _bank_heads(start: int, identity_seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The arrays of bank heads ``start``, ``start + 1``, … (one per identity seed), keyed ``{index}/…``."""
    from cliphead.heads.ict import load_ict_model
    from cliphead.uv.aligned import aligned_uv
    from cliphead.uv.checks import prepare_head_mesh
    from cliphead.lab.uv.evaluation import remeshed_head

    model = load_ict_model()
    labels = list(EXPRESSIONS)
    arrays: dict[str, np.ndarray] = {}
    for index, identity_seed in enumerate(identity_seeds, start):
        expression = labels[index % len(labels)]  # labels[0] is "neutral"
        head = remeshed_head(model, identity_seed, expression, BANK_RESOLUTION)
        prepared = prepare_head_mesh(head.vertices, head.faces)
        aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=head.landmarks)
        arrays[f"{index}/vertices"] = aligned.vertices.astype(np.float32)
        arrays[f"{index}/faces"] = aligned.faces.astype(np.int32)
        arrays[f"{index}/uv"] = aligned.uv.astype(np.float32)
        arrays[f"{index}/landmarks"] = head.landmarks.astype(np.float32)
        arrays[f"{index}/identity_seed"] = np.array(identity_seed)
        arrays[f"{index}/expression"] = np.array(expression)
    return arrays


def bank_identity_seeds(n_identities: int, seed: int) -> tuple[int, ...]:
    """The ICT identity seeds of a bank's heads, in order: a larger bank extends a smaller one of the same seed."""
    rng = np.random.default_rng(seed)
    return tuple(int(rng.integers(2**31)) for _ in range(n_identities))


def _join_bank(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: value for part in parts for key, value in part.items()}


def head_bank_build(n_heads: int = 96, seed: int = 0) -> ChunkedBuild:
    """The head bank as a chunked build (:mod:`cliphead.lab.shards`), a few heads a chunk."""
    identity_seeds = bank_identity_seeds(n_heads, seed)
    tasks = [
        (_bank_heads, (start, identity_seeds[start : start + _BANK_CHUNK])) for start in range(0, n_heads, _BANK_CHUNK)
    ]
    key = f"head-bank-{n_heads}-{seed}-{BANK_RESOLUTION}-v1"
    return ChunkedBuild(key, tasks, _join_bank, "head bank (re-mesh + aligned UV)")


@lru_cache(maxsize=4)
def head_bank(n_heads: int = 96, seed: int = 0) -> HeadBank:
    """``n_heads`` ICT heads cycling through the labelled expressions, built once (2–4 s a head on one core), cached.

    More than one chunk of heads is built in spawned processes: see :mod:`cliphead.lab.parallel` for the
    ``if __name__ == "__main__":`` guard a script calling this needs.
    """
    arrays = head_bank_build(n_heads, seed).whole()
    return HeadBank(
        tuple(
            BankHead(
                vertices=arrays[f"{i}/vertices"].astype(np.float64),
                faces=arrays[f"{i}/faces"].astype(np.int64),
                uv=arrays[f"{i}/uv"].astype(np.float64),
                landmarks=arrays[f"{i}/landmarks"].astype(np.float64),
                identity_seed=int(arrays[f"{i}/identity_seed"]),
                expression=str(arrays[f"{i}/expression"]),
            )
            for i in range(n_heads)
        )
    )


@dataclass(frozen=True)
class ViewSettings:
    """The random view of a training or evaluation render."""

    yaw_degrees: float = 60.0  # uniform in ±yaw
    pitch_degrees: float = 15.0  # uniform in ±pitch
    ambient: tuple[float, float] = (0.25, 0.5)
    fill: float = 0.9


def random_view(rng: np.random.Generator, settings: ViewSettings = ViewSettings()) -> View:
    light = rng.normal(size=3) * [0.6, 0.6, 0.3] + [0.0, 0.3, 1.0]
    return View(
        yaw=float(rng.uniform(-settings.yaw_degrees, settings.yaw_degrees)),
        pitch=float(rng.uniform(-settings.pitch_degrees, settings.pitch_degrees)),
        light_direction=tuple(float(v) for v in light / np.linalg.norm(light)),
        ambient=float(rng.uniform(*settings.ambient)),
        background=tuple(float(v) for v in rng.uniform(0.0, 1.0, 3)),
    )
