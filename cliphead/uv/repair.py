"""Repairs of head meshes from elsewhere, in front of the aligned parametrisation (CLIP-Head §2.2).

The aligned map needs a disk whose one boundary is the neck. Meshes made by marching cubes on real
heads, decimated or cut by hand break that in a few recurring ways; each is repaired here and said:

- non-manifold edges (shared by more than two faces) and vertices (where two fans of faces touch in
  a point): the faces around each vertex are grouped into fans joined by manifold edges, and every
  fan gets its own copy of the vertex (:func:`split_non_manifold`), so that sheets which only touched
  come apart;
- a closed head: cut at its neck, the narrowest horizontal section of its lower part (:func:`neck_height`);
- a ragged neck (its edge crossing the midline, where the seam starts, more than twice): cut again
  by a plane just above it (:func:`recut_neck`);
- handles (tunnels through an ear, a nostril, a strand of hair): the head is re-meshed through its
  winding number with a morphological closing just wide enough to fill the tunnels
  (:func:`close_handles`), its neck cut again where it was;
- a surface that folds back and forth across the midline plane (vertex-clustering decimation does
  this), so that the seam's plane meets it in pieces it cannot follow: re-meshed the same way, without
  a closing when the solid has no tunnel (:func:`remesh_solid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import ndimage
from scipy.sparse.csgraph import connected_components

from cliphead.heads.remesh import (
    crop_plane,
    grid_axes,
    grid_points,
    largest_component,
    marching_cubes_mesh,
    occupancy_grid,
    signed_distance_grid,
)
from cliphead.meshes import (
    CleanMesh,
    MeshError,
    edge_keys,
    boundary_loops,
    cap_loops,
    clean_mesh,
    euler_characteristic,
)

#: How far (a fraction of the way to the middle of its fan) each copy of a split vertex is moved.
SPLIT_NUDGE = 0.05
#: Closing radii (voxels) tried in turn until the closed solid has no tunnel.
CLOSING_VOXELS = (1, 2, 3, 4, 6, 8)
#: A closed head's neck is looked for in this lower fraction of its height, on this many sections.
NECK_SEARCH = 0.45
NECK_SECTIONS = 40
#: How far above the top of a ragged neck loop (cm) the clean cut goes.
RECUT_MARGIN = 0.02
#: How far above the top of the input's neck loop (voxels) the re-meshed head is cut.
NECK_CUT_VOXELS = 1.5
#: Grid voxel of the re-meshing, in median edge lengths of the input mesh, and its bounds (cells).
VOXEL_EDGES = 1.0
GRID_CELLS = (96, 256)


@dataclass(frozen=True)
class Split:
    """The mesh after :func:`split_non_manifold` and what changed."""

    vertices: np.ndarray
    faces: np.ndarray
    non_manifold_edges: int  # edges that were shared by more than two faces
    split_vertices: int  # vertex copies added


def split_non_manifold(vertices: np.ndarray, faces: np.ndarray) -> Split:
    """Give each fan of faces around a vertex its own copy of it; fans are joined only across manifold edges.

    Corners (face, vertex) of the same vertex are joined when their faces share an edge held by exactly
    two faces; each connected group of corners becomes one vertex, moved :data:`SPLIT_NUDGE` of the way
    towards the middle of its fan when the vertex was split. A manifold mesh comes back unchanged.
    """
    n_faces = len(faces)
    start, end = faces.ravel(), faces[:, [1, 2, 0]].ravel()  # half-edge h runs from corner h to corner next(h)
    corner_next = 3 * (np.arange(3 * n_faces) // 3) + (np.arange(3 * n_faces) % 3 + 1) % 3
    keys = edge_keys(np.stack([start, end], axis=1))
    order = np.argsort(keys, kind="stable")  # half-edges of one edge become a run
    run_starts = np.flatnonzero(np.diff(keys[order], prepend=-1))
    run_lengths = np.diff(np.append(run_starts, len(keys)))
    pairs = run_starts[run_lengths == 2]  # edges held by exactly two faces
    first, second = order[pairs], order[pairs + 1]
    same_direction = start[first] == start[second]
    # Join the corners of the edge's two end vertices across the two faces.
    join_a = np.where(same_direction, second, corner_next[second])
    join_b = np.where(same_direction, corner_next[second], second)
    rows = np.concatenate([first, corner_next[first]])
    cols = np.concatenate([join_a, join_b])
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(3 * n_faces, 3 * n_faces))
    n_groups, group = connected_components(graph, directed=False)
    new_vertices = np.zeros((n_groups, 3))
    new_vertices[group] = vertices[start]
    # Copies of one vertex would still coincide and be welded again by any later cleaning: move each a
    # little (SPLIT_NUDGE of the way) towards the middle of its own fan.
    group_vertex = np.zeros(n_groups, dtype=np.int64)
    group_vertex[group] = start
    copies = np.bincount(group_vertex, minlength=len(vertices))
    moved = copies[start] > 1
    if moved.any():
        centroids = np.repeat(vertices[faces].mean(axis=1), 3, axis=0)[moved]
        fan_centre = np.zeros((n_groups, 3))
        np.add.at(fan_centre, group[moved], centroids)
        fan_size = np.bincount(group[moved], minlength=n_groups)[:, None]
        nudged = np.unique(group[moved])
        new_vertices[nudged] += SPLIT_NUDGE * (fan_centre[nudged] / fan_size[nudged] - new_vertices[nudged])
    split = n_groups - len(np.unique(faces))
    return Split(new_vertices, group.reshape(-1, 3), int((run_lengths > 2).sum()), int(split))


def neck_plane(vertices: np.ndarray, neck: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A plane through the top of the neck loop (origin, unit normal pointing into the head)."""
    points = vertices[neck]
    centre = points.mean(axis=0)
    normal = np.linalg.svd(points - centre)[2][-1]
    if np.dot(vertices.mean(axis=0) - centre, normal) < 0:
        normal = -normal
    return centre + normal * float(np.max((points - centre) @ normal)), normal


