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
in ``cliphead/uv/layout.json``, regenerated (deterministically) by ``cliphead uv layout``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cliphead.uv.seam import ANCHORS, Disk

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


def circle_curve(anchor_angles: tuple[float, ...] = (90.0, 190.0, 270.0, 350.0), samples: int = 64) -> BoundaryCurve:
    """The circle of radius 0.5 - MARGIN about (0.5, 0.5), anchors at the given angles (degrees)."""
    angles = np.radians(np.append(anchor_angles, anchor_angles[0] + 360.0))
    radius = 0.5 - MARGIN
    segments = []
    for a, b in zip(angles[:-1], angles[1:]):
        theta = np.linspace(a, b if b > a else b + 2 * np.pi, samples)
        segments.append(0.5 + radius * np.stack([np.cos(theta), np.sin(theta)], axis=1))
    return BoundaryCurve("circle", tuple(segments))


def conformal_template_curve(disk: Disk) -> BoundaryCurve:
    """The boundary of the LSCM map of a template disk, crown up, fitted into the unit square."""
    import igl

    pins = disk.boundary[disk.anchor_positions[[0, 2]]]
    uv, _ = igl.lscm(disk.vertices, disk.faces, pins, np.array([[0.0, 1.0], [0.0, 0.0]]))
    boundary_uv = uv[disk.boundary]
    # Face the viewer: the head's +x half (the last anchor's side) to the right.
    if boundary_uv[disk.anchor_positions[3], 0] < boundary_uv[disk.anchor_positions[1], 0]:
        boundary_uv[:, 0] *= -1
    low, high = boundary_uv.min(axis=0), boundary_uv.max(axis=0)
    scale = (1.0 - 2 * MARGIN) / (high - low).max()
    boundary_uv = (boundary_uv - (low + high) / 2) * scale + 0.5
    ends = np.append(disk.anchor_positions, len(disk.boundary))
    closed = np.concatenate([boundary_uv, boundary_uv[:1]])
    segments = tuple(closed[ends[k] : ends[k + 1] + 1] for k in range(4))
    return BoundaryCurve("conformal", segments)


@lru_cache(maxsize=4)
def boundary_curve(name: str = "conformal") -> BoundaryCurve:
    """The named fixed boundary curve with its landmark targets, from the shipped ``layout.json``."""
    if name not in CURVES:
        raise ValueError(f"Unknown boundary curve '{name}'; choose one of {', '.join(CURVES)}.")
    payload = json.loads(LAYOUT_FILE.read_text())["curves"][name]
    return BoundaryCurve(name, tuple(np.asarray(s) for s in payload["segments"]), np.asarray(payload["landmarks_uv"]))


def template_head(resolution: int = 160):
    """ICT-FaceKit's neutral head, re-meshed by marching cubes, and its 68 landmarks."""
    from cliphead.heads.ict import load_ict_model
    from cliphead.heads.remesh import remesh_head
    from cliphead.heads.surfaces import Head, skin_head, watertight_skin

    skin = skin_head(load_ict_model())
    closed = watertight_skin(skin)
    return Head(*remesh_head(closed.vertices, closed.faces, resolution), skin.landmarks)


def build_layout(resolution: int = 160) -> dict:
    """Both curves and their landmark targets, computed from the template head."""
    from cliphead.uv.aligned import harmonic_map, uv_at_points
    from cliphead.uv.seam import cut_to_disk

    head = template_head(resolution)
    disk = cut_to_disk(head.vertices, head.faces)
    curves = {}
    for curve in (conformal_template_curve(disk), circle_curve()):
        uv = harmonic_map(disk, place_boundary(disk, curve))
        curves[curve.name] = {
            "segments": [np.round(s, 6).tolist() for s in curve.segments],
            "landmarks_uv": np.round(uv_at_points(disk.vertices, disk.faces, uv, head.landmarks), 6).tolist(),
        }
    return {
        "anchors": list(ANCHORS),
        "curves": curves,
        "provenance": {
            "command": "cliphead uv layout",
            "template": "ICT-FaceKit generic_neutral_mesh: watertight skin, marching cubes, cropped at the neck plane",
            "resolution": resolution,
            "conformal": "igl.lscm of the seam-cut template, crown pinned at (0, 1), front of the neck at (0, 0)",
        },
    }


def write_layout(path: Path = LAYOUT_FILE) -> Path:
    """Regenerate the layout file from the template head."""
    from cliphead.files import atomic_path

    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(build_layout()) + "\n")
    boundary_curve.cache_clear()
    return path
