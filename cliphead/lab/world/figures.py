"""Figures of the appearance world and the embedded encoder (notebook 02_appearance_world)."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.regions import RegionMasks
from cliphead.lab.heads.figures import save_figure

REGION_COLOURS = {
    "scalp": "#8c564b",
    "ears": "#e377c2",
    "neck": "#7f7f7f",
    "face": "#f4c7a1",
    "beard": "#bcbd22",
    "forehead": "#17becf",
    "nose": "#ff7f0e",
    "moustache": "#2ca02c",
    "chin": "#9467bd",
    "lips": "#d62728",
    "eyes": "#1f77b4",
}


def region_map_figure(regions: RegionMasks, path: Path) -> Path:
    """The semantic regions of the aligned layout, each in its colour, over the layout's disk."""
    size = regions.texels.size
    image = np.ones((size, size, 3), dtype=np.float32)
    image[regions["skin"] > 0.5] = 0.85
    for name, colour in REGION_COLOURS.items():
        rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)], dtype=np.float32)
        alpha = (regions[name] > 0.5)[..., None]
        image = np.where(alpha, rgb, image)
    figure, axes = plt.subplots(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1, 1]})
    axes[0].imshow(image)
    axes[0].set_title("regions of the aligned layout")
    crop = slice(int(0.33 * size), int(0.72 * size))
    axes[1].imshow(image[crop, crop], extent=(crop.start, crop.stop, crop.stop, crop.start))
    axes[1].scatter(*regions.texels.landmarks_px.T, s=6, c="k")
    axes[1].set_title("the face, with the 68 landmark targets")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in REGION_COLOURS.values()]
    figure.legend(handles, list(REGION_COLOURS), loc="lower center", ncol=6, frameon=False)
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    return save_figure(figure, path)


def texture_grid_figure(
    textures: Sequence[np.ndarray], renders: Sequence[np.ndarray], captions: Sequence[str], path: Path
) -> Path:
    """Each column: a painted texture (face crop of the layout), its render, and one of its captions."""
    n = len(textures)
    figure, axes = plt.subplots(2, n, figsize=(2.3 * n, 5.6))
    for k, (texture, render, caption) in enumerate(zip(textures, renders, captions)):
        size = texture.shape[0]
        axes[0, k].imshow(texture[int(0.25 * size) : int(0.8 * size), int(0.22 * size) : int(0.78 * size)])
        axes[1, k].imshow(render)
        axes[1, k].set_xlabel("\n".join(textwrap.wrap(caption, 28)[:5]), fontsize=7)
        for axis in axes[:, k]:
            axis.set_xticks([])
            axis.set_yticks([])
    axes[0, 0].set_ylabel("texture (upper layout)")
    axes[1, 0].set_ylabel("render")
    return save_figure(figure, path)


def _face_label(record: Attributes) -> str:
    """What a record puts in the face window, in a few words."""
    words = [f"Monk tone {record.skin_tone}", f"{record.eye_colour} eyes", f"{record.brows} {record.brow_colour} brows"]
    if record.lipstick != "none":
        words.append(f"{record.lipstick} lipstick")
    if record.beard != "none":
        words.append(f"{record.beard_colour} {record.beard}")
    if record.style != "none":
        words.append(record.style)
    return ", ".join(words)


#: The six records of ``figures/painter_styles.png``: skin tones, eye and brow colours, lipstick, beards, a style.
PAINTER_STYLE_RECORDS = (
    Attributes(
        skin_tone=2, hair_colour="blonde", eye_colour="blue", brows="thin", brow_colour="blonde", lipstick="red"
    ),
    Attributes(
        skin_tone=9, hair_colour="black", brows="thick", brow_colour="black", beard="full beard", beard_colour="black"
    ),
    Attributes(skin_tone=5, hair="bald", eye_colour="green", age="old", beard="moustache", beard_colour="grey"),
    Attributes(skin_tone=3, hair_colour="red", freckles=True, blush=True, eye_colour="hazel", brow_colour="red"),
    Attributes(
        skin_tone=7, hair_colour="pink", lipstick="purple", eye_colour="grey", brows="thick", brow_colour="black"
    ),
    Attributes(skin_tone=4, hair="receding", hair_colour="grey", brow_colour="grey", style="zombie", age="old"),
)


def painter_styles_figure(
    path: Path, records: Sequence[Attributes] = PAINTER_STYLE_RECORDS, size: int = 512, seed: int = 0
) -> Path:
    """The face windows of the same records painted by each painter: one row per painter, one column per record.

    Record ``k`` is painted with noise seed ``seed + k`` by both painters; each panel says whether
    MediaPipe's face detector finds a face in it (:func:`cliphead.lab.world.face_check.face_detected`).
    """
    from cliphead.lab.world.face_check import face_detected, face_window
    from cliphead.lab.world.painter import PAINTERS, paint_texture

    figure, axes = plt.subplots(len(PAINTERS), len(records), figsize=(2.4 * len(records), 3.0 * len(PAINTERS)))
    for row, painter in enumerate(PAINTERS):
        for column, record in enumerate(records):
            texture = paint_texture(record, size, seed + column, painter)
            axis = axes[row, column]
            axis.imshow(np.clip(face_window(texture), 0.0, 1.0))
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_title("face found" if face_detected(texture) else "no face", fontsize=8)
            if row == len(PAINTERS) - 1:
                axis.set_xlabel("\n".join(textwrap.wrap(_face_label(record), 30)[:5]), fontsize=6)
        axes[row, 0].set_ylabel(f"{painter} painter", fontsize=10)
    figure.suptitle("Face windows of painter textures (the landmarks' box, 1.8x its side), flat, unlit", fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)


