"""Cutting a head to a disk along the back seam (CLIP-Head §2.2).

The paper cuts every head along the bisecting plane at the back of the head, so that the neck
boundary and both sides of the seam form one boundary loop. Here the mesh is split exactly by the
plane ``x = 0`` (new vertices where edges cross it) into its two halves, and the halves are welded
back together along the midline except on the seam: the midline from the back of the neck up to the
crown, the point of the midline straight above the head's centre (``crown_angle`` 90°; smaller
angles end the seam further back).

The disk's boundary starts at the crown and runs crown → right seam side → back of the neck (right
copy) → neck → front of the neck → neck → back of the neck (left copy) → left seam side → crown,
where *left* is the head's +x half (the viewer's right when facing the head).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from trimesh.intersections import slice_faces_plane

from cliphead.meshes import MeshError, boundary_loops, merge_close_vertices, remove_unreferenced

#: Names of the four boundary anchors, in boundary order.
ANCHORS = ("crown", "neck_back_right", "neck_front", "neck_back_left")


class MidlineError(MeshError):
    """The plane ``x = 0`` meets the head in pieces the seam cannot follow."""


@dataclass
class Disk:
    """A head cut to a disk: the mesh, its boundary loop from the crown, and the anchors' positions."""

    vertices: np.ndarray  # (N, 3)
    faces: np.ndarray  # (F, 3)
    boundary: np.ndarray  # (B,) vertex indices, boundary[0] is the crown
    anchor_positions: np.ndarray  # (4,) indices into ``boundary`` of ANCHORS, increasing, first 0


def _half(vertices: np.ndarray, faces: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of the mesh with ``sign * x >= 0``, cut exactly at ``x = 0``."""
    kept_vertices, kept_faces = slice_faces_plane(
        vertices, faces, plane_normal=np.array([sign, 0.0, 0.0]), plane_origin=np.zeros(3)
    )[:2]
    kept_vertices, kept_faces = merge_close_vertices(np.asarray(kept_vertices), np.asarray(kept_faces))
    kept_vertices, kept_faces, _ = remove_unreferenced(kept_vertices, kept_faces)
    return kept_vertices, kept_faces


def _plane_boundary(vertices: np.ndarray, faces: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """The half's midline arc (from the back of the neck to the front) and all its boundary vertices on the plane.

    The plane section of a head is the midline plus, where the surface folds (lips, nostrils), small
    closed curves; those are welded back whole, only the midline carries the seam.
    """
    loops = boundary_loops(faces)
    open_loops = [loop for loop in loops if not (np.abs(vertices[loop, 0]) <= tolerance).all()]
    if len(open_loops) != 1:
        raise MidlineError(
            f"A half of the head has {len(open_loops)} boundary loops leaving the plane x = 0 instead of one; the "
            "mesh is not a single surface with one neck boundary crossing that plane. Fix: bring the head into "
            "the ICT frame (face towards +z, symmetric about x = 0) and fill holes other than the neck."
        )
    loop = open_loops[0]
    on_plane = np.abs(vertices[loop, 0]) <= tolerance
    # Rotate the loop so that it starts right after a run of off-plane vertices: the midline is then one run.
    start = int(np.argmax(on_plane & ~np.roll(on_plane, 1)))
    loop, on_plane = np.roll(loop, -start), np.roll(on_plane, -start)
    run_length = int(np.argmin(on_plane))
    if on_plane[run_length:].any():
        raise MidlineError(
            "The midline of the head is broken into pieces; the neck boundary crosses x = 0 more than twice."
        )
    arc = loop[:run_length]
    if vertices[arc[0], 2] > vertices[arc[-1], 2]:
        arc = arc[::-1]
    closed_loops = [other for other in loops if other is not open_loops[0]]
    return arc, np.unique(np.concatenate([arc, *closed_loops]))


def _crown_index(arc_points: np.ndarray, centre_yz: np.ndarray, crown_angle: float) -> int:
    """Index along the midline arc (back of the neck → front) where the seam ends."""
    direction = arc_points[:, 1:] - centre_yz
    # Angle seen from the centre, 0° pointing backwards (-z), 90° up (+y).
    angle = np.degrees(np.arctan2(direction[:, 0], -direction[:, 1]))
    unwrapped = np.degrees(np.unwrap(np.radians(angle)))
    reached = np.nonzero(unwrapped >= crown_angle)[0]
    if len(reached) == 0 or reached[0] == 0:
        raise MeshError("Could not find the crown on the midline; is the head upright (y up)?")
    return int(reached[0])


def cut_to_disk(vertices: np.ndarray, faces: np.ndarray, crown_angle: float = 90.0) -> Disk:
    """Cut an open head (one neck boundary) along the back seam into a disk."""
    scale = float(np.ptp(vertices, axis=0).max())
    tolerance = 1e-7 * scale
    left_vertices, left_faces = _half(vertices, faces, +1.0)
    right_vertices, right_faces = _half(vertices, faces, -1.0)
    left_arc, left_plane = _plane_boundary(left_vertices, left_faces, tolerance)
    right_arc, right_plane = _plane_boundary(right_vertices, right_faces, tolerance)

    # Pair every right plane vertex with its left twin.
    distance, twin = cKDTree(left_vertices[left_plane]).query(right_vertices[right_plane])
    if len(left_plane) != len(right_plane) or distance.max() > 1e3 * tolerance:
        raise MidlineError("The two halves of the head do not meet along x = 0; the mesh may be self-intersecting.")
    twin = left_plane[twin]

    centre = vertices.mean(axis=0)
    crown = _crown_index(left_vertices[left_arc], centre[1:], crown_angle)
    seam = set(left_arc[:crown].tolist())  # the back of the neck up to (not including) the crown

    # Weld right midline vertices onto their left twins, except along the seam.
    offset = len(left_vertices)
    remap = np.arange(len(right_vertices)) + offset
    weld = np.array([t not in seam for t in twin.tolist()])
    remap[right_plane[weld]] = twin[weld]
    disk_vertices = np.concatenate([left_vertices, right_vertices])
    disk_faces = np.concatenate([left_faces, remap[right_faces]])
    disk_vertices, disk_faces, kept = remove_unreferenced(disk_vertices, disk_faces)
    new_index = np.full(offset + len(right_vertices), -1)
    new_index[kept] = np.arange(len(kept))

    loops = boundary_loops(disk_faces)
    if len(loops) != 1:
        raise MeshError(f"Cutting along the seam gave {len(loops)} boundary loops instead of one.")
    boundary = loops[0]
    crown_vertex = new_index[left_arc[crown]]
    back_left = new_index[left_arc[0]]
    back_right = new_index[remap[right_arc[0]]]
    front = new_index[left_arc[-1]]
    boundary = np.roll(boundary, -int(np.nonzero(boundary == crown_vertex)[0][0]))
    position = {int(v): i for i, v in enumerate(boundary)}
    if position[back_right] > position[back_left]:
        boundary = np.concatenate([boundary[:1], boundary[1:][::-1]])
        position = {int(v): i for i, v in enumerate(boundary)}
    anchors = np.array([0, position[back_right], position[front], position[back_left]])
    if not np.all(np.diff(anchors) > 0):
        raise MeshError("The seam's anchors are out of order on the boundary; the neck boundary is not where expected.")
    return Disk(disk_vertices, disk_faces, boundary, anchors)
