"""Rectification of a generated texture's face (CLIP-Head supplementary §3).

A texture generated from the whole UV normal map (the *full* texture) places the small face's
features only roughly; a second one generated from the face window of the normal map zoomed to the
full resolution (the *partial* texture, covering exactly :func:`face_box`) places them better. The
rectification detects landmarks on both (:func:`detect_landmarks`), warps the full texture with a
thin-plate spline that takes its facial features to the partial texture's, and pastes the partial
texture into the face window with a feathered edge, so the seam falls on matching content.

The method rests on the partial texture placing the features better. Since the aligned layout fixes
where every landmark belongs (:func:`~cliphead.uv.layout.landmark_targets`), that can be checked
before anything is warped: when the partial texture's detected features are no closer to their
targets than the full texture's, pasting it would move the face away from the geometry, and the
full texture is kept with that reason.

When no face is found on the full texture but one is on the partial texture, there is nothing to warp,
and the full texture's face is unreadable: the partial texture is pasted as it was generated
(``paste_unwarped``), since its face is the one the detector can read.

The warp is local: it is evaluated inside the face window only, with the window's border held fixed,
and the rest of the texture is only resampled to the output size.
"""

from __future__ import annotations

import logging
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy.interpolate import RBFInterpolator

from cliphead.texture.crop import face_box
from cliphead.uv.layout import landmark_targets
from cliphead.texture.landmarks import (
    IBUG_TO_MEDIAPIPE,
    detect_landmarks,
    feature_indices,
    landmark_error,
    resize_image,
)

log = logging.getLogger(__name__)

#: The pasted partial texture fades out over this fraction of the face window's side, at its border.
FEATHER = 0.1
#: Fixed points per side of the face window that keep the warp inside it.
ANCHORS_PER_SIDE = 16
#: Thin-plate spline smoothing of the landmark correspondences (coordinates in texture widths). It
#: leaves about 1 px of 512 between a moved feature and its target and keeps the warp from folding
#: where features moved by 3% of the width must come back to rest at the window's border.
WARP_SMOOTHING = 1e-3


