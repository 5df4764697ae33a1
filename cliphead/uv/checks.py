"""Checking a head mesh before parametrisation: clear errors instead of library tracebacks.

What the aligned UV map needs (CLIP-Head §2.2): one surface, topologically a disk whose single
boundary is the neck, outward-oriented, in the ICT frame (centimetres, y up, face towards +z,
symmetric about x = 0). What can be repaired is repaired and said (the topological repairs of
:mod:`cliphead.uv.repair` unless turned off); the rest is refused with a
:class:`~cliphead.meshes.MeshError` naming the fix.
"""

from __future__ import annotations

import numpy as np

from cliphead.meshes import (
    CleanMesh,
    MeshError,
    boundary_loops,
    cap_loops,
    clean_mesh,
    largest_area_component,
    euler_characteristic,
    signed_volume,
)
from cliphead.uv.frame import HEAD_DIAGONAL_CM, off_centre
from cliphead.heads.remesh import crop_below
from cliphead.uv.repair import (
    CLOSING_VOXELS,
    close_handles,
    genus,
    hausdorff,
    midline_crossings,
    neck_height,
    recut_neck,
    remesh_solid,
    split_non_manifold,
)


def check_frame(vertices: np.ndarray) -> None:
    """Refuse a mesh whose size or position is far from a head in the ICT frame."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    diagonal = float(np.linalg.norm(high - low))
    if not HEAD_DIAGONAL_CM[0] <= diagonal <= HEAD_DIAGONAL_CM[1]:
        hint = " It looks like metres: scale by 100." if 0.15 <= diagonal <= 1.0 else ""
        raise MeshError(
            f"The mesh's bounding-box diagonal is {diagonal:.3g}, far from a head in centimetres "
            f"({HEAD_DIAGONAL_CM[0]:g}-{HEAD_DIAGONAL_CM[1]:g} cm).{hint} Fix: bring the mesh into the ICT frame "
            "(centimetres, y up, face towards +z, centred on x = 0), or let `cliphead align uv` find it (no --frame ict)."
        )
    if any(off_centre(vertices)):
        centre = (low + high) / 2
        raise MeshError(
            f"The mesh is centred at {np.round(centre, 2).tolist()}, away from the ICT frame's origin; the seam is "
            "cut on the plane x = 0. Fix: translate the head so that it is symmetric about x = 0 and near the origin."
        )


def _fix_orientation(vertices: np.ndarray, faces: np.ndarray, notes: list[str]) -> np.ndarray:
    """Make face orientation consistent and outward (the neck closed by a cap to measure the volume)."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    keys = np.sort(directed[:, 0] * (int(faces.max()) + 1) + directed[:, 1])
    if (np.diff(keys) == 0).any():  # a directed edge twice: two faces disagree on orientation
        import igl

        faces, _ = igl.bfs_orient(faces)
        faces = np.asarray(faces, dtype=np.int64)
        notes.append("faces had inconsistent orientations; re-oriented them consistently")
    capped_vertices, capped_faces = cap_loops(vertices, faces, boundary_loops(faces))
    if signed_volume(capped_vertices, capped_faces) < 0:
        faces = faces[:, ::-1].copy()
        notes.append("faces were oriented inwards; flipped them to face outwards")
    return faces


def _split_if_non_manifold(mesh: CleanMesh, repair: bool) -> CleanMesh:
    """Split non-manifold edges and vertices (:func:`cliphead.uv.repair.split_non_manifold`), or refuse them."""
    split = split_non_manifold(mesh.vertices, mesh.faces)
    if split.split_vertices == 0:
        return mesh
    if not repair:
        raise MeshError(
            f"The mesh has {split.non_manifold_edges} edge(s) shared by more than two faces or vertices where "
            "separate fans of faces touch (non-manifold). Fix: leave the repair on (no --no-repair), or repair it first."
        )
    cleaned = largest_area_component(split.vertices, split.faces)  # no welding: that would undo the split
    note = (
        f"split {split.non_manifold_edges} non-manifold edge(s) and the vertices where separate fans of faces touched "
        f"({split.split_vertices} vertex copies added)"
    )
    figures = {"non_manifold_edges": split.non_manifold_edges, "split_vertices": split.split_vertices}
    return CleanMesh(cleaned.vertices, cleaned.faces, [*mesh.notes, note, *cleaned.notes], mesh.figures | figures)


def _close_handles_if_any(mesh: CleanMesh, neck: np.ndarray, repair: bool) -> CleanMesh:
    """Re-mesh the head without its handles (:func:`cliphead.uv.repair.close_handles`), or refuse them."""
    handles = genus(mesh.faces)
    if handles == 0:
        return mesh
    if not repair:
        raise MeshError(
            f"The mesh has {handles} handle(s) (Euler characteristic {euler_characteristic(mesh.faces)}, a disk has "
            "1), so it cannot be cut to a disk along the seam. Fix: leave the repair on (no --no-repair), re-extract "
            "it at another resolution or close thin tunnels (lips, nostrils, ears)."
        )
    vertices, faces, radius = close_handles(mesh.vertices, mesh.faces, neck)
    note = f"removed {handles} handle(s): re-meshed through the winding number with a closing of {radius} voxel(s)"
    return _remeshed(mesh, vertices, faces, note, {"handles_removed": handles, "closing_voxels": radius})


