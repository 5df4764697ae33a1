"""Checking a head mesh before parametrisation: clear errors instead of library tracebacks.

What the aligned UV map needs (CLIP-Head §2.2): one surface, topologically a disk whose single
boundary is the neck, outward-oriented, in the ICT frame (centimetres, y up, face towards +z,
symmetric about x = 0). What can be repaired without guessing is repaired and said; the rest is
refused with a :class:`~cliphead.meshes.MeshError` naming the fix.
"""

from __future__ import annotations

import numpy as np

from cliphead.meshes import (
    CleanMesh,
    MeshError,
    boundary_loops,
    cap_loops,
    clean_mesh,
    edge_face_counts,
    euler_characteristic,
    row_keys,
    signed_volume,
)

#: Plausible bounding-box diagonal of a head in centimetres.
HEAD_DIAGONAL_CM = (15.0, 100.0)


def check_frame(vertices: np.ndarray) -> None:
    """Refuse a mesh whose size or position is far from a head in the ICT frame."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    diagonal = float(np.linalg.norm(high - low))
    if not HEAD_DIAGONAL_CM[0] <= diagonal <= HEAD_DIAGONAL_CM[1]:
        hint = " It looks like metres: scale by 100." if 0.15 <= diagonal <= 1.0 else ""
        raise MeshError(
            f"The mesh's bounding-box diagonal is {diagonal:.3g}, far from a head in centimetres "
            f"({HEAD_DIAGONAL_CM[0]:g}-{HEAD_DIAGONAL_CM[1]:g} cm).{hint} Fix: bring the mesh into the ICT frame "
            "(centimetres, y up, face towards +z, centred on x = 0)."
        )
    centre = (low + high) / 2
    width = high[0] - low[0]
    if abs(centre[0]) > 0.1 * width or np.abs(centre[1:]).max() > 0.5 * diagonal:
        raise MeshError(
            f"The mesh is centred at {np.round(centre, 2).tolist()}, away from the ICT frame's origin; the seam is "
            "cut on the plane x = 0. Fix: translate the head so that it is symmetric about x = 0 and near the origin."
        )


def _fix_orientation(vertices: np.ndarray, faces: np.ndarray, notes: list[str]) -> np.ndarray:
    """Make face orientation consistent and outward (the neck closed by a cap to measure the volume)."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, counts = np.unique(row_keys(directed), return_counts=True)
    if (counts > 1).any():
        import igl

        faces, _ = igl.bfs_orient(faces)
        faces = np.asarray(faces, dtype=np.int64)
        notes.append("faces had inconsistent orientations; re-oriented them consistently")
    capped_vertices, capped_faces = cap_loops(vertices, faces, boundary_loops(faces))
    if signed_volume(capped_vertices, capped_faces) < 0:
        faces = faces[:, ::-1].copy()
        notes.append("faces were oriented inwards; flipped them to face outwards")
    return faces


def prepare_head_mesh(vertices: np.ndarray, faces: np.ndarray, fill_holes: bool = False) -> CleanMesh:
    """Check and repair an open head mesh for :func:`cliphead.uv.aligned.aligned_uv`.

    Repaired (and noted): degenerate or duplicated faces, extra components (largest kept),
    inconsistent or inward orientation, and — only with ``fill_holes`` — holes other than the neck.
    Refused: NaN/inf coordinates, a closed mesh, extra holes without ``fill_holes``, handles, a neck
    boundary that is not at the bottom, a mesh far from the ICT frame.
    """
    cleaned = clean_mesh(vertices, faces)
    vertices, faces, notes = cleaned.vertices, cleaned.faces, list(cleaned.notes)
    if (edge_face_counts(faces)[1] > 2).any():
        raise MeshError("The mesh has edges shared by more than two faces (non-manifold). Fix: repair it first.")
    check_frame(vertices)
    faces = _fix_orientation(vertices, faces, notes)  # before tracing loops: they follow the faces' orientation
    loops = boundary_loops(faces)
    if not loops:
        raise MeshError(
            "The mesh is closed: it has no neck boundary for the seam to start from. Fix: crop it at the neck "
            "(`cliphead sample head --remesh` crops at the neck plane; `cliphead align uv --crop-neck Y` crops a "
            "closed mesh at y = Y)."
        )
    neck = loops[0]
    if len(loops) > 1:
        sizes = ", ".join(str(len(loop)) for loop in loops[1:6])
        if not fill_holes:
            raise MeshError(
                f"The mesh has {len(loops) - 1} hole(s) besides the neck (boundary loops of {sizes} vertices). "
                "Fix: close them (e.g. `cliphead align uv --fill-holes`, which caps each with a fan)."
            )
        vertices, faces = cap_loops(vertices, faces, loops[1:])
        notes.append(f"filled {len(loops) - 1} hole(s) besides the neck")
    if vertices[neck, 1].mean() > vertices[:, 1].mean():
        raise MeshError(
            "The open boundary (the neck) is above the head's centre; the mesh is not upright. Fix: rotate it into "
            "the ICT frame (y up, face towards +z)."
        )
    genus = (1 - euler_characteristic(faces)) // 2
    if genus != 0:
        raise MeshError(
            f"The mesh has {genus} handle(s) (Euler characteristic {euler_characteristic(faces)}, a disk has 1), "
            "so it cannot be cut to a disk along the seam. Fix: re-extract it at another resolution or close thin "
            "tunnels (lips, nostrils, ears)."
        )
    return CleanMesh(vertices, faces, notes)
