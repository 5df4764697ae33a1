"""The released CLIP-Head texture stage (§2.3 and supplementary §3 as released), on the user's weights.

Three diffusion passes and a warp, as the released script runs them (one generator for all passes,
``UniPCMultistepScheduler``, 25 steps, guidance 10, the prompt followed by ", best quality, photoreal
hair, 8k", negative prompt "lowres, cropped, worst quality, low quality"):

1. **full**: ``StableDiffusionControlNetPipeline`` (Stable Diffusion 2.1-base and ControlNet_uv) on the
   whole UV normal map at 512 px, conditioning scale 0.85;
2. **face**: the same on the map's centre crop (40% of its side) at 512 px, conditioning scale 1.2;
3. **rectification** (:mod:`cliphead.texture.official_rectify`): the full texture's crop is warped so
   that its FaceMesh points land on the face texture's, and pasted where the warp covers the crop;
4. **seam**: ``StableDiffusionControlNetInpaintPipeline`` (Stable Diffusion 2-inpainting with the same
   ControlNet) at 1024 px, conditioning scale 0.8, over the crop's frame and what the warp left uncovered.

The released ControlNet_uv saw normal maps encoded as ``uint8(255 (n + 2π) / 4π)`` with R = n_z,
G = n_y, B = n_x, and 0 where no surface maps (:func:`encode_official_normals`); the maps are drawn in
the official UV layout (:mod:`cliphead.uv.official`). The three model folders are the user's, in the
diffusers ``from_pretrained`` layout; nothing is downloaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cliphead.texture.generate import RectifiedTexture
from cliphead.texture.official_rectify import inpaint_mask, paste_face, read_face_uvs, resized
from cliphead.uv.bake import uv_normal_map

SPEC_HELP = "official:CONTROLNET_DIR,base=SD21_BASE_DIR,inpaint=SD2_INPAINT_DIR[,face_uvs=GEOMETRY_JSON]"


@dataclass(frozen=True)
class OfficialSettings:
    """The released script's settings (module doc); sizes in pixels, ``frame`` and ``dilation`` in pixels of
    the normal map as given."""

    steps: int = 25
    guidance: float = 10.0
    full_conditioning: float = 0.85
    face_conditioning: float = 1.2
    seam_conditioning: float = 0.8
    face_fraction: float = 0.4
    pass_size: int = 512
    seam_size: int = 1024
    warp_size: int = 768
    frame: int = 10
    dilation: int = 25
    prompt_suffix: str = ", best quality, photoreal hair, 8k"
    negative_prompt: str = "lowres, cropped, worst quality, low quality"


def encode_official_normals(normals: np.ndarray) -> np.ndarray:
    """Unit normals (..., 3) → the released encoding (module doc): uint8, channels (n_z, n_y, n_x)."""
    encoded = (np.asarray(normals, np.float64)[..., ::-1] + 2 * np.pi) / (4 * np.pi)
    return (encoded * 255).astype(np.uint8)


def official_normal_map(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, size: int = 512) -> np.ndarray:
    """The (size, size, 3) uint8 UV normal map of a head in the released encoding, 0 where no surface maps."""
    image = uv_normal_map(vertices, faces, uv, size)  # n / 2 + 1/2, black where no surface maps
    covered = image.any(axis=-1)
    encoded = np.zeros(image.shape, np.uint8)
    encoded[covered] = encode_official_normals(image[covered] * 2.0 - 1.0)
    return encoded


@dataclass(frozen=True)
class OfficialSpec:
    """The folders of :data:`SPEC_HELP`."""

    controlnet: Path
    base: Path
    inpaint: Path
    face_uvs: Path | None = None


def parse_official_spec(spec: str) -> OfficialSpec:
    """``official:CN_DIR,base=…,inpaint=…[,face_uvs=…]`` → the folders, each checked to exist."""
    controlnet, *options = spec.removeprefix("official:").split(",")
    named = dict(option.partition("=")[::2] for option in options)
    unknown = set(named) - {"base", "inpaint", "face_uvs"}
    if not controlnet or unknown or not {"base", "inpaint"} <= set(named):
        raise ValueError(f"The official texture backend is {SPEC_HELP}; got {spec!r}.")
    folders = {"controlnet": controlnet, "base": named["base"], "inpaint": named["inpaint"]}
    for name, folder in folders.items():
        if not (Path(folder) / ("config.json" if name == "controlnet" else "model_index.json")).is_file():
            raise FileNotFoundError(f"{folder} is not a diffusers {name} folder ({SPEC_HELP}).")
    face_uvs = Path(named["face_uvs"]) if named.get("face_uvs") else None
    return OfficialSpec(*(Path(folder) for folder in folders.values()), face_uvs)


class OfficialTexturer:
    """The released three-pass texture stage (module doc), loaded from the user's folders."""

    name = "official"

    def __init__(self, spec: OfficialSpec, device: str | None = None) -> None:
        from diffusers import (
            ControlNetModel,
            StableDiffusionControlNetInpaintPipeline,
            StableDiffusionControlNetPipeline,
            UniPCMultistepScheduler,
        )

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        controlnet = ControlNetModel.from_pretrained(spec.controlnet, dtype=dtype)
        shared = {"controlnet": controlnet, "dtype": dtype, "safety_checker": None}
        self.full = StableDiffusionControlNetPipeline.from_pretrained(spec.base, **shared).to(self.device)
        self.seam = StableDiffusionControlNetInpaintPipeline.from_pretrained(spec.inpaint, **shared).to(self.device)
        for pipeline in (self.full, self.seam):
            pipeline.scheduler = UniPCMultistepScheduler.from_config(pipeline.scheduler.config)
            pipeline.set_progress_bar_config(disable=True)
        self.face_uvs = read_face_uvs(spec.face_uvs) if spec.face_uvs else None

    def _run(self, pipeline, size: int, prompt: str, scale: float, settings, generator, **images) -> np.ndarray:
        """One pass at ``size`` px with the pipeline's ``images`` (PIL): the texture as uint8 (size, size, 3)."""
        result = pipeline(
            prompt=prompt,
            negative_prompt=settings.negative_prompt,
            num_inference_steps=settings.steps,
            guidance_scale=settings.guidance,
            controlnet_conditioning_scale=float(scale),
            generator=generator,
            height=size,
            width=size,
            output_type="np",
            **{
                name: Image.fromarray(resized(image, size, nearest=name == "mask_image"))
                for name, image in images.items()
            },
        ).images[0]
        return (np.clip(result, 0, 1) * 255).round().astype(np.uint8)

    def __call__(
        self, normal_map: np.ndarray, prompt: str, settings: OfficialSettings = OfficialSettings(), seed: int = 0
    ) -> RectifiedTexture:
        """The texture of the head whose released-encoding UV normal map (uint8) is ``normal_map``."""
        normal_map = np.asarray(normal_map)
        if normal_map.dtype != np.uint8 or normal_map.ndim != 3 or normal_map.shape[2] != 3:
            raise ValueError(f"the official backend takes a uint8 (S, S, 3) normal map, got {normal_map.shape}")
        generator = torch.Generator().manual_seed(seed)
        prompt = prompt + settings.prompt_suffix
        start = time.perf_counter()
        box = centre_box(normal_map.shape[:2], settings.face_fraction)
        crop = normal_map[box[1] : box[1] + box[3], box[0] : box[0] + box[2]]
        size, scales = settings.pass_size, (settings.full_conditioning, settings.face_conditioning)
        full = self._run(self.full, size, prompt, scales[0], settings, generator, image=normal_map)
        face = self._run(self.full, size, prompt, scales[1], settings, generator, image=crop)
        generated = time.perf_counter()
        pasted = paste_face(resized(full, normal_map.shape[0]), face, box, settings.warp_size, self.face_uvs)
        mask = inpaint_mask(normal_map, box, pasted.covered, settings.frame, settings.dilation)
        rectified = time.perf_counter()
        final = self._run(
            self.seam,
            settings.seam_size,
            prompt,
            settings.seam_conditioning,
            settings,
            generator,
            image=pasted.texture,
            control_image=normal_map,
            mask_image=mask,
        )
        seconds = {
            "generate": generated - start,
            "rectify": rectified - generated,
            "inpaint": time.perf_counter() - rectified,
        }
        as_float = [image.astype(np.float32) / 255 for image in (final, full, face)]
        return RectifiedTexture(*as_float, pasted.rectification, seconds)


def centre_box(shape: tuple[int, int], fraction: float) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the centred box ``fraction`` of an image's side, as the release crops."""
    height, width = shape
    box_height, box_width = int(fraction * height), int(fraction * width)
    return int(width / 2 - box_width / 2), int(height / 2 - box_height / 2), box_width, box_height


def load_official_texturer(spec: str) -> OfficialTexturer:
    """The official backend of ``spec`` (:data:`SPEC_HELP`)."""
    return OfficialTexturer(parse_official_spec(spec))
