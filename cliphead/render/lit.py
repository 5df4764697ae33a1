"""A textured head seen from a yaw/pitch orbit under one directional light and an ambient term.

The view every textured render in the project uses: generated heads' turntables, the CLIP score's
renders (CLIP-Head §3) and the synthetic world's training images. The camera orbits the centre of the
head's bounding box at the distance that frames the head from the front with ``fill`` of the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cliphead.render.cameras import Camera, head_cameras, orbit_camera
from cliphead.render.views import textured


class UVMesh(Protocol):
    """Anything with a mesh and its UV map: ``vertices`` (V, 3), ``faces`` (F, 3), ``uv`` (V, 2)."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray


@dataclass(frozen=True)
class View:
    """Where the camera is (degrees about the vertical and horizontal axes) and how the head is lit."""

    yaw: float
    pitch: float
    light_direction: tuple[float, float, float]
    ambient: float
    background: tuple[float, float, float]


def view_camera(head: UVMesh, view: View, size: int = 96, fill: float = 0.9) -> Camera:
    """The camera of ``view``: orbiting the head's box centre at the distance that frames it from the front."""
    framing = head_cameras(head.vertices, views=(0.0,), size=size, fill=fill)["0.0"]
    target = 0.5 * (head.vertices.min(axis=0) + head.vertices.max(axis=0))
    distance = float(np.linalg.norm(framing.position - target))
    return orbit_camera(view.yaw, view.pitch, distance, target, 30.0, size)


def render_head(
    head: UVMesh, texture: np.ndarray, view: View, size: int = 96, fill: float = 0.9, cull_backfaces: bool = False
) -> np.ndarray:
    """An ``(size, size, 3)`` float32 image of ``head`` wearing ``texture`` from ``view`` (``cull_backfaces``:
    see :func:`~cliphead.render.views.textured`)."""
    return textured(
        head.vertices,
        head.faces,
        view_camera(head, view, size, fill),
        head.uv,
        texture,
        background=view.background,
        light_direction=view.light_direction,
        ambient=view.ambient,
        cull_backfaces=cull_backfaces,
    )
