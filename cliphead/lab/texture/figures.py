"""Figures of notebooks 06 and 07: training triples, curves, samples over training, control strength,
held-out prompts and the texture evaluation."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cliphead.lab.heads.figures import save_figure
from cliphead.lab.texture.data import TextureTriples


def _wrapped(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width))


def training_triples_figure(triples: TextureTriples, path: Path, n: int = 5) -> Path:
    """Rows: UV normal map and texture of the whole layout, then of the face window, with a caption."""
    figure, axes = plt.subplots(n, 4, figsize=(9.5, 2.5 * n))
    titles = ("UV normal map", "texture", "face window: normals", "face window: texture")
    for row in range(n):
        images = (
            triples.normals_whole[row],
            triples.textures_whole[row],
            triples.normals_face[row],
            triples.textures_face[row],
        )
        for column, image in enumerate(images):
            axis = axes[row, column]
            axis.imshow(image)
            axis.set(xticks=[], yticks=[])
            if row == 0:
                axis.set_title(titles[column], fontsize=9)
        axes[row, 0].set_ylabel(
            _wrapped(str(triples.captions[row, 0]), 30), fontsize=7, rotation=0, ha="right", va="center"
        )
    figure.suptitle("ControlNet_uv training triples (normal map of a head-model identity, painted texture, caption)")
    return save_figure(figure, path)


def training_curves_figure(history: pd.DataFrame, path: Path) -> Path:
    """Loss per step of each phase (light) with its running mean over 50 steps."""
    phases = list(dict.fromkeys(history["phase"]))
    figure, axes = plt.subplots(1, len(phases), figsize=(4.2 * len(phases), 3.2))
    for axis, phase in zip(np.atleast_1d(axes), phases):
        losses = history[history["phase"] == phase]
        axis.plot(losses["step"], losses["loss"], alpha=0.25, lw=0.8)
        axis.plot(losses["step"], losses["loss"].rolling(50, min_periods=1).mean(), lw=1.6)
        axis.set(title=phase, xlabel="step", ylabel="L1 + colour L1 + KL" if phase == "autoencoder" else "v MSE")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
    return save_figure(figure, path)


def snapshots_figure(steps: np.ndarray, textures: np.ndarray, prompts: Sequence[str], path: Path) -> Path:
    """The snapshot prompts' textures (rows) after each logged ControlNet step (columns)."""
    n_steps, n_prompts = textures.shape[:2]
    figure, axes = plt.subplots(n_prompts, n_steps, figsize=(2.3 * n_steps, 2.5 * n_prompts), squeeze=False)
    for column in range(n_steps):
        for row in range(n_prompts):
            axis = axes[row, column]
            axis.imshow(textures[column, row])
            axis.set(xticks=[], yticks=[])
            if row == 0:
                axis.set_title(f"step {int(steps[column])}", fontsize=9)
            if column == 0:
                axis.set_ylabel(_wrapped(prompts[row], 24), fontsize=7)
    figure.suptitle("Samples over ControlNet training (same normal map, seed and prompts)")
    return save_figure(figure, path)


def control_strength_figure(
    textures: np.ndarray, renders: np.ndarray, strengths: Sequence[float], prompt: str, path: Path
) -> Path:
    """Textures and renders of one prompt, head and seed under increasing control strength."""
    figure, axes = plt.subplots(2, len(strengths), figsize=(2.4 * len(strengths), 5.0))
    for column, strength in enumerate(strengths):
        axes[0, column].imshow(textures[column])
        axes[1, column].imshow(renders[column])
        axes[0, column].set_title(f"strength {strength:g}", fontsize=9)
        for axis in axes[:, column]:
            axis.set(xticks=[], yticks=[])
    figure.suptitle(_wrapped(f"Control strength sweep: {prompt!r}", 90), fontsize=10)
    return save_figure(figure, path)


def gallery_figure(
    prompts: Sequence[str], textures: Sequence[np.ndarray], renders: Sequence[np.ndarray], path: Path
) -> Path:
    """Each prompt's texture above its textured render."""
    figure, axes = plt.subplots(2, len(prompts), figsize=(2.3 * len(prompts), 5.4), squeeze=False)
    for column, (prompt, texture, render) in enumerate(zip(prompts, textures, renders)):
        axes[0, column].imshow(np.clip(texture, 0, 1))
        axes[1, column].imshow(np.clip(render, 0, 1))
        axes[1, column].set_xlabel(_wrapped(prompt, 26), fontsize=7)
        for axis in axes[:, column]:
            axis.set(xticks=[], yticks=[])
    return save_figure(figure, path)


def evaluation_figure(frame: pd.DataFrame, path: Path) -> Path:
    """Attribute accuracy per attribute (rectified and full textures) and the CLIP scores' distributions."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    accuracy = frame.groupby("attribute", sort=False)[["found", "found_full"]].mean()
    positions = np.arange(len(accuracy))
    left.bar(positions - 0.2, accuracy["found"], 0.4, label="rectified texture")
    left.bar(positions + 0.2, accuracy["found_full"], 0.4, label="full texture")
    left.axhline(0.8, color="k", ls="--", lw=1, label="bar (colour attributes)")
    left.set(xticks=positions, ylim=(0, 1.05), ylabel="requested value found")
    left.set_xticklabels(accuracy.index, rotation=20)
    left.legend(fontsize=7)
    left.set_title("Attribute accuracy on held-out prompts", fontsize=10)
    columns = {
        "generated": "clip_generated",
        "painter reference": "clip_reference",
        "other prompt": "clip_other_prompt",
    }
    right.boxplot([frame[c] for c in columns.values()], tick_labels=list(columns))
    right.set(ylabel="CLIP score (lit-minilm, embedded)")
    right.set_title("CLIP score of textured renders", fontsize=10)
    return save_figure(figure, path)
