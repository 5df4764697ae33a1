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


def save_fake_official_layout(vertices: np.ndarray, faces: np.ndarray, folder: Path) -> tuple[Path, Path]:
    """Write ``reference_uv_vt_scaled.obj`` and ``0001_shape_seam.npy`` for the head ``(vertices, faces)``
    (ICT frame, welded, open at the neck) into ``folder``; return their paths."""
    from cliphead.uv.official import cut_along_seam

    cut = cut_along_seam(vertices, faces)
    boundary = igl.boundary_loop(cut.faces)
    circle = igl.map_vertices_to_circle(cut.vertices, boundary)
    uv = igl.harmonic(cut.vertices, cut.faces, boundary, circle, 1) * 0.5 + 0.5
    folder.mkdir(parents=True, exist_ok=True)
    obj, seam_file = folder / "reference_uv_vt_scaled.obj", folder / "0001_shape_seam.npy"
    lines = [f"v {x:.7f} {y:.7f} {z:.7f}" for x, y, z in cut.vertices] + [f"vt {u:.7f} {v:.7f}" for u, v in uv]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in cut.faces]
    obj.write_text("\n".join(lines) + "\n")
    np.save(seam_file, cut.seam.astype(np.int32))
    return obj, seam_file
