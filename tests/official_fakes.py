"""A stand-in for the released CLIP-Head layout files, made from one of the project's heads.

The real ``reference_uv_vt_scaled.obj`` and ``0001_shape_seam.npy`` are the user's; these have the same
format: a head in centred NPHM coordinates, cut along the release's seam (the copies of the seam vertices
appended last), with one texture coordinate per vertex (here a harmonic map onto the unit circle's
square-inscribed disk), and the seam's vertex indices.
"""

from __future__ import annotations

from pathlib import Path

import igl
import numpy as np

from cliphead.heads.nphm import ict_to_nphm


def save_fake_official_layout(vertices: np.ndarray, faces: np.ndarray, folder: Path) -> tuple[Path, Path]:
    """Write ``reference_uv_vt_scaled.obj`` and ``0001_shape_seam.npy`` for the head ``(vertices, faces)``
    (ICT frame, welded, open at the neck) into ``folder``; return their paths."""
    from cliphead.uv.official import seam_of

    nphm = ict_to_nphm(np.asarray(vertices, float))
    nphm = nphm - nphm.mean(axis=0)
    seam, left = seam_of(nphm, faces)
    copy_of = np.full(len(nphm), -1)
    copy_of[seam] = len(nphm) + np.arange(seam.size)
    cut_faces = np.array(faces, np.int64)
    corners = cut_faces[left]
    cut_faces[left] = np.where(copy_of[corners] >= 0, copy_of[corners], corners)
    cut = np.concatenate([nphm, nphm[seam]])
    boundary = igl.boundary_loop(cut_faces)
    circle = igl.map_vertices_to_circle(cut, boundary)
    uv = igl.harmonic(cut, cut_faces, boundary, circle, 1) * 0.5 + 0.5
    folder.mkdir(parents=True, exist_ok=True)
    obj, seam_file = folder / "reference_uv_vt_scaled.obj", folder / "0001_shape_seam.npy"
    lines = [f"v {x:.7f} {y:.7f} {z:.7f}" for x, y, z in cut] + [f"vt {u:.7f} {v:.7f}" for u, v in uv]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in cut_faces]
    obj.write_text("\n".join(lines) + "\n")
    np.save(seam_file, seam.astype(np.int32))
    return obj, seam_file