@dataclass(frozen=True)
class Rectification:
    """A rectified texture and what it was found from; landmarks in pixels of the ``out_size`` texture."""

    texture: np.ndarray  # (out_size, out_size, 3) float32 in [0, 1]
    full_landmarks: np.ndarray | None  # (478, 2) found on the full texture
    partial_landmarks: np.ndarray | None  # (478, 2) found on the partial texture
    rectified_landmarks: np.ndarray | None  # (478, 2) found again on the result (None if not rectified)
    error_before: float | None  # landmark error of the full texture, in texture widths
    error_partial: float | None  # landmark error of the partial texture (placed in the layout), in texture widths
    error_after: float | None  # landmark error of the result, in texture widths
    rectified: bool
    reason: str | None = None  # why the texture was left as it was
    warped: bool = False  # whether the full texture was warped before the paste (not when it shows no face)


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of an ``(S, S, C)`` image at ``(n, 2)`` pixel positions (column, row)."""
    size = image.shape[0]
    grid = torch.from_numpy((points + 0.5) / size * 2.0 - 1.0).float().view(1, 1, -1, 2)
    source = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    samples = F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return samples[0, :, 0].T.numpy()


def _window_pixels(size: int) -> tuple[tuple[slice, slice], np.ndarray]:
    """The pixels whose centres lie in the face window: as (rows, columns) slices, and their (column, row) positions."""
    left, top, side = face_box().pixels(size)
    # Pixel k covers [k - 0.5, k + 0.5], so the window spans [left - 0.5, left + side - 0.5].
    columns = np.arange(math.ceil(left - 0.5), math.floor(left + side - 0.5) + 1)
    rows = np.arange(math.ceil(top - 0.5), math.floor(top + side - 0.5) + 1)
    grid_rows, grid_columns = np.meshgrid(rows, columns, indexing="ij")
    window = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    return window, np.stack([grid_columns.ravel(), grid_rows.ravel()], axis=1).astype(np.float64)


def warp_face(texture: np.ndarray, source_points: np.ndarray, target_points: np.ndarray) -> np.ndarray:
    """The texture warped by a thin-plate spline moving ``source_points`` to ``target_points`` (pixels).

    Backward mapping: each output pixel in the face window samples the texture where the spline,
    fitted from the target points (and the window's border, held fixed) to the source points, sends
    it. Pixels outside the window are kept.
    """
    size = texture.shape[0]
    left, top, side = face_box().pixels(size)
    corners = np.array([[left, top], [left + side, top], [left + side, top + side], [left, top + side]]) - 0.5
    steps = np.linspace(0.0, 1.0, ANCHORS_PER_SIDE, endpoint=False)[:, None]
    border = np.concatenate([start + steps * (end - start) for start, end in zip(corners, np.roll(corners, -1, 0))])
    spline = RBFInterpolator(
        np.concatenate([target_points, border]) / size,
        np.concatenate([source_points - target_points, np.zeros_like(border)]) / size,
        kernel="thin_plate_spline",
        smoothing=np.concatenate([np.full(len(target_points), WARP_SMOOTHING), np.zeros(len(border))]),
    )
    window, positions = _window_pixels(size)
    warped = texture.copy()
    sources = positions + spline(positions / size) * size
    warped[window] = _sample(texture, sources).reshape(warped[window].shape)
    return warped


def paste_face(texture: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """The partial texture pasted into the texture's face window, fading out over the window's outer ``FEATHER``."""
    size = texture.shape[0]
    left, top, side = face_box().pixels(size)
    partial = resize_image(partial, min(partial.shape[0], math.ceil(side)))  # antialiased if much larger
    window, positions = _window_pixels(size)
    fractions = (positions + 0.5 - [left, top]) / side  # position in the window, 0 … 1 along each axis
    weight = np.clip(np.minimum(fractions, 1.0 - fractions) / FEATHER, 0.0, 1.0).prod(axis=1, keepdims=True)
    pasted = texture.copy()
    below = pasted[window].reshape(len(positions), -1)
    blended = weight * _sample(partial, fractions * partial.shape[0] - 0.5) + (1.0 - weight) * below
    pasted[window] = blended.reshape(pasted[window].shape)
    return pasted


def _reason_to_skip(error_before: float | None, error_partial: float | None) -> str | None:
    """Why the rectification cannot help (no face on a texture, or a partial texture placed no better), or None."""
    missing = [name for name, error in (("full", error_before), ("partial", error_partial)) if error is None]
    if len(missing) == 2:
        return "no face found on either texture"
    if missing:
        return f"no face found on the {missing[0]} texture"
    if error_partial >= error_before:
        return (
            "the partial texture's features are no closer to the layout's landmarks than the full texture's "
            f"({error_partial:.2%} against {error_before:.2%} of the width)"
        )
    return None


def rectify(
    full: np.ndarray,
    partial: np.ndarray,
    full_normals: np.ndarray,
    partial_normals: np.ndarray,
    out_size: int = 512,
    paste_unwarped: bool = True,
) -> Rectification:
    """Rectify the full texture's face with the partial texture (CLIP-Head supplementary §3).

    ``full`` is an ``(S, S, 3)`` layout texture and ``full_normals`` the UV normal map it was generated
    from (same size); ``partial`` is a ``(C, C, 3)`` texture of the face window and ``partial_normals``
    the same window of the normal map at size C. All in [0, 1]. The full texture is resampled to
    ``out_size``, warped so its facial features land on the partial texture's, and the partial
    texture is pasted over the face. If no face is found on either texture, or the partial texture's
    features are no closer to the layout's landmarks than the full texture's (see the module doc),
    the resampled full texture comes back unchanged with ``rectified=False`` and the reason. If a face
    is found on the partial texture alone, it is pasted without a warp (``paste_unwarped``, the default).
    """
    for name, image in (
        ("full", full),
        ("partial", partial),
        ("full_normals", full_normals),
        ("partial_normals", partial_normals),
    ):
        if not np.isfinite(image).all():
            raise ValueError(f"{name} has non-finite values")
    upsampled = resize_image(full, out_size)
    full_found = detect_landmarks(full, full_normals)
    partial_found = detect_landmarks(partial, partial_normals, face_crop=True)
    full_landmarks = None if full_found is None else (full_found + 0.5) * out_size / full.shape[0] - 0.5
    partial_landmarks = (
        None if partial_found is None else face_box().to_texture(partial_found, partial.shape[0], out_size)
    )
    error_before = None if full_landmarks is None else landmark_error(full_landmarks, out_size)
    error_partial = None if partial_landmarks is None else landmark_error(partial_landmarks, out_size)

    reason = _reason_to_skip(error_before, error_partial)
    unwarped = paste_unwarped and full_landmarks is None and partial_landmarks is not None
    if reason is not None and not unwarped:
        log.info("texture left unrectified: %s", reason)
        return Rectification(
            upsampled, full_landmarks, partial_landmarks, None, error_before, error_partial, None, False, reason
        )

    if not unwarped:
        features = feature_indices()
        source, target = full_landmarks[features], partial_landmarks[features]
        upsampled = warp_face(upsampled, source_points=source, target_points=target)
    texture = paste_face(upsampled, partial)
    rectified_landmarks = detect_landmarks(texture, resize_image(full_normals, out_size))
    error_after = None if rectified_landmarks is None else landmark_error(rectified_landmarks, out_size)
    return Rectification(
        texture,
        full_landmarks,
        partial_landmarks,
        rectified_landmarks,
        error_before,
        error_partial,
        error_after,
        True,
        warped=not unwarped,
    )


def rectification_record(rectification: Rectification | None, reason_key: str = "skipped_because") -> dict:
    """What a ``meta.json`` records of a rectification (``None``: it was off): whether it ran, why not (under
    ``reason_key``), whether the full texture was warped, and the landmark errors of the full, partial and rectified textures."""
    ran = rectification is not None
    return {
        "rectified": bool(ran and rectification.rectified),
        "warped": bool(ran and rectification.warped),
        reason_key: rectification.reason if ran else None,
        "landmark_error_before": rectification.error_before if ran else None,
        "landmark_error_partial": rectification.error_partial if ran else None,
        "landmark_error_after": rectification.error_after if ran else None,
    }


def rectification_figure(full: np.ndarray, partial: np.ndarray, result: Rectification, path: str | Path) -> Path:
    """Supplementary Fig. 3: the full texture's face, the partial texture, and the rectified face, with landmarks.

    Dots are the detected landmarks used for the error (:data:`IBUG_TO_MEDIAPIPE`), crosses the layout's
    targets; the panels show the face window of each texture.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = result.texture.shape[0]
    left, top, side = face_box().pixels(size)
    window = (left - 0.5, left + side - 0.5, top + side - 0.5, top - 0.5)
    ibug, mediapipe = (list(indices) for indices in zip(*IBUG_TO_MEDIAPIPE.items()))
    targets = landmark_targets(size)[ibug]
    whole = (-0.5, size - 0.5, size - 0.5, -0.5)  # imshow extent of an out_size texture
    panels = (  # title, image, its extent in texture pixels, landmarks, landmark error
        ("full texture", resize_image(full, size), whole, result.full_landmarks, result.error_before),
        ("partial texture", partial, window, result.partial_landmarks, None),
        (
            "rectified" if result.rectified else textwrap.fill(f"not rectified: {result.reason}", 56),
            result.texture,
            whole,
            result.rectified_landmarks,
            result.error_after,
        ),
    )
    figure, axes = plt.subplots(1, 3, figsize=(10.5, 4.3))
    for axis, (title, image, extent, landmarks, error) in zip(axes, panels):
        axis.imshow(np.clip(image, 0.0, 1.0), extent=extent, interpolation="bilinear")
        axis.scatter(*targets.T, marker="x", s=18, c="cyan", linewidths=1, label="layout targets")
        if landmarks is not None:
            axis.scatter(*landmarks[mediapipe].T, s=10, c="red", label="detected")
        axis.set(xlim=window[:2], ylim=window[2:], xticks=[], yticks=[])
        axis.set_title(title if error is None else f"{title}\nlandmark error {100 * error:.2f}% of width", fontsize=9)
    axes[0].legend(loc="lower left", fontsize=7)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
