"""Cameras, a numpy z-buffer rasterizer with differentiable interpolation, and mesh views.

The normal-map view is the ControlNet control hint of CLIP-Head §2.3; the pair generation of
§2.1 renders heads from the :data:`NAMED_VIEWS` with :func:`head_cameras`.
"""

from cliphead.render.cameras import NAMED_VIEWS, Camera, head_cameras, look_at, named_camera, orbit_camera
from cliphead.render.rasterize import Fragments, bake, interpolate, rasterize, rasterize_uv
from cliphead.render.views import (
    coloured,
    image_grid,
    normal_map,
    render,
    sample_texture,
    save_image,
    shaded,
    textured,
    vertex_normals,
    vertex_normals_torch,
)

__all__ = [
    "NAMED_VIEWS",
    "Camera",
    "Fragments",
    "bake",
    "coloured",
    "head_cameras",
    "image_grid",
    "interpolate",
    "look_at",
    "named_camera",
    "normal_map",
    "orbit_camera",
    "rasterize",
    "rasterize_uv",
    "render",
    "sample_texture",
    "save_image",
    "shaded",
    "textured",
    "vertex_normals",
    "vertex_normals_torch",
]