def midline_crossings(points: np.ndarray) -> int:
    """How many times a closed loop of points crosses the plane x = 0 (points on it skipped)."""
    signs = np.sign(points[:, 0])
    signs = signs[signs != 0]
    return int((signs != np.roll(signs, 1)).sum()) if len(signs) else 0


def recut_neck(vertices: np.ndarray, faces: np.ndarray, neck: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The head cut by a plane just above the top of its neck loop (:func:`neck_plane`): returns the cut mesh
    and how much higher (cm) the new neck lies than the loop's lowest point."""
    origin, normal = neck_plane(vertices, neck)
    cut = clean_mesh(*crop_plane(vertices, faces, origin + RECUT_MARGIN * normal, normal))
    lowest = float(np.min((vertices[neck] - origin) @ normal))
    return cut.vertices, cut.faces, RECUT_MARGIN - lowest


def neck_height(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Where to cut a closed head (y up): the narrowest horizontal section (by its convex hull's area) in the
    lower :data:`NECK_SEARCH` of the head's height, i.e. the neck."""
    from scipy.spatial import ConvexHull

    low, high = float(vertices[:, 1].min()), float(vertices[:, 1].max())
    heights = np.linspace(low + 0.02 * (high - low), low + NECK_SEARCH * (high - low), NECK_SECTIONS)
    ends = vertices[faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)]
    areas = []
    for height in heights:
        crossing = (ends[:, 0, 1] - height) * (ends[:, 1, 1] - height) < 0
        a, b = ends[crossing, 0], ends[crossing, 1]
        t = (height - a[:, 1]) / (b[:, 1] - a[:, 1])
        section = (a + t[:, None] * (b - a))[:, [0, 2]]
        areas.append(ConvexHull(section).volume if len(section) >= 3 else np.inf)
    return float(heights[int(np.argmin(areas))])


def genus(faces: np.ndarray) -> int:
    """Handles of an orientable mesh: (2 - χ - boundary loops) / 2."""
    return (2 - euler_characteristic(faces) - len(boundary_loops(faces))) // 2


def _grid_resolution(vertices: np.ndarray, faces: np.ndarray) -> int:
    """Cells along the longest side so that a voxel is :data:`VOXEL_EDGES` median edges, within :data:`GRID_CELLS`."""
    edges = np.linalg.norm(vertices[faces[:, 0]] - vertices[faces[:, 1]], axis=1)
    cells = float(np.ptp(vertices, axis=0).max()) / (VOXEL_EDGES * float(np.median(edges)))
    return int(np.clip(round(cells), *GRID_CELLS))


def closed_solids(inside: np.ndarray, closings: tuple[int, ...] = CLOSING_VOXELS):
    """For each radius of ``closings`` whose closing of the solid (cavities filled) is free of tunnels as voxels
    (Euler number 1 with 6- or 26-connected voxels: one piece, no tunnel, no cavity), the radius and the closed
    solid, in the order given; radius 0 is the solid itself."""
    from skimage.measure import euler_number

    structure = ndimage.generate_binary_structure(3, 1)
    for radius in closings:
        closing = ndimage.binary_closing(inside, structure, iterations=radius) if radius else inside
        closed = ndimage.binary_fill_holes(inside | closing)
        if 1 in (euler_number(closed, connectivity=1), euler_number(closed, connectivity=3)):
            yield radius, closed


def _remesh_and_cut(sdf: np.ndarray, axes: list[np.ndarray], origin: np.ndarray, normal: np.ndarray) -> CleanMesh:
    """Marching cubes of the grid SDF, cut above the neck's cap (which marching cubes rounds off over a voxel)."""
    remeshed = clean_mesh(*marching_cubes_mesh(sdf, axes))
    raised = origin + NECK_CUT_VOXELS * (axes[0][1] - axes[0][0]) * normal
    return clean_mesh(*crop_plane(remeshed.vertices, remeshed.faces, raised, normal))


def remesh_solid(
    vertices: np.ndarray, faces: np.ndarray, neck: np.ndarray, closings: tuple[int, ...] = CLOSING_VOXELS
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Re-mesh an open head as the surface of its solid: (vertices, faces, closing radius in voxels), or None
    when no radius of ``closings`` gives a disk.

    The neck is capped, the inside found by the winding number on a grid (padded for the widest closing)
    and closed morphologically (:func:`closed_solids`), then triangulated by marching cubes on the exact
    distance to the input surface signed by the closed inside, so that away from the closed tunnels the
    surface stays where it was; the neck is cut again at the plane of the input's neck loop,
    :data:`NECK_CUT_VOXELS` above its top. The first closing whose surface is a disk wins.
    """
    closed_vertices, closed_faces = cap_loops(vertices, faces, boundary_loops(faces))
    origin, normal = neck_plane(vertices, neck)
    resolution = _grid_resolution(vertices, faces)
    axes = grid_axes(closed_vertices, resolution, padding=(max(closings) + 2) / resolution)
    points = grid_points(axes)
    inside = ndimage.binary_fill_holes(largest_component(occupancy_grid(closed_vertices, closed_faces, axes, points)))
    for radius, closed in closed_solids(inside, closings):
        cut = _remesh_and_cut(
            signed_distance_grid(closed_vertices, closed_faces, axes, points, closed), axes, origin, normal
        )
        if genus(cut.faces) == 0 and len(boundary_loops(cut.faces)) == 1:
            return cut.vertices, cut.faces, radius
    return None


def close_handles(vertices: np.ndarray, faces: np.ndarray, neck: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Re-mesh an open head with handles into one without (:func:`remesh_solid` with the closings of
    :data:`CLOSING_VOXELS`, the smallest that fills the tunnels first)."""
    remeshed = remesh_solid(vertices, faces, neck)
    if remeshed is None:
        raise MeshError(
            f"The mesh has {genus(faces)} handle(s) that no closing of up to {CLOSING_VOXELS[-1]} voxels removes (a "
            "tunnel wider than about 2 cm?). Fix: close the tunnels in a mesh editor, or re-extract the head."
        )
    return remeshed


def hausdorff(
    source_vertices: np.ndarray, source_faces: np.ndarray, target_vertices: np.ndarray, target_faces: np.ndarray
) -> float:
    """The largest distance from a vertex of the source to the target surface (one-sided Hausdorff at the vertices)."""
    import igl

    squared = igl.point_mesh_squared_distance(source_vertices, target_vertices, target_faces)[0]
    return float(np.sqrt(squared.max()))
