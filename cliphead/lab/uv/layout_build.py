"""Building the shipped layout (``cliphead/uv/layout.json``) from the template head (CLIP-Head §2.2).

The template is ICT-FaceKit's neutral head, re-meshed by marching cubes and cropped at the neck plane
like an NPHM mesh. Its seam-cut disk gives the ``"conformal"`` curve (the boundary of its free-boundary
LSCM map, fitted into the unit square); ``"circle"`` is the unit-disk boundary the paper's description
suggests. Each curve's harmonic map of the template places the template's 68 landmarks: the targets the
landmark warp of :func:`cliphead.uv.aligned.aligned_uv` pulls every head's landmarks to.
"""

from __future__ import annotations

import json
from pathlib import Path

import igl
import numpy as np

from cliphead.files import atomic_path
from cliphead.heads.ict import load_ict_model
from cliphead.heads.remesh import remesh_head
from cliphead.heads.surfaces import Head, skin_head, watertight_skin
from cliphead.uv.aligned import harmonic_map, uv_at_points
from cliphead.uv.layout import LAYOUT_FILE, MARGIN, BoundaryCurve, boundary_curve, place_boundary
from cliphead.uv.seam import ANCHORS, Disk, cut_to_disk


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


def template_head(resolution: int = 160) -> Head:
    """ICT-FaceKit's neutral head, re-meshed by marching cubes, and its 68 landmarks."""
    skin = skin_head(load_ict_model())
    closed = watertight_skin(skin)
    return Head(*remesh_head(closed.vertices, closed.faces, resolution), skin.landmarks)


def build_layout(resolution: int = 160) -> dict:
    """Both curves and their landmark targets, computed from the template head."""
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
            "command": "cliphead build layout",
            "template": "ICT-FaceKit generic_neutral_mesh: watertight skin, marching cubes, cropped at the neck plane",
            "resolution": resolution,
            "conformal": "igl.lscm of the seam-cut template, crown pinned at (0, 1), front of the neck at (0, 0)",
        },
    }


def write_layout(path: Path = LAYOUT_FILE) -> Path:
    """Regenerate the layout file from the template head."""
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(build_layout()) + "\n")
    boundary_curve.cache_clear()
    return path
