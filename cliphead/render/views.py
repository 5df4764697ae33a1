"""Normal-map, shaded and textured views of a triangle mesh, and helpers to save and tile them.

Every view returns a float32 (H, W, 3) image in [0, 1]. The normal map is the control hint of
CLIP-Head §2.3 (ControlNet's normal-map convention: camera-space normal n drawn as n * 0.5 + 0.5,
x → R, y → G, z towards the viewer → B, so a surface facing the camera is (0.5, 0.5, 1.0)).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from cliphead.files import atomic_path
from cliphead.render.cameras import Camera
from cliphead.render.rasterize import Fragments, check_faces, interpolate, rasterize

#: Default light direction in camera space (towards the light): from the camera, up and to the left.
HEADLIGHT = (-0.3, 0.4, 1.0)


def _check_mesh(vertices, faces) -> tuple[np.ndarray, np.ndarray]:
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise ValueError(f"vertices must be an (N, 3) array, got shape {vertices.shape}")
    if not np.all(np.isfinite(vertices)):
        raise ValueError("vertices contain NaN or infinite coordinates; clean the mesh before rendering")
    return vertices, check_faces(faces, len(vertices))


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (N, 3); vertices on no (non-degenerate) face get 0."""
    vertices, faces = _check_mesh(vertices, faces)
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # 2 * area * n
    normals = np.stack(
        [np.bincount(faces.ravel(), np.repeat(face_normals[:, k], 3), minlength=len(vertices)) for k in range(3)],
        axis=1,
    )
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)


