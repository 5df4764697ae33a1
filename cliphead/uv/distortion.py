"""Distortion of a UV map per face: QCE and ASE (CLIP-Head supplementary §4).

For a face with 3D corners ``p_i`` and UV corners ``u_i``, the map's Jacobian ``J`` takes the
triangle's edge vectors in a local 2D frame of its plane to its UV edge vectors. With singular
values ``σ1 >= σ2``:

- quasi-conformal error (Sander et al. 2001): ``QCE = σ1 / σ2``, 1 for a conformal map;
- area scale error (Sawhney & Crane 2017): ``ASE = log(σ1 σ2)`` after both meshes' total areas are
  normalised to 1, i.e. the log of the face's relative area scale; 0 for an area-preserving map.

Faces whose UV triangle is flipped get ``σ2 < 0`` under a signed determinant; their QCE is
reported as infinite so a flip is never hidden inside a median.
"""

from __future__ import annotations

import numpy as np


def _local_frames(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge vectors ``p1 - p0`` and ``p2 - p0`` of every face in an orthonormal 2D frame of its plane."""
    p0, p1, p2 = (vertices[faces[:, k]] for k in range(3))
    e1, e2 = p1 - p0, p2 - p0
    normal = np.cross(e1, e2)
    with np.errstate(divide="ignore", invalid="ignore"):  # a collapsed face gets NaN axes (see singular_values)
        x_axis = e1 / np.linalg.norm(e1, axis=1, keepdims=True)
        y_axis = np.cross(normal / np.linalg.norm(normal, axis=1, keepdims=True), x_axis)
    local_e1 = np.stack([np.einsum("ij,ij->i", e1, x_axis), np.zeros(len(faces))], axis=1)
    local_e2 = np.stack([np.einsum("ij,ij->i", e2, x_axis), np.einsum("ij,ij->i", e2, y_axis)], axis=1)
    return local_e1, local_e2


def singular_values(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-face σ1 >= σ2 >= 0 of the 3D→UV Jacobian and the sign of its determinant (flips are -1; 0 for a face
    collapsed in 3D or without finite UVs, whose σ are 0)."""
    uv_faces = faces if uv_faces is None else uv_faces
    local_e1, local_e2 = _local_frames(vertices, faces)
    source = np.stack([local_e1, local_e2], axis=2)  # (F, 2, 2), columns are edges
    target = np.stack([uv[uv_faces[:, 1]] - uv[uv_faces[:, 0]], uv[uv_faces[:, 2]] - uv[uv_faces[:, 0]]], axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):  # the 2x2 inverse in closed form: no raise when singular
        determinant = source[:, 0, 0] * source[:, 1, 1] - source[:, 0, 1] * source[:, 1, 0]
        inverse = np.stack([source[:, 1, 1], -source[:, 0, 1], -source[:, 1, 0], source[:, 0, 0]], axis=1)
        jacobian = target @ (inverse.reshape(-1, 2, 2) / determinant[:, None, None])
    # A face collapsed in 3D (or with no finite UV) has no Jacobian: it counts as collapsed (σ = 0, no sign).
    collapsed = ~np.isfinite(jacobian).all(axis=(1, 2))
    jacobian[collapsed] = 0.0
    sigma = np.linalg.svd(jacobian, compute_uv=False)
    return sigma[:, 0], sigma[:, 1], np.sign(np.linalg.det(jacobian))


def quasi_conformal_error(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray | None = None
) -> np.ndarray:
    """Per-face QCE = σ1/σ2 (>= 1; infinite for flipped or collapsed UV faces)."""
    sigma1, sigma2, orientation = singular_values(vertices, faces, uv, uv_faces)
    with np.errstate(divide="ignore", invalid="ignore"):
        qce = sigma1 / sigma2
    return np.where((orientation > 0) & (sigma2 > 1e-12 * sigma1), qce, np.inf)


def area_scale_error(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray | None = None
) -> np.ndarray:
    """Per-face ASE = log(relative UV area / relative 3D area), total areas normalised to 1."""
    uv_faces = faces if uv_faces is None else uv_faces
    p = vertices[faces]
    area_3d = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    t = uv[uv_faces]
    d1, d2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    area_uv = 0.5 * np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    with np.errstate(divide="ignore"):
        return np.log((area_uv / area_uv.sum()) / (area_3d / area_3d.sum()))


def distortion_summary(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, uv_faces: np.ndarray | None = None
) -> dict[str, float]:
    """Medians of QCE and ASE, and the count of flipped UV faces."""
    return summarise_distortion(
        quasi_conformal_error(vertices, faces, uv, uv_faces), area_scale_error(vertices, faces, uv, uv_faces)
    )


def summarise_distortion(qce: np.ndarray, ase: np.ndarray) -> dict[str, float]:
    """:func:`distortion_summary` of per-face values already computed."""
    return {
        "qce_median": float(np.median(qce)),
        "ase_median": float(np.median(ase[np.isfinite(ase)])),
        "flipped_faces": int(np.isinf(qce).sum()),
    }
