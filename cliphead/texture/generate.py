"""A head's UV texture from its UV normal map and a prompt: ControlNet_uv plus rectification.

CLIP-Head §2.3 and supplementary §3: the full texture is generated from the whole UV normal map; the
partial texture from the face window of the same map, zoomed to the model's size; the rectification
warps the full texture so that its facial features sit where the partial texture has them and pastes
the partial texture back. Both textures are one batch of two, so the pair costs little more than one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cliphead.texture.crop import crop_face
from cliphead.texture.models import ControlNetUV
from cliphead.texture.rectify import rectify as rectify_texture
from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings, generate_textures

#: Size of the rectified texture (the partial texture's detail survives the paste back).
RECTIFIED_SIZE = 512


@dataclass(frozen=True)
class RectifiedTexture:
    """The textures of one head: ``texture`` is the rectified one (or the full one when rectification was
    off or skipped); ``rectification`` holds the landmark errors and why it was skipped, if it was."""

    texture: np.ndarray  # (S', S', 3) float32 in [0, 1]
    full: np.ndarray  # (S, S, 3) the model's texture of the whole layout
    partial: np.ndarray | None  # (S, S, 3) the model's texture of the face window
    rectification: object | None  # cliphead.texture.rectify.Rectification
    seconds: dict[str, float]


def layout_hints(normal_map: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A UV normal map (S, S, 3) in [0, 1] → its whole layout and its face window at ``size``."""
    tensor = torch.from_numpy(np.ascontiguousarray(normal_map, dtype=np.float32)).permute(2, 0, 1)[None]
    whole = F.interpolate(tensor, size=(size, size), mode="area") if tensor.shape[-1] > size else tensor
    face = crop_face(tensor, size)
    return whole[0].permute(1, 2, 0).numpy(), face[0].permute(1, 2, 0).numpy()


def texture_head(
    model: ControlNetUV,
    normal_map: np.ndarray,
    prompt: str,
    settings: SamplingSettings = DEFAULT_SAMPLING,
    *,
    seed: int = 0,
    rectify: bool = True,
) -> RectifiedTexture:
    """The texture of the head whose UV normal map is ``normal_map`` (module doc); the full texture's noise
    is seeded ``seed``, the partial one's ``seed + 1``."""

    normal_map = np.asarray(normal_map, dtype=np.float32)
    if normal_map.ndim != 3 or normal_map.shape[2] != 3 or not np.isfinite(normal_map).all():
        raise ValueError(f"the UV normal map must be a finite (S, S, 3) image, got shape {normal_map.shape}")
    start = time.perf_counter()
    whole, face = layout_hints(normal_map, model.texture_size)
    if not rectify:
        full = generate_textures(model, whole[None], [prompt], settings, seed)[0]
        return RectifiedTexture(full, full, None, None, {"generate": time.perf_counter() - start})
    full, partial = generate_textures(model, np.stack([whole, face]), [prompt, prompt], settings, seed)
    generated = time.perf_counter()
    result = rectify_texture(full, partial, whole, face, out_size=RECTIFIED_SIZE)
    seconds = {"generate": generated - start, "rectify": time.perf_counter() - generated}
    return RectifiedTexture(result.texture, full, partial, result, seconds)
