"""``cliphead render``: a mesh file in, one PNG per view and a labelled strip of all views out."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from cliphead.files import output_folder
from cliphead.meshes import load_mesh, read_obj_uv
from cliphead.render.cameras import head_cameras
from cliphead.render.views import image_grid, render, save_image

#: What ``render_mesh_file`` draws: camera-space normals (the ControlNet hint), shading, or the texture.
KINDS = ("normal", "shaded", "textured")


def render_mesh_file(
    mesh: str | os.PathLike,
    out: str | os.PathLike,
    kind: str = "normal",
    views: Sequence[str | float] = ("front", "three_quarter", "profile"),
    size: int = 512,
    texture: str | os.PathLike | None = None,
    force: bool = False,
) -> dict:
    """Render ``mesh`` from each of ``views`` (names or yaw angles in degrees) into ``out``.

    Writes ``out``/KIND_VIEW.png per view and ``out``/KIND_views.png (all views, labelled). ``textured``
    needs an OBJ with per-vertex texture coordinates (the output of ``cliphead align uv``) and a
    ``texture`` PNG. A non-empty ``out`` is refused unless ``force``. Returns the kind, the views, the
    files written and the seconds.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown render kind {kind!r}; choose one of {', '.join(KINDS)}.")
    out = output_folder(out, force)
    vertices, faces = load_mesh(mesh)
    uv = picture = None
    if kind == "textured":
        if not texture:
            raise ValueError("--kind textured needs --texture PNG.")
        uv = read_obj_uv(mesh) if Path(mesh).suffix.lower() == ".obj" else None
        if uv is None or len(uv) != len(vertices):
            raise ValueError(f"{mesh} has no per-vertex texture coordinates; align it first (`cliphead align uv`).")
        picture = np.asarray(Image.open(texture).convert("RGB"))
    start = time.perf_counter()
    cameras = head_cameras(vertices, list(views), size)
    images, written = [], []
    for name, camera in cameras.items():
        image = render(kind, vertices, faces, camera, uv=uv, texture=picture)
        written.append(str(save_image(out / f"{kind}_{name}.png", image)))
        images.append(image)
    written.append(str(save_image(out / f"{kind}_views.png", image_grid(images, labels=list(cameras)))))
    return {"kind": kind, "views": list(cameras), "files": written, "seconds": round(time.perf_counter() - start, 3)}
