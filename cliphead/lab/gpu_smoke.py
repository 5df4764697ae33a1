"""A smoke test of every model backend on one device, for the day a GPU is available (a few minutes on one).

``python -m cliphead.lab.gpu_smoke --device cuda --out smoke.json`` runs each stage below on the device, times
it, and writes what ran, how long it took and any error; the exit status is 1 when a stage failed. Stand-ins
with random weights in the released layouts take the place of weights that are not redistributed (NPHM,
CLIP-Head's mappers, Stable Diffusion with ControlNet_uv), so what is tested is the device path of each
backend, not the published numbers.

- ``embedded-texture``: the embedded ControlNet_uv textures a head of the embedded model (8 UniPC steps);
- ``texture-training``: the quick texture recipe, 5 steps a phase, from scratch;
- ``nphm``: NPHM's identity and expression decoders at their released sizes on 32³ points;
- ``official-mappers``: both mappers at their released sizes on a batch of 1024-d embeddings;
- ``stable-diffusion``: the Stable Diffusion + ControlNet backend on a tiny diffusers folder (2 steps);
- ``official-texture``: the released three-pass texture stage on tiny diffusers folders (2 steps, 64 px).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch


def _embedded_head_normal_map() -> np.ndarray:
    from cliphead.heads.checkpoints import cached_head_model
    from cliphead.uv.aligned import aligned_model_head
    from cliphead.uv.bake import uv_normal_map

    model = cached_head_model(None)
    head = aligned_model_head(model, model.sample_identity_code(0), None, 96)
    return uv_normal_map(head.vertices, head.faces, head.uv, 256)


def embedded_texture(device: str, scratch: Path) -> dict:
    from cliphead.texture.checkpoints import load_embedded
    from cliphead.texture.generate import texture_head
    from cliphead.texture.sampling import SamplingSettings

    model = load_embedded().to(device)
    result = texture_head(model, _embedded_head_normal_map(), "an old man with a grey beard", SamplingSettings())
    return {"texture_size": int(result.texture.shape[0]), "rectified": bool(result.rectification.rectified)}


def texture_training(device: str, scratch: Path) -> dict:
    from cliphead.lab.texture.recipe import PRESETS
    from cliphead.lab.texture.training import train_texture_model

    config = replace(
        PRESETS["quick"], autoencoder_steps=5, unet_steps=5, controlnet_steps=5, anneal_steps=5, snapshots=1
    )
    _, record = train_texture_model(config, device=device)
    return {"final_loss": float(record.frame().loss.iloc[-1])}


def nphm(device: str, scratch: Path) -> dict:
    from cliphead.heads.nphm import NPHMHeadModel
    from cliphead.heads.nphm_networks import NPHMExpression, NPHMExpressionConfig, NPHMIdentity, NPHMIdentityConfig

    torch.manual_seed(0)
    config = NPHMIdentityConfig()
    identity = NPHMIdentity(config, torch.randn(config.n_anchors, 3) * 0.3)
    model = NPHMHeadModel(identity, NPHMExpression(NPHMExpressionConfig())).to(device).eval()
    z_id = torch.randn(config.latent_dim, device=device) * 0.1
    points = torch.rand(32**3, 3, device=device) - 0.5
    with torch.no_grad():
        sdf = model.nphm_sdf(points, z_id)
        moved = model.nphm_deform(points[:4096], z_id, torch.zeros(200, device=device))
    return {"sdf_finite": bool(torch.isfinite(sdf).all()), "deformed_points": len(moved)}


def official_mappers(device: str, scratch: Path) -> dict:
    from cliphead.mapping.official import OfficialMapper, OfficialMapperConfig

    widths = (512, 256, 256, 256, 256, 256, 256, 256)
    codes = {}
    for output_dim in (1344, 200):
        mapper = OfficialMapper(OfficialMapperConfig(1024, widths, 4, output_dim)).to(device).eval()
        with torch.no_grad():
            codes[output_dim] = tuple(mapper(torch.randn(16, 1024, device=device)).shape)
    return {"code_shapes": [list(shape) for shape in codes.values()]}


def stable_diffusion(device: str, scratch: Path) -> dict:
    from cliphead.lab.tiny_diffusers import save_tiny_controlnet_pipeline
    from cliphead.texture.generate import texture_head
    from cliphead.texture.models import load_stable_diffusion
    from cliphead.texture.sampling import SamplingSettings

    base = save_tiny_controlnet_pipeline(scratch / "sd")
    model = load_stable_diffusion(base, base / "controlnet").eval().to(device)
    result = texture_head(model, _embedded_head_normal_map(), "red hair", SamplingSettings(steps=2), rectify=False)
    return {"texture_size": int(result.texture.shape[0])}


def official_texture(device: str, scratch: Path) -> dict:
    from cliphead.lab.tiny_diffusers import save_tiny_controlnet_pipeline, save_tiny_inpainting_pipeline
    from cliphead.texture.official import OfficialSettings, OfficialSpec, OfficialTexturer

    base = save_tiny_controlnet_pipeline(scratch / "official-base")
    inpaint = save_tiny_inpainting_pipeline(scratch / "official-inpaint")
    texturer = OfficialTexturer(OfficialSpec(base / "controlnet", base, inpaint), device=device)
    normal_map = (_embedded_head_normal_map() * 255).astype(np.uint8)
    settings = OfficialSettings(steps=2, pass_size=64, seam_size=64, warp_size=64)
    result = texturer(normal_map, "red hair", settings, seed=0)
    return {"texture_size": int(result.texture.shape[0]), "seconds": result.seconds}


STAGES: dict[str, Callable[[str, Path], dict]] = {
    "embedded-texture": embedded_texture,
    "texture-training": texture_training,
    "nphm": nphm,
    "official-mappers": official_mappers,
    "stable-diffusion": stable_diffusion,
    "official-texture": official_texture,
}


def run_smoke(device: str, only: list[str] | None = None) -> list[dict]:
    """Run the named stages (default all) on ``device``; one record per stage: name, ok, seconds, what it made or
    the error."""
    unknown = set(only or ()) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stages {sorted(unknown)}; the stages are {', '.join(STAGES)}")
    records = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in only or list(STAGES):
            start = time.perf_counter()
            try:
                record = {"stage": name, "ok": True, **STAGES[name](device, Path(scratch))}
            except Exception as error:  # a smoke test reports every stage's failure and goes on
                record = {"stage": name, "ok": False, "error": f"{error!r}", "trace": traceback.format_exc(limit=3)}
            record["seconds"] = round(time.perf_counter() - start, 2)
            records.append(record)
            print(f"{name:18s} {'ok' if record['ok'] else 'FAILED'} in {record['seconds']:.1f} s", flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="torch device (default cuda)")
    parser.add_argument("--only", help=f"comma-separated stages (default all: {','.join(STAGES)})")
    parser.add_argument("--out", default="gpu_smoke.json", help="where to write the records (JSON)")
    args = parser.parse_args(argv)
    records = run_smoke(args.device, args.only.split(",") if args.only else None)
    Path(args.out).write_text(json.dumps({"device": args.device, "stages": records}, indent=2))
    return 0 if all(record["ok"] for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