def vertex_normals_torch(vertices: torch.Tensor, faces: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Differentiable area-weighted unit vertex normals (N, 3) of a torch vertex tensor."""
    faces = torch.as_tensor(np.asarray(faces, dtype=np.int64), device=vertices.device)
    corners = vertices[faces]
    face_normals = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0], dim=1)
    normals = torch.zeros_like(vertices).index_add(0, faces.reshape(-1), face_normals.repeat_interleave(3, dim=0))
    return normals / normals.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _fragments(vertices: np.ndarray, faces: np.ndarray, camera: Camera, cull_backfaces: bool = False) -> Fragments:
    screen = camera.project(vertices)
    size = (camera.width, camera.height)
    return rasterize(
        screen, faces, *size, cull_backfaces, perspective=camera.is_perspective, near=camera.near, far=camera.far
    )


def _interpolate(values: np.ndarray, faces: np.ndarray, fragments: Fragments) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        image, mask = interpolate(torch.as_tensor(values), faces, fragments)
    return image.numpy(), mask.numpy()


def _camera_normals(vertices: np.ndarray, faces: np.ndarray, camera: Camera, fragments: Fragments):
    """Per-pixel unit camera-space normals (H, W, 3) and the coverage mask."""
    normals, mask = _interpolate(vertex_normals(vertices, faces) @ camera.rotation.T, faces, fragments)
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0), mask


def _compose(colour: np.ndarray, mask: np.ndarray, background) -> np.ndarray:
    image = np.empty(colour.shape, dtype=np.float32)
    image[...] = np.asarray(background, dtype=np.float32)
    image[mask] = np.clip(colour[mask], 0.0, 1.0)
    return image


def _lambert(normals: np.ndarray, light_direction, ambient: float) -> np.ndarray:
    light = np.asarray(HEADLIGHT if light_direction is None else light_direction, dtype=np.float64)
    light = light / np.linalg.norm(light)
    return ambient + (1.0 - ambient) * np.clip(normals @ light, 0.0, None)[..., None]


def normal_map(vertices: np.ndarray, faces: np.ndarray, camera: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Camera-space normal map, the ControlNet control hint of CLIP-Head §2.3.

    Per-vertex normals are interpolated (perspective-correct) and renormalised, then drawn as
    n * 0.5 + 0.5 with x → R, y → G, z (towards the viewer) → B.
    """
    vertices, faces = _check_mesh(vertices, faces)
    fragments = _fragments(vertices, faces, camera)
    normals, mask = _camera_normals(vertices, faces, camera, fragments)
    return _compose(normals * 0.5 + 0.5, mask, background)


def shaded(
    vertices: np.ndarray,
    faces: np.ndarray,
    camera: Camera,
    light_direction=None,
    albedo=(0.8, 0.8, 0.8),
    ambient: float = 0.25,
    background=(1.0, 1.0, 1.0),
) -> np.ndarray:
    """Lambertian shading; ``light_direction`` points towards the light in camera coordinates
    (default :data:`HEADLIGHT`, from the camera, slightly above and to the left)."""
    vertices, faces = _check_mesh(vertices, faces)
    fragments = _fragments(vertices, faces, camera)
    normals, mask = _camera_normals(vertices, faces, camera, fragments)
    return _compose(np.asarray(albedo) * _lambert(normals, light_direction, ambient), mask, background)


def surface_under_pixels(
    vertices: np.ndarray, faces: np.ndarray, camera: Camera
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each pixel sees: the world position of the surface ``(H, W, 3)``, how squarely it faces the
    camera (the camera-space normal's z, ``(H, W)``, 1 head-on) and the coverage mask ``(H, W)``."""
    vertices, faces = _check_mesh(vertices, faces)
    fragments = _fragments(vertices, faces, camera)
    positions, mask = _interpolate(vertices, faces, fragments)
    normals, _ = _camera_normals(vertices, faces, camera, fragments)
    return positions, normals[..., 2], mask


def coloured(
    vertices: np.ndarray,
    faces: np.ndarray,
    camera: Camera,
    colours: np.ndarray,
    shade: bool = True,
    background=(1.0, 1.0, 1.0),
) -> np.ndarray:
    """Per-vertex colours (N, 3) in [0, 1] (e.g. a distortion heatmap), optionally Lambert-shaded."""
    vertices, faces = _check_mesh(vertices, faces)
    fragments = _fragments(vertices, faces, camera)
    colour, mask = _interpolate(np.asarray(colours, dtype=np.float64), faces, fragments)
    if shade:
        normals, _ = _camera_normals(vertices, faces, camera, fragments)
        colour = colour * _lambert(normals, None, 0.45)
    return _compose(colour, mask, background)


def _as_texture(texture) -> np.ndarray:
    texture = np.asarray(texture)
    if texture.dtype == np.uint8:
        texture = texture / 255.0
    texture = texture.astype(np.float64)
    if texture.ndim == 2:
        texture = np.repeat(texture[..., None], 3, axis=2)
    if texture.ndim != 3 or texture.shape[2] not in (3, 4) or min(texture.shape[:2]) == 0:
        raise ValueError(f"texture must be an (H, W, 3) RGB image, float in [0, 1] or uint8; got {texture.shape}")
    return texture[..., :3]


def sample_texture(texture: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of ``uv`` (..., 2) in ``texture`` (T_h, T_w, 3), v up, clamped at the borders."""
    height, width = texture.shape[:2]
    x = np.clip(uv[..., 0] * width - 0.5, 0.0, width - 1.0)
    y = np.clip((1.0 - uv[..., 1]) * height - 0.5, 0.0, height - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.int64), width - 2) if width > 1 else np.zeros(x.shape, np.int64)
    y0 = np.minimum(np.floor(y).astype(np.int64), height - 2) if height > 1 else np.zeros(y.shape, np.int64)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    top = texture[y0, x0] * (1 - fx) + texture[y0, x1] * fx
    bottom = texture[y1, x0] * (1 - fx) + texture[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def textured(
    vertices: np.ndarray,
    faces: np.ndarray,
    camera: Camera,
    uv: np.ndarray,
    texture: np.ndarray,
    shade: bool = True,
    background=(1.0, 1.0, 1.0),
    uv_faces: np.ndarray | None = None,
    light_direction=None,
    ambient: float = 0.25,
    cull_backfaces: bool = False,
) -> np.ndarray:
    """The mesh with a UV texture (v up, OBJ convention), optionally multiplied by Lambert shading.

    ``uv`` is per vertex (N, 2), or per corner when ``uv_faces`` (F, 3) indexes it (seams).
    ``light_direction`` is in camera space (default: a headlight from the upper left). ``cull_backfaces``
    skips the triangles facing away (outward-wound faces; for a mesh closed where the camera looks, the
    same picture for half the rasterization).
    """
    vertices, faces = _check_mesh(vertices, faces)
    uv = np.asarray(uv, dtype=np.float64)
    if uv.ndim != 2 or uv.shape[1] != 2:
        raise ValueError(f"uv must be an (N, 2) array, got shape {uv.shape}")
    texture = _as_texture(texture)
    fragments = _fragments(vertices, faces, camera, cull_backfaces)
    with torch.no_grad():
        pixel_uv, mask = interpolate(torch.as_tensor(uv), faces, fragments, attribute_faces=uv_faces)
    mask = mask.numpy()
    colour = sample_texture(texture, pixel_uv.numpy())
    if shade:
        normals, _ = _camera_normals(vertices, faces, camera, fragments)
        colour = colour * _lambert(normals, light_direction, ambient)
    return _compose(colour, mask, background)


def render(
    kind: str,
    vertices: np.ndarray,
    faces: np.ndarray,
    camera: Camera,
    uv: np.ndarray | None = None,
    texture: np.ndarray | None = None,
) -> np.ndarray:
    """Render one view: ``kind`` is "normal", "shaded" or "textured" (which needs uv and texture)."""
    if kind == "normal":
        return normal_map(vertices, faces, camera)
    if kind == "shaded":
        return shaded(vertices, faces, camera)
    if kind == "textured":
        if uv is None or texture is None:
            raise ValueError("render('textured', ...) needs both uv= (per-vertex texture coordinates) and texture=")
        return textured(vertices, faces, camera, uv, texture)
    raise ValueError(f"Unknown render kind '{kind}'; choose 'normal', 'shaded' or 'textured'")


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] (or a uint8 one, returned as is) as uint8."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an (H, W, 3) or (H, W) image as PNG; written to a temporary name, then moved into place."""
    path = Path(path)
    with atomic_path(path) as temporary:
        Image.fromarray(to_uint8(image)).save(temporary, format="PNG")
    return path


def image_grid(
    images: Sequence[np.ndarray], labels: Sequence[str] | None = None, background=(1.0, 1.0, 1.0)
) -> np.ndarray:
    """Images side by side in one float32 (H, W_total, 3) picture, each under its optional label."""
    if not images:
        raise ValueError("image_grid needs at least one image")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"got {len(labels)} labels for {len(images)} images")
    tiles = []
    for image in images:
        image = to_uint8(image)
        tiles.append(np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3])
    label_height = 16 if labels else 0
    height = max(tile.shape[0] for tile in tiles) + label_height
    width = sum(tile.shape[1] for tile in tiles)
    canvas = Image.new("RGB", (width, height), tuple(int(round(255 * c)) for c in background))
    draw = ImageDraw.Draw(canvas)
    left = 0
    for index, tile in enumerate(tiles):
        canvas.paste(Image.fromarray(tile), (left, label_height))
        if labels:
            draw.text((left + 3, 2), str(labels[index]), fill=(0, 0, 0))
        left += tile.shape[1]
    return np.asarray(canvas, dtype=np.float32) / 255.0
