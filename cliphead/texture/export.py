"""``cliphead texture MESH_DIR PROMPT``: the output of ``cliphead align uv`` in, a textured head out.

Reads ``MESH_DIR/mesh.obj`` (the seam-cut head with its aligned UV) and ``MESH_DIR/uv_normal.png``
(the control hint) and writes into the output folder:

- ``texture.png`` (the rectified texture, or the full one with ``--no-rectify`` or when no face was
  found; super-resolved ×4 with ``--upscale``), ``texture_full.png`` and ``texture_partial.png``
  (the two ControlNet_uv outputs);
- ``head.obj`` + ``head.mtl`` (the mesh wearing ``texture.png``);
- ``preview.png``: front, three-quarter and profile renders, and the texture;
- ``meta.json``: prompt, seed, sampling settings, backend, landmark errors before/after the
  rectification (or why it was skipped), seconds per step.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from cliphead.files import output_folder, staged_folder
from cliphead.meshes import MeshError, load_mesh, read_obj_uv, write_obj
from cliphead.render import head_cameras, image_grid
from cliphead.render.views import save_image, textured
from cliphead.texture.checkpoints import load_texture_model
from cliphead.texture.generate import texture_head
from cliphead.texture.rectify import rectification_record
from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings


def read_mesh_folder(mesh_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, faces, uv, UV normal map in [0, 1]) of a ``cliphead align uv`` output folder."""
    mesh_dir = Path(mesh_dir)
    mesh, hint = mesh_dir / "mesh.obj", mesh_dir / "uv_normal.png"
    missing = [path.name for path in (mesh, hint) if not path.is_file()]
    if missing:
        raise MeshError(
            f"{mesh_dir} lacks {', '.join(missing)}: give the output folder of `cliphead align uv MESH --out DIR`."
        )
    vertices, faces = load_mesh(mesh)
    uv = read_obj_uv(mesh)
    if uv is None or len(uv) != len(vertices):
        raise MeshError(f"{mesh} has no per-vertex texture coordinates; re-run `cliphead align uv` on the head.")
    normal_map = np.asarray(Image.open(hint).convert("RGB"), dtype=np.float32) / 255.0
    return vertices, faces, uv, normal_map


def preview_picture(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, texture: np.ndarray, size: int = 384
) -> np.ndarray:
    """Front, three-quarter and profile renders of the textured head next to its texture."""

    cameras = head_cameras(vertices, ("front", "three_quarter", "profile"), size)
    views = [textured(vertices, faces, camera, uv, texture) for camera in cameras.values()]
    picture = np.asarray(Image.fromarray(np.round(texture * 255).astype(np.uint8)).resize((size, size)), np.float32)
    return image_grid([*views, picture / 255.0], labels=[*cameras, "UV texture"])


def texture_mesh_folder(
    mesh_dir: Path,
    prompt: str,
    out: Path,
    settings: SamplingSettings = DEFAULT_SAMPLING,
    seed: int = 0,
    rectify: bool = True,
    backend: str = "embedded",
    force: bool = False,
    upscaler: Path | None = None,
) -> dict:
    """Texture the head in ``mesh_dir`` for ``prompt`` and write the module doc's files into ``out``.

    ``upscaler``: Real-ESRGAN weights; the final texture is then super-resolved ×4 (off by default).
    """

    out = output_folder(out, force)
    start = time.perf_counter()
    vertices, faces, uv, normal_map = read_mesh_folder(mesh_dir)
    model = load_texture_model(backend)
    loaded = time.perf_counter()
    result = texture_head(model, normal_map, prompt, settings, seed=seed, rectify=rectify)
    texture = result.texture
    if upscaler is not None:
        from cliphead.texture.upscale import load_upscaler, upscale

        upscaling = time.perf_counter()
        texture = upscale(texture, load_upscaler(upscaler))
        result.seconds["upscale"] = time.perf_counter() - upscaling
    meta = {
        "prompt": prompt,
        "mesh_dir": str(mesh_dir),
        "backend": model.name,
        "texture_size": model.texture_size,
        "seed": seed,
        "sampling": asdict(settings),
        "rectify": rectify,
        "upscaled_with": None if upscaler is None else str(upscaler),
        "texture_pixels": int(texture.shape[0]),
        **rectification_record(result.rectification),
        "seconds": {"load": round(loaded - start, 3), **{k: round(v, 3) for k, v in result.seconds.items()}},
    }
    with staged_folder(out) as staging:
        save_image(staging / "texture.png", texture)
        save_image(staging / "texture_full.png", result.full)
        if result.partial is not None:
            save_image(staging / "texture_partial.png", result.partial)
        write_obj(staging / "head.obj", vertices, faces, uv, texture_name="texture.png")
        save_image(staging / "preview.png", preview_picture(vertices, faces, uv, texture))
        meta["seconds"]["total"] = round(time.perf_counter() - start, 3)
        (staging / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta
