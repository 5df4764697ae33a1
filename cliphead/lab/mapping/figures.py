"""Figures of pair generation and mapper training (notebooks 03 and 04)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cliphead.lab.world.geometry import GEOMETRY_MEASURES
from cliphead.lab.heads.figures import render_head, save_figure
from cliphead.heads.surfaces import Head


def _bare(axis) -> None:
    axis.set_xticks([])
    axis.set_yticks([])
    for spine in axis.spines.values():
        spine.set_visible(False)


def pair_samples_figure(
    normals: np.ndarray, images: np.ndarray, prompts: Sequence[str], nearest: Sequence[Sequence[str]], path: Path
) -> Path:
    """Per pair (column): the normal map, the synthesised image, its template prompt and nearest captions."""
    n = len(images)
    figure, axes = plt.subplots(3, n, figsize=(2.3 * n, 7.2), squeeze=False, gridspec_kw={"height_ratios": [1, 1, 1.3]})
    for k in range(n):
        axes[0, k].imshow(normals[k])
        axes[1, k].imshow(images[k])
        text = "prompt: " + "\n".join(textwrap.wrap(prompts[k], 28)) + "\n\nnearest captions:\n"
        text += "\n".join("• " + "\n  ".join(textwrap.wrap(caption, 26)) for caption in nearest[k])
        axes[2, k].text(0.0, 1.0, text, fontsize=6, va="top", ha="left", transform=axes[2, k].transAxes)
        for row in range(3):
            _bare(axes[row, k])
    axes[0, 0].set_ylabel("normal map", fontsize=8)
    axes[1, 0].set_ylabel("synthesised image", fontsize=8)
    figure.suptitle("Identity pairs: rotated neutral head → normal map → appearance step → image (ψ = its embedding)")
    figure.tight_layout()
    return save_figure(figure, path)


def pair_statistics_figure(
    yaw: np.ndarray, measures: np.ndarray, sigma: np.ndarray, tertiles: dict[str, tuple[float, float]], path: Path
) -> Path:
    """Histograms: view yaw, the codes' distance from the mean, and every geometry measure with its tertiles."""
    figure, axes = plt.subplots(3, 4, figsize=(12, 7.5))
    axes = axes.ravel()
    axes[0].hist(yaw, bins=24, color="#4c72b0")
    axes[0].set_title("view yaw (degrees)", fontsize=9)
    axes[1].hist(sigma, bins=24, color="#55a868")
    axes[1].set_title("identity code RMS (σ units)", fontsize=9)
    for k, name in enumerate(GEOMETRY_MEASURES):
        axis = axes[k + 2]
        axis.hist(measures[:, k], bins=24, color="#8172b2")
        for value in tertiles[name]:
            axis.axvline(value, color="#c44e52", lw=1)
        axis.set_title(f"{name} (cm)", fontsize=9)
    axes[-1].axis("off")
    figure.suptitle("Identity pairs: views, codes and measured shapes (red: the population's tertiles)")
    figure.tight_layout()
    return save_figure(figure, path)


def mapper_curves_figure(histories: dict[str, pd.DataFrame], path: Path) -> Path:
    """Training L2 and held-out MSE per epoch, one panel per mapper, one line per run."""
    mappers = sorted({name.split(" · ")[0] for name in histories})
    figure, axes = plt.subplots(1, len(mappers), figsize=(6 * len(mappers), 3.6), squeeze=False)
    for axis, mapper in zip(axes[0], mappers):
        for name, history in histories.items():
            if not name.startswith(mapper):
                continue
            label = name.split(" · ", 1)[1]
            line = axis.plot(history["epoch"], history["held_out_mse"], label=f"{label}: held-out")[0]
            axis.plot(history["epoch"], history["train_l2"], ls="--", color=line.get_color(), label=f"{label}: train")
        axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel("MSE of the latent")
        axis.set_title(mapper)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return save_figure(figure, path)


def text_to_head_gallery(
    heads: Sequence[Head], prompts: Sequence[str], path: Path, title: str, columns: int = 6
) -> Path:
    """Rendered heads (normal maps, three-quarter view) under their prompts."""
    rows = int(np.ceil(len(heads) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 2.5 * rows), squeeze=False)
    for k, axis in enumerate(axes.ravel()):
        _bare(axis)
        if k < len(heads):
            axis.imshow(render_head(heads[k], "three_quarter", 224))
            axis.set_title("\n".join(textwrap.wrap(prompts[k], 26)), fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)


def faithfulness_figure(summary: pd.DataFrame, path: Path, title: str) -> Path:
    """Accuracy per expression label (one bar per prompt set) and per geometry word, against chance."""
    figure, axes = plt.subplots(1, 2, figsize=(14, 4.4), gridspec_kw={"width_ratios": [23, 18]})
    for axis, kind in zip(axes, ("expression", "geometry")):
        rows = summary[summary["kind"] == kind]
        sets = list(dict.fromkeys(rows["prompt_set"]))
        words = list(dict.fromkeys(rows["word"]))
        width = 0.8 / max(len(sets), 1)
        for k, prompt_set in enumerate(sets):
            values = rows[rows["prompt_set"] == prompt_set].set_index("word")["accuracy"].reindex(words)
            axis.bar(np.arange(len(words)) + (k - (len(sets) - 1) / 2) * width, values, width, label=prompt_set)
        if len(rows):
            axis.axhline(float(rows["chance"].iloc[0]), color="#c44e52", ls="--", label="chance")
        axis.set_xticks(range(len(words)))
        axis.set_xticklabels(words, rotation=70, fontsize=7, ha="right")
        axis.set_ylim(0, 1.05)
        axis.set_title(f"{kind} prompts", fontsize=9)
        axis.legend(fontsize=7)
    axes[0].set_ylabel("faithful share of held-out prompts")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)


def label_similarity_figure(labels: Sequence[str], similarity: np.ndarray, path: Path, title: str) -> Path:
    """Mean text-embedding cosine between the expression labels' training prompts."""
    figure, axis = plt.subplots(figsize=(7.5, 6.5))
    image = axis.imshow(similarity, cmap="viridis")
    axis.set_xticks(range(len(labels)))
    axis.set_xticklabels(labels, rotation=80, fontsize=7)
    axis.set_yticks(range(len(labels)))
    axis.set_yticklabels(labels, fontsize=7)
    figure.colorbar(image, ax=axis, fraction=0.046, label="mean cosine")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return save_figure(figure, path)
