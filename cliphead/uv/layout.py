"""The fixed 2D boundary curve every head's disk boundary is mapped onto (CLIP-Head §2.2).

Aligning the UV maps of all heads comes from mapping every disk boundary onto *one* fixed curve,
with four anchors (crown, back of the neck on each side, front of the neck) at fixed points and the
boundary between anchors spread by arc length. Two curves are provided:

- ``"circle"``: the unit-disk boundary the paper's description suggests, anchors at fixed angles.
- ``"conformal"`` (default): the boundary of a free-boundary conformal map (LSCM) of the template
  head (ICT-FaceKit's neutral, re-meshed like an NPHM mesh), normalised into the unit square. A
  harmonic map whose boundary follows this curve is then nearly conformal for every head close to the
  template, which lowers QCE while keeping the layout fixed.

Each curve also carries the UV positions of the template's 68 landmarks under its map: the targets
that :func:`cliphead.uv.aligned.aligned_uv` pulls a head's landmarks to when it knows them. Both ship
in ``cliphead/uv/layout.json``, which the lab's :mod:`cliphead.lab.uv.layout_build` makes (deterministically)
from the template head with ``cliphead build layout``; at inference the layout is only read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cliphead.uv.seam import Disk

LAYOUT_FILE = Path(__file__).with_name("layout.json")
#: Empty border kept around the layout in the unit square.
MARGIN = 0.02
CURVES = ("conformal", "circle")


@dataclass(frozen=True)
class BoundaryCurve:
    """A closed curve in the unit square split at the four anchors into four polylines."""

    name: str
    segments: tuple[np.ndarray, ...]  # 4 arrays (K_i, 2), segment i runs from anchor i to anchor i+1
    landmarks_uv: np.ndarray | None = None  # (68, 2) the template's landmarks under this curve's map

    @property
    def anchors(self) -> np.ndarray:
        return np.stack([segment[0] for segment in self.segments])


def _arc_fractions(points: np.ndarray) -> np.ndarray:
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    return cumulative / cumulative[-1]


def place_boundary(disk: Disk, curve: BoundaryCurve) -> np.ndarray:
    """UV positions of ``disk.boundary``: each stretch between anchors spread by 3D arc length."""
    uv = np.zeros((len(disk.boundary), 2))
    ends = np.append(disk.anchor_positions, len(disk.boundary))
    for k, segment in enumerate(curve.segments):
        indices = np.arange(ends[k], ends[k + 1] + 1) % len(disk.boundary)
        t = _arc_fractions(disk.vertices[disk.boundary[indices]])[:-1]
        s = _arc_fractions(segment)
        uv[indices[:-1]] = np.stack([np.interp(t, s, segment[:, j]) for j in range(2)], axis=1)
    return uv


@lru_cache(maxsize=4)
def boundary_curve(name: str = "conformal") -> BoundaryCurve:
    """The named fixed boundary curve with its landmark targets, from the shipped ``layout.json``."""
    if name not in CURVES:
        raise ValueError(f"Unknown boundary curve '{name}'; choose one of {', '.join(CURVES)}.")
    payload = json.loads(LAYOUT_FILE.read_text())["curves"][name]
    return BoundaryCurve(name, tuple(np.asarray(s) for s in payload["segments"]), np.asarray(payload["landmarks_uv"]))


def landmark_targets(size: int, curve: str = "conformal") -> np.ndarray:
    """The template's 68 landmark targets in pixel coordinates (column, row) of a ``size`` texture.

    UV (0, 0) is the texture's bottom-left corner and a pixel's centre sits half a pixel in.
    """
    landmarks_uv = boundary_curve(curve).landmarks_uv
    return np.stack([landmarks_uv[:, 0] * size - 0.5, (1.0 - landmarks_uv[:, 1]) * size - 0.5], axis=1)
