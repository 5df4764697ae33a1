"""Writing a generated textured head: what ``cliphead generate`` leaves in its output folder.

- ``head.obj`` + ``head.mtl`` + ``texture.png``: the mesh (ICT frame, centimetres; a given mesh in its own
  frame) wearing its texture;
- ``head.glb``: the same as binary glTF for Blender and three.js (metres, y up, as glTF wants);
- ``head.landmarks.json``: the 68 landmarks, with the prompt and latents (a given mesh has none);
- ``uv_normal.png``: the control hint; ``preview.png``: front, three-quarter and profile renders and
  the texture; ``turntable.gif``: the head turning once;
- ``meta.json``: prompt, settings, latents (or the given mesh's frame and repairs), backends with their weights' sha256, seconds per stage,
  package version and git commit.

Everything is written into a temporary folder beside the target and moved into place at the end, so
an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from cliphead.files import staged_folder
from cliphead.heads.io import write_landmarks
from cliphead.meshes import write_obj
from cliphead.pipeline import PipelineSettings, TexturedHead
from cliphead.provenance import git_commit, package_version
from cliphead.render.lit import View, render_head
from cliphead.render.views import save_image
from cliphead.texture.export import preview_picture
from cliphead.texture.rectify import rectification_record
from cliphead.uv.incoming import AlignedMesh
from cliphead.weights.manifest import MANIFEST

TURNTABLE_FRAMES = 24
TURNTABLE_SIZE = 256


def glb_bytes(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, texture: np.ndarray) -> bytes:
    """A textured mesh as binary glTF, in metres (the ICT frame is in centimetres, y up, as glTF)."""
    image = Image.fromarray(np.round(np.clip(texture, 0, 1) * 255).astype(np.uint8))
    visual = trimesh.visual.TextureVisuals(uv=uv, image=image)
    return trimesh.Trimesh(vertices * 0.01, faces, visual=visual, process=False).export(file_type="glb")


def write_glb(path: Path, head: TexturedHead) -> Path:
    """The textured head as binary glTF (:func:`glb_bytes`)."""
    path.write_bytes(glb_bytes(head.vertices, head.faces, head.uv, head.texture))
    return path


def turntable_frames(
    head: TexturedHead, frames: int = TURNTABLE_FRAMES, size: int = TURNTABLE_SIZE
) -> list[np.ndarray]:
    """Renders of the textured head turning once about the vertical axis (back faces culled: a head is closed
    but at the neck, which a level camera does not see into)."""
    views = [
        View(yaw, 0.0, (0.3, 0.4, 0.87), 0.35, (1, 1, 1)) for yaw in np.linspace(-180.0, 180.0, frames, endpoint=False)
    ]
    return [render_head(head, head.texture, view, size, 0.85, cull_backfaces=True) for view in views]


def _weights_record(backends: dict[str, str]) -> dict[str, dict]:
    """Each backend's name with the sha256 of its embedded weights (from the manifest) where it has some."""
    manifest = json.loads(MANIFEST.read_text())
    embedded = {
        "encoder": ["lit_minilm_image.safetensors"],
        "texture": [f"texture_{part}.safetensors" for part in ("vae", "unet", "controlnet")],
        "head_model": ["neural_head.safetensors"],
        "id_mapper": ["mapper_id.safetensors"],
        "exp_mapper": ["mapper_exp.safetensors"],
    }
    record = {}
    for stage, name in backends.items():
        files = embedded[stage] if name in ("embedded", "lit-minilm") else []
        record[stage] = {"backend": name, "weights_sha256": {f: manifest[f]["sha256"] for f in files if f in manifest}}
    return record


def _head_record(head: TexturedHead, mesh: AlignedMesh | None) -> dict:
    """Where the head came from: its codes and their distance from the latent distribution, or the given mesh's
    frame, repairs and landmarks."""
    if mesh is not None:
        return {"mesh": mesh.record()}
    return {
        "z_id": np.round(head.codes.z_id.numpy(), 6).tolist(),
        "z_exp": np.round(head.codes.z_exp.numpy(), 6).tolist(),
        "identity_sigma": round(head.identity_sigma, 4),
        "expression_sigma": round(head.expression_sigma, 4),
    }


def settings_record(settings: PipelineSettings, official: bool) -> dict:
    """The pipeline settings that took effect: the official backend's own, or the project's sampler's."""
    record = asdict(settings)
    for unused in ("sampling", "rectify") if official else ("official",):
        record.pop(unused)
    return record


def write_textured_head(
    out: Path, head: TexturedHead, backends: dict[str, str], mesh: AlignedMesh | None = None
) -> dict:
    """Write the module doc's files into ``out`` (which must not hold anything yet) and return meta.json's record.

    ``mesh``: the head was a given mesh (``generate --mesh``); then ``head.obj`` and ``head.landmarks.json``
    are in the mesh's own frame and meta.json records its frame and repairs instead of latents."""
    to_user = mesh.frame.to_user if mesh is not None else (lambda points: points)
    meta = {
        "prompt": head.prompt,
        "settings": settings_record(head.settings, official=backends.get("texture", "").startswith("official:")),
        "seed": head.seed,
        **_head_record(head, mesh),
        **rectification_record(head.textures.rectification, "rectification_skipped_because"),
        "backends": _weights_record(backends),
        "seconds": {stage: round(value, 3) for stage, value in head.seconds.items()},
        "package_version": package_version("cliphead"),
        "git_commit": git_commit(),
    }
    with staged_folder(out) as staging:
        save_image(staging / "texture.png", head.texture)
        write_obj(staging / "head.obj", to_user(head.vertices), head.faces, head.uv, texture_name="texture.png")
        write_glb(staging / "head.glb", head)
        latents = {key: meta[key] for key in ("z_id", "z_exp") if key in meta}
        write_landmarks(staging / "head.landmarks.json", to_user(head.landmarks), {"prompt": head.prompt, **latents})
        save_image(staging / "uv_normal.png", head.normal_map)
        save_image(staging / "preview.png", preview_picture(head.vertices, head.faces, head.uv, head.texture))
        # Each frame to a 256-colour palette by fast octree: as close to the render as PIL's default median cut,
        # twenty times faster.
        frames = [
            Image.fromarray(np.round(frame * 255).astype(np.uint8)).quantize(method=Image.Quantize.FASTOCTREE)
            for frame in turntable_frames(head)
        ]
        frames[0].save(staging / "turntable.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
        (staging / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta
