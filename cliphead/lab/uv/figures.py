"""Figures of the aligned-UV evaluation (CLIP-Head §2.2, supplementary §4; notebook 05).

- :func:`qce_heatmap_figure`: heads rendered from several sides, coloured by per-vertex QCE;
- :class:`UVNormalMapMean` + :func:`layout_overlay_figure`: many heads' UV normal maps averaged in
  the shared layout, with the landmarks' mean positions and spread circles on top;
- :func:`per_head_distortion_figure`: per-head QCE / ASE medians of each method as box plots, with
  the paper's medians for reference;
- :func:`defect_repair_figure`: each defect of the corpus as it came, repaired, and its aligned map.

Matplotlib is used through its Agg canvas directly (no pyplot state, no backend switch), and every
PNG is written to a temporary name and moved into place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from cliphead.files import atomic_path
from cliphead.render import coloured, head_cameras
from cliphead.uv.bake import uv_normal_map

#: QCE range of the heatmap colour scale (1 = conformal; everything from 3 up gets the top colour).
QCE_LIMITS = (1.0, 3.0)
#: Yaw angles (degrees) of the heatmap views and their titles.
HEATMAP_VIEWS = {0.0: "front", 45.0: "three-quarter", 180.0: "back (seam)"}
#: Landmark groups of the 68-point Multi-PIE scheme, for colouring the overlay.
LANDMARK_GROUPS = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "outer lips": range(48, 60),
    "inner lips": range(60, 68),
}


def save_figure(figure: Figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG: to a temporary name in the target folder, then moved into place."""
    path = Path(path)
    FigureCanvasAgg(figure)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return path


def vertex_values(vertices: np.ndarray, faces: np.ndarray, face_values: np.ndarray) -> np.ndarray:
    """Per-vertex area-weighted mean of per-face values (N,); vertices on no face get NaN."""
    corners = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    weighted = np.bincount(faces.ravel(), np.repeat(area * face_values, 3), minlength=len(vertices))
    total = np.bincount(faces.ravel(), np.repeat(area, 3), minlength=len(vertices))
    with np.errstate(invalid="ignore", divide="ignore"):
        return weighted / total


def qce_colours(
    vertices: np.ndarray, faces: np.ndarray, face_qce: np.ndarray, limits=QCE_LIMITS, cmap: str = "viridis"
) -> np.ndarray:
    """RGB (N, 3) per vertex from per-face QCE, clipped to ``limits`` (infinite QCE, a flip, → the top)."""
    clipped = np.clip(np.where(np.isfinite(face_qce), face_qce, limits[1]), *limits)
    values = vertex_values(vertices, faces, clipped)
    values = np.where(np.isfinite(values), values, limits[1])
    return colormaps[cmap](Normalize(*limits)(values))[:, :3]


def qce_heatmap_figure(
    heads: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    path: str | os.PathLike,
    views: Mapping[float, str] = HEATMAP_VIEWS,
    size: int = 360,
    limits=QCE_LIMITS,
    cmap: str = "viridis",
    title: str | None = None,
) -> Path:
    """One row per head, one column per view, coloured by per-vertex QCE, with a colour bar.

    ``heads``: (label, vertices, faces, per-face QCE) tuples; the QCE is averaged onto the vertices
    (area-weighted) and clipped to ``limits``. Shading darkens the colours a little on faces turned
    away from the light; the colour bar gives the unshaded scale.
    """
    if not heads:
        raise ValueError("qce_heatmap_figure needs at least one head")
    figure = Figure(figsize=(2.6 * len(views) + 1.0, 2.7 * len(heads)))
    axes = np.atleast_2d(figure.subplots(len(heads), len(views), squeeze=False))
    for row, (label, vertices, faces, face_qce) in enumerate(heads):
        colours = qce_colours(vertices, faces, face_qce, limits, cmap)
        cameras = head_cameras(vertices, tuple(views), size=size)
        finite = face_qce[np.isfinite(face_qce)]
        median = float(np.median(face_qce)) if len(face_qce) else float("nan")
        for column, (yaw, view_name) in enumerate(views.items()):
            ax = axes[row, column]
            ax.imshow(coloured(vertices, faces, cameras[str(yaw)], colours, shade=True))
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if row == 0:
                ax.set_title(view_name, fontsize=10)
            if column == 0:
                share = float(np.mean(finite > limits[1])) if len(finite) else float("nan")
                ax.set_ylabel(f"{label}\nmedian QCE {median:.3f}\n{100 * share:.1f}% faces > {limits[1]:g}", fontsize=9)
    bar = figure.colorbar(
        ScalarMappable(Normalize(*limits), colormaps[cmap]), ax=axes, shrink=0.8, pad=0.02, extend="max"
    )
    bar.set_label("quasi-conformal error σ1/σ2 (1 = conformal)")
    if title:
        figure.suptitle(title, fontsize=11)
    return save_figure(figure, path)


class UVNormalMapMean:
    """Running mean of UV normal maps (:func:`cliphead.uv.bake.uv_normal_map`) over heads.

    Each texel is averaged over the heads that cover it; texels no head covers stay white. Where the
    layouts agree the mean stays crisp, where they drift it blurs.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.total = np.zeros((size, size, 3), dtype=np.float64)
        self.count = np.zeros((size, size), dtype=np.int64)

    def add(self, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray) -> None:
        image = uv_normal_map(vertices, faces, uv, self.size)
        covered = image.max(axis=-1) > 0
        self.total[covered] += image[covered]
        self.count += covered

    @property
    def n_heads(self) -> int:
        return int(self.count.max()) if self.count.size else 0

    def mean(self) -> np.ndarray:
        image = np.ones((self.size, self.size, 3), dtype=np.float64)
        covered = self.count > 0
        image[covered] = self.total[covered] / self.count[covered, None]
        return image


def _draw_landmarks(ax, landmarks_uv: np.ndarray, spread: np.ndarray, linewidth: float) -> None:
    mean = landmarks_uv.mean(axis=0)
    palette = colormaps["tab10"]
    for index, (group, members) in enumerate(LANDMARK_GROUPS.items()):
        members = list(members)
        colour = palette(index)
        ax.scatter(
            landmarks_uv[:, members, 0].ravel(),
            landmarks_uv[:, members, 1].ravel(),
            s=1.5,
            color=colour,
            alpha=0.5,
            linewidths=0,
        )
        ax.scatter(
            mean[members, 0], mean[members, 1], s=6, color=colour, edgecolors="black", linewidths=0.3, label=group
        )
        for k in members:
            ax.add_patch(Circle(mean[k], spread[k], fill=False, edgecolor=colour, linewidth=linewidth))


def layout_overlay_figure(
    panels: Sequence[tuple[str, np.ndarray, np.ndarray]],
    path: str | os.PathLike,
    spread_bar: float = 0.01,
    title: str | None = None,
) -> Path:
    """Side-by-side panels of mean UV normal maps with landmark positions and spread circles.

    ``panels``: (label, mean normal map (S, S, 3) with row 0 at v = 1, landmark UVs (H, 68, 2)).
    Top row: the whole layout; bottom row: zoomed onto the landmarks. Small dots are the heads'
    landmarks, bordered dots their means, circles of radius = the per-landmark RMS spread (true scale;
    ``spread_bar`` is drawn as a reference circle in the zoom).
    """
    if not panels:
        raise ValueError("layout_overlay_figure needs at least one panel")
    figure = Figure(figsize=(5.2 * len(panels), 10.6))
    axes = figure.subplots(2, len(panels), squeeze=False)
    everything = np.concatenate([landmarks.reshape(-1, 2) for _, _, landmarks in panels])
    low, high = everything.min(axis=0), everything.max(axis=0)
    centre, half = (low + high) / 2, (high - low).max() / 2 + 0.02
    for column, (label, image, landmarks_uv) in enumerate(panels):
        deviation = landmarks_uv - landmarks_uv.mean(axis=0, keepdims=True)
        spread = np.sqrt((deviation**2).sum(axis=-1).mean(axis=0))
        for row in range(2):
            ax = axes[row, column]
            ax.imshow(image, extent=(0, 1, 0, 1), origin="upper", interpolation="bilinear")
            _draw_landmarks(ax, landmarks_uv, spread, linewidth=0.6 if row else 0.4)
            if row == 0:
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1)
                ax.set_title(
                    f"{label}\n{len(landmarks_uv)} heads; landmark spread mean {spread.mean():.4f}, "
                    f"max {spread.max():.4f} (UV units)",
                    fontsize=9,
                )
            else:
                ax.set_xlim(centre[0] - half, centre[0] + half)
                ax.set_ylim(centre[1] - half, centre[1] + half)
                reference = (centre[0] - half + 0.02, centre[1] - half + 0.02)
                ax.add_patch(
                    Circle(reference, spread_bar, fill=False, edgecolor="black", linestyle="--", linewidth=0.8)
                )
                ax.annotate(
                    f"radius {spread_bar:g} (bar)",
                    (reference[0] + spread_bar + 0.004, reference[1]),
                    fontsize=8,
                    va="center",
                )
                ax.set_title("zoom on the landmarks (circles: per-landmark RMS spread)", fontsize=9)
            ax.set_xlabel("u")
            ax.set_ylabel("v")
            ax.set_aspect("equal")
    axes[1, -1].legend(loc="upper right", fontsize=7, markerscale=2, framealpha=0.8)
    if title:
        figure.suptitle(title, fontsize=11)
    return save_figure(figure, path)


def per_head_distortion_figure(
    per_head,
    path: str | os.PathLike,
    methods: Sequence[str] | None = None,
    paper: Mapping[str, tuple[float, float]] | None = None,
    title: str | None = None,
) -> Path:
    """Box plots (with every head as a dot) of the per-head QCE and ASE medians of each method.

    ``per_head``: a DataFrame with columns ``method``, ``qce_median``, ``ase_median``; ``paper``:
    method → (QCE median, ASE median) reported by the paper, drawn as dashed reference marks.
    """
    methods = list(methods) if methods is not None else list(dict.fromkeys(per_head["method"]))
    figure = Figure(figsize=(max(7.0, 2.2 * len(methods) * 2), 4.6))
    axes = figure.subplots(1, 2)
    rng = np.random.default_rng(0)
    for ax, column, name, ideal in (
        (axes[0], "qce_median", "per-head median QCE (ideal 1)", 1.0),
        (axes[1], "ase_median", "per-head median ASE (ideal 0)", 0.0),
    ):
        values = [per_head.loc[per_head["method"] == method, column].to_numpy(dtype=float) for method in methods]
        positions = np.arange(1, len(methods) + 1)
        ax.boxplot(values, positions=positions, widths=0.5, showfliers=False)
        for position, data in zip(positions, values):
            ax.scatter(position + rng.uniform(-0.12, 0.12, len(data)), data, s=9, alpha=0.6, color="tab:blue", zorder=3)
        if paper:
            index = 0 if column == "qce_median" else 1
            for position, method in zip(positions, methods):
                if method in paper:
                    value = paper[method][index]
                    ax.hlines(value, position - 0.3, position + 0.3, colors="tab:red", linestyles="--", zorder=4)
                    ax.annotate(
                        f"paper {value:g}",
                        (position, value),
                        xytext=(0, 2),
                        textcoords="offset points",
                        fontsize=7,
                        color="tab:red",
                        ha="center",
                        va="bottom",
                    )
        ax.axhline(ideal, color="grey", linewidth=0.6, linestyle=":")
        ax.set_xticks(positions)
        ax.set_xticklabels([method.replace("+", "\n+") for method in methods], fontsize=8)
        ax.set_xlim(0.5, len(methods) + 0.5)
        ax.set_ylabel(name)
        ax.grid(axis="y", alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=11)
    return save_figure(figure, path)


def _shaded_view(vertices: np.ndarray, faces: np.ndarray, size: int) -> np.ndarray:
    """A three-quarter shaded render of a mesh, framed whatever its frame."""
    from cliphead.render import shaded

    camera = head_cameras(vertices, (35.0,), size)["35.0"]
    return shaded(vertices, faces, camera)


def defect_repair_figure(shown: Mapping[str, tuple], path: str | os.PathLike, size: int = 192) -> Path:
    """Per defect: the mesh as it came (its own frame), repaired (ICT frame) and its aligned UV normal map."""
    names = list(shown)
    columns = 2
    rows = (len(names) + columns - 1) // columns
    figure = Figure(figsize=(3 * 1.9 * columns, 2.15 * rows), layout="constrained")
    for index, name in enumerate(names):
        case, result = shown[name]
        pictures = [_shaded_view(case.vertices, case.faces, size)]
        if result is not None:
            aligned = result.aligned
            pictures += [_shaded_view(result.prepared.vertices, result.prepared.faces, size)]
            pictures += [uv_normal_map(aligned.vertices, aligned.faces, aligned.uv, size)]
        for k, picture in enumerate(pictures):
            ax = figure.add_subplot(rows, 3 * columns, index * 3 + k + 1)
            ax.imshow(np.clip(picture, 0, 1))
            ax.set_axis_off()
            if k == 0:
                ax.set_title(name if result is not None else f"{name}: refused", fontsize=8, loc="left")
    figure.suptitle("Defects as they came, repaired, and their aligned maps", fontsize=10)
    return save_figure(figure, path)
