"""Figures of the neural head model: training curves and grids of rendered heads (notebook 01)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cliphead.files import atomic_path
from cliphead.heads.neural import BOX_CENTRE
from cliphead.heads.surfaces import Head
from cliphead.render import named_camera, render

#: Every head of a grid is seen by the same camera, so sizes compare.
CAMERA_DISTANCE_CM = 62.0


def save_figure(figure: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)
    return Path(path)


def render_head(head: Head, view: str = "three_quarter", size: int = 256, kind: str = "normal") -> np.ndarray:
    """One head seen from a fixed camera aimed at the model's box centre."""
    camera = named_camera(view, target=tuple(BOX_CENTRE), distance=CAMERA_DISTANCE_CM, size=size)
    return render(kind, head.vertices, head.faces, camera)


def head_grid_figure(
    heads: Sequence[Sequence[Head]],
    path: Path,
    title: str,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    view: str = "three_quarter",
    size: int = 256,
) -> Path:
    """A grid of rendered heads (normal maps, the ControlNet convention), rows × columns."""
    n_rows, n_columns = len(heads), max(len(row) for row in heads)
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(1.9 * n_columns, 1.9 * n_rows + 0.4), squeeze=False)
    for r, row in enumerate(heads):
        for c in range(n_columns):
            axis = axes[r, c]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if c < len(row):
                axis.imshow(render_head(row[c], view, size))
            if column_labels is not None and r == 0:
                axis.set_title(column_labels[c], fontsize=8)
            if row_labels is not None and c == 0:
                axis.set_ylabel(row_labels[r], fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)


def training_curves_figure(history: pd.DataFrame, path: Path, title: str) -> Path:
    """Loss terms over training: distances in mm on the left, unitless terms on the right."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, label in (
        ("surface", "surface |SDF|"),
        ("sdf", "SDF samples L1"),
        ("deformation", "deformation error"),
        ("landmarks", "landmark error"),
    ):
        left.plot(history["step"], 10 * history[name], label=label)
    left.set_yscale("log")
    left.set_ylabel("mm")
    left.set_xlabel("step")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for name, label in (
        ("normal", "1 − cos(normal)"),
        ("eikonal", "eikonal (‖∇‖ − 1)²"),
        ("still", "still penalty (cm)"),
        ("latent", "latent ‖z‖²"),
    ):
        logged = history[history[name] > 0]  # the first steps' zeros (no deformation yet) have no logarithm
        right.plot(logged["step"], logged[name], label=label)
    right.set_yscale("log")
    right.set_xlabel("step")
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path)
