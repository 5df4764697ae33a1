"""One painted sample with everything a user wants to look at: ``cliphead sample world``."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.captions import captions, paper_caption
from cliphead.lab.world.painter import paint_texture

PREVIEW_YAWS = (-45.0, 0.0, 45.0)


def sampled_record(seed: int, overrides: dict) -> Attributes:
    """The record drawn from ``seed`` with the fields in ``overrides`` fixed (unknown fields are an error)."""
    base = sample_attributes(np.random.default_rng(seed))
    Attributes.from_dict({**asdict(base), **overrides})  # validates names and values
    return replace(base, **overrides)


def preview_image(texture: np.ndarray, size: int = 256) -> np.ndarray:
    """The texture on the bank's first head (a neutral ICT identity) from three yaws, side by side."""
    from cliphead.lab.world.renders import head_bank
    from cliphead.render.lit import View, render_head

    head = head_bank(1, 0)[0]
    views = [View(yaw, 0.0, (0.3, 0.4, 0.87), 0.35, (1.0, 1.0, 1.0)) for yaw in PREVIEW_YAWS]
    return np.concatenate([render_head(head, texture, view, size) for view in views], axis=1)


def write_appearance_sample(
    seed: int,
    overrides: dict,
    out: Path,
    size: int = 512,
    n_captions: int = 10,
    preview: bool = True,
    force: bool = False,
    painter: str = "plain",
) -> dict:
    """Write ``texture.png`` (painted by ``painter``, one of the painter's ``PAINTERS``), ``attributes.json``,
    ``captions.txt`` (and ``preview.png``) into ``out``."""
    from cliphead.files import output_folder
    from cliphead.render.views import save_image

    attributes = sampled_record(seed, overrides)
    out = output_folder(out, force)
    out.mkdir(parents=True, exist_ok=True)
    texture = paint_texture(attributes, size, seed=seed, painter=painter)
    save_image(out / "texture.png", texture)
    (out / "attributes.json").write_text(attributes.to_json() + "\n")
    lines = [paper_caption(attributes, "neutral")]
    lines += captions(attributes, "neutral", {}, np.random.default_rng(seed), max(0, n_captions - 1))
    (out / "captions.txt").write_text("\n".join(lines) + "\n")
    payload = {
        "seed": seed,
        "size": size,
        "painter": painter,
        "texture": str(out / "texture.png"),
        "attributes": json.loads(attributes.to_json()),
        "captions": str(out / "captions.txt"),
        "caption_examples": lines[:3],
    }
    if preview:
        payload["preview"] = str(save_image(out / "preview.png", preview_image(texture)))
    return payload