def attribute_distribution_figure(records: Sequence[Attributes], geometry: Sequence[dict], path: Path) -> Path:
    """Bar charts of how often each attribute value (and each geometry word) is drawn."""
    fields = ["skin_bucket", "hair_colour", "hair", "beard", "lipstick", "age", "style"]
    figure, axes = plt.subplots(2, 4, figsize=(16, 7))
    for axis, field in zip(axes.flat, fields):
        values = Counter(
            r.skin_bucket
            if field == "skin_bucket"
            else r.hair_colour
            if r.has_hair
            else "(bald)"
            if field == "hair_colour"
            else getattr(r, field)
            for r in records
        )
        names = sorted(values, key=values.get, reverse=True)
        axis.barh(names, [values[n] / len(records) for n in names], color="#4c72b0")
        axis.invert_yaxis()
        axis.set_title(field)
        axis.tick_params(labelsize=8)
    words = Counter(word for g in geometry for word in g.values() if word)
    names = sorted(words)
    axes.flat[-1].barh(names, [words[n] / len(geometry) for n in names], color="#55a868")
    axes.flat[-1].invert_yaxis()
    axes.flat[-1].set_title("geometry words (per render)")
    axes.flat[-1].tick_params(labelsize=7)
    figure.suptitle(f"Attribute distribution over {len(records)} records (fraction of records)")
    figure.tight_layout()
    return save_figure(figure, path)


def zero_shot_figure(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Zero-shot accuracy per attribute (training wording and the held-out prompt sets) against chance."""
    zero = table[table["metric"] == "zero-shot accuracy"]
    attributes = list(dict.fromkeys(zero["attribute"]))
    figure, axis = plt.subplots(figsize=(13, 4.4))
    x = np.arange(len(attributes))
    sets = (("training wording", "#4c72b0"), ("held-out frames", "#55a868"), ("held-out words and frames", "#dd8452"))
    for offset, (prompt_set, colour) in zip((-0.27, 0.0, 0.27), sets):
        rows = zero[zero["prompt_set"] == prompt_set].set_index("attribute")
        present = [a for a in attributes if a in rows.index]
        positions = [x[attributes.index(a)] + offset for a in present]
        axis.bar(positions, rows.loc[present, "value"], 0.27, label=prompt_set, color=colour)
    chance = zero[zero["prompt_set"] == "training wording"].set_index("attribute")["chance"]
    axis.scatter(x, chance.loc[attributes], marker="_", s=300, c="k", label="chance (majority class)", zorder=3)
    axis.axhline(0.85, color="#c44e52", lw=0.8, ls="--", label="bar for colour attributes (0.85)")
    axis.set_xticks(x, attributes, rotation=35, ha="right", fontsize=8)
    axis.set_ylim(0, 1)
    axis.set_ylabel("accuracy on held-out renders")
    axis.set_title(title)
    axis.legend(fontsize=8, ncol=2)
    return save_figure(figure, path)


def beard_binding_figure(table: pd.DataFrame, path: Path) -> Path:
    """Zero-shot beard colour by what the hair shows, beside the caption oracle (``cliphead.lab.clip.binding``)."""
    rows = table[table["metric"].str.startswith("beard colour")].set_index("metric")
    groups = [m for m in rows.index if m.startswith("beard colour zero-shot:") and "wrong answers" not in m]
    labels = [textwrap.fill(m.split(": ", 1)[1], 16) for m in groups] + ["caption oracle:\nsentences,\nbeard ≠ hair"]
    shown = [*groups, "beard colour caption oracle: right"]
    values = [rows.loc[m, "value"] for m in shown]
    counts = [int(rows.loc[m, "images"]) for m in shown]
    figure, axis = plt.subplots(figsize=(7.5, 3.6))
    bars = axis.bar(range(len(values)), values, color=["#55a868", "#c44e52", "#4c72b0", "#8172b2"][: len(values)])
    for bar, count in zip(bars, counts):
        axis.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.02, f"n={count}", ha="center", fontsize=8)
    axis.axhline(0.85, color="k", lw=0.8, ls="--", label="bar (0.85)")
    axis.set_xticks(range(len(values)), labels, fontsize=8)
    axis.set_ylim(0, 1.1)
    axis.set_ylabel("beard colour named right")
    axis.set_title("Zero-shot beard colour reads the hair's colour", fontsize=10)
    axis.legend(fontsize=8)
    return save_figure(figure, path)


def retrieval_figure(prompts: Sequence[str], images: np.ndarray, scores: np.ndarray, path: Path, top: int = 5) -> Path:
    """For each free-form prompt (row), the ``top`` renders with the highest CLIP score."""
    figure, axes = plt.subplots(len(prompts), top, figsize=(1.9 * top, 2.0 * len(prompts)))
    for row, prompt in enumerate(prompts):
        best = np.argsort(-scores[row])[:top]
        for column, index in enumerate(best):
            axis = axes[row, column]
            axis.imshow(images[index])
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_xlabel(f"{scores[row, index]:.3f}", fontsize=7)
        axes[row, 0].set_ylabel("\n".join(textwrap.wrap(prompt, 22)), fontsize=7, rotation=0, ha="right", va="center")
    figure.suptitle("Free-form prompts → the held-out renders with the highest CLIP score (lit-minilm)")
    figure.tight_layout()
    return save_figure(figure, path)


def lit_training_figure(history: pd.DataFrame, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(7, 3.4))
    axis.plot(history["step"], history["loss"], color="#4c72b0")
    axis.set_xlabel("step")
    axis.set_ylabel("symmetric InfoNCE loss")
    twin = axis.twinx()
    twin.plot(history["step"], history["temperature"], color="#dd8452")
    twin.set_ylabel("temperature", color="#dd8452")
    axis.set_title("LiT training of the image tower (text tower locked)")
    return save_figure(figure, path)