def _remeshed(mesh: CleanMesh, vertices: np.ndarray, faces: np.ndarray, note: str, figures: dict) -> CleanMesh:
    """The re-meshed head, its note and figures completed by the Hausdorff distance from the input surface."""
    moved = max(
        hausdorff(mesh.vertices, mesh.faces, vertices, faces), hausdorff(vertices, faces, mesh.vertices, mesh.faces)
    )
    note += f"; Hausdorff distance between the input and the repaired surface {10 * moved:.2f} mm"
    return CleanMesh(
        vertices, faces, [*mesh.notes, note], mesh.figures | figures | {"hausdorff_mm": round(10 * moved, 4)}
    )


def remesh_folded_midline(mesh: CleanMesh, reason: str) -> CleanMesh:
    """A prepared head whose surface folds across the plane ``x = 0`` (the seam's cut refused it with ``reason``),
    re-meshed as the surface of its solid (:func:`cliphead.uv.repair.remesh_solid`, no closing unless the solid
    has tunnels as voxels)."""
    remeshed = remesh_solid(mesh.vertices, mesh.faces, boundary_loops(mesh.faces)[0], (0, *CLOSING_VOXELS))
    if remeshed is None:
        raise MeshError(f"{reason} Re-meshing the head through its winding number did not give a disk either.")
    vertices, faces, radius = remeshed
    note = (
        "re-meshed through the winding number: the plane x = 0 met the surface in pieces the seam cannot follow "
        f"(it folds across the midline), closing {radius} voxel(s)"
    )
    return _remeshed(mesh, vertices, faces, note, {"midline_remeshed": 1, "closing_voxels": radius})


def _recut_ragged_neck(mesh: CleanMesh, neck: np.ndarray, repair: bool) -> tuple[CleanMesh, np.ndarray]:
    """Cut a neck whose edge crosses the midline more than twice again, cleanly, by a plane above its top
    (:func:`cliphead.uv.repair.recut_neck`); without ``repair`` the seam's cut refuses it later."""
    crossings = midline_crossings(mesh.vertices[neck])
    if crossings <= 2 or not repair:
        return mesh, neck
    vertices, faces, lost = recut_neck(mesh.vertices, mesh.faces, neck)
    note = f"cut the ragged neck (its edge crossed the midline {crossings} times) again above it, {10 * lost:.1f} mm higher"
    figures = {"neck_recut_mm": round(10 * lost, 3)}
    return CleanMesh(vertices, faces, [*mesh.notes, note], mesh.figures | figures), boundary_loops(faces)[0]


def prepare_head_mesh(vertices: np.ndarray, faces: np.ndarray, repair: bool = True) -> CleanMesh:
    """Check and repair an open head mesh for :func:`cliphead.uv.aligned.aligned_uv`.

    Always repaired (and noted): degenerate or duplicated faces, extra components (largest kept),
    inconsistent or inward orientation. With ``repair`` (default) also: non-manifold edges and vertices
    split, holes other than the neck capped, a ragged neck cut again cleanly, handles closed by re-meshing
    (:mod:`cliphead.uv.repair`);
    without it those are refused. Always refused: NaN/inf coordinates, a closed
    mesh, a neck boundary that is not at the bottom, a mesh far from the ICT frame. The repairs' figures
    are in the result's ``figures``.
    """
    mesh = _split_if_non_manifold(clean_mesh(vertices, faces), repair)
    vertices, faces, notes = mesh.vertices, mesh.faces, list(mesh.notes)
    check_frame(vertices)
    faces = _fix_orientation(vertices, faces, notes)  # before tracing loops: they follow the faces' orientation
    loops = boundary_loops(faces)
    figures = dict(mesh.figures)
    if not loops:
        if not repair:
            raise MeshError(
                "The mesh is closed: it has no neck boundary for the seam to start from. Fix: leave the repair on (it "
                "cuts a closed head at its neck), or crop it (`cliphead align uv --crop-neck Y` crops at y = Y)."
            )
        height = neck_height(vertices, faces)
        cut = clean_mesh(*crop_below(vertices, faces, height))
        vertices, faces = cut.vertices, cut.faces
        loops = boundary_loops(faces)
        notes.append(
            f"the mesh was closed: cut at its neck, the narrowest section of its lower part (y = {height:.2f})"
        )
        figures["neck_cut_y"] = round(height, 4)
    neck = loops[0]
    if len(loops) > 1:
        sizes = ", ".join(str(len(loop)) for loop in loops[1:6])
        if not repair:
            raise MeshError(
                f"The mesh has {len(loops) - 1} hole(s) besides the neck (boundary loops of {sizes} vertices). "
                "Fix: close them (leave the repair on, i.e. no --no-repair: it caps each with a fan)."
            )
        # A fan over a sliver hole can have zero area (its centre on a boundary vertex): weld and drop those.
        capped = clean_mesh(*cap_loops(vertices, faces, loops[1:]))
        vertices, faces, neck = capped.vertices, capped.faces, boundary_loops(capped.faces)[0]
        notes.append(f"filled {len(loops) - 1} hole(s) besides the neck")
        figures["holes_filled"] = len(loops) - 1
    if vertices[neck, 1].mean() > vertices[:, 1].mean():
        raise MeshError(
            "The open boundary (the neck) is above the head's centre; the mesh is not upright. Fix: rotate it into "
            "the ICT frame (y up, face towards +z)."
        )
    mesh, neck = _recut_ragged_neck(CleanMesh(vertices, faces, notes, figures), neck, repair)
    return _close_handles_if_any(mesh, neck, repair)
