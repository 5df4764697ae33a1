"""Marching-cubes re-meshing of a watertight head, cropped at a fixed neck plane.

NPHM meshes are extracted from an SDF by marching cubes and have an open neck (CLIP-Head §2, eq. 1).
To give the UV module the same kind of input, a closed ICT head is turned into a signed distance
field on a grid (unsigned distance from libigl, sign from the fast winding number), triangulated by
scikit-image's marching cubes and cut by the plane ``y = NECK_PLANE_Y``, keeping the part above.

The exact distance is only needed where the surface passes; far from it the winding number's sign
times the band width is enough for marching cubes, so distances are computed in a narrow band of
voxels around the sign changes.

Slits and bridges thinner than a voxel (between the lips, in a nostril, the folds of an ear) make
marching cubes produce tunnels and handles, and an NPHM head, like the UV module's input, is a
sphere topologically. So the level set is taken slightly outside the surface (a fraction of a
voxel, the smallest offset in :data:`OFFSETS_VOXELS` that gives a disk after the crop), which closes
those slits while every distance stays exact and the surface smooth. The result lies that offset
outside the source (0.04-0.16 cm at resolution 160) and stays there: moving it back along the
normals would fold the closed slits, which flips UV triangles.
"""

from __future__ import annotations

import igl
import numpy as np
from scipy import ndimage
from skimage.measure import marching_cubes

from cliphead.meshes import (
    MeshError,
    boundary_loops,
    clean_mesh,
    euler_characteristic,
    merge_close_vertices,
    without_degenerate_faces,
)

#: The neck crop plane (cm, ICT frame): 4-5 cm under the chin and above the ICT neck opening.
NECK_PLANE_Y = -12.0
#: How many voxels either side of the surface get an exact distance.
BAND_VOXELS = 3
#: Offsets of the extracted level set (voxels, outwards), tried in turn until the head is a disk.
OFFSETS_VOXELS = (0.25, 0.5, 0.75, 1.0, 1.5)


def grid_axes(vertices: np.ndarray, resolution: int, padding: float = 0.05) -> list[np.ndarray]:
    """Axis samples of a cubic-voxel grid over the bounding box, ``resolution`` along its longest side."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    margin = padding * (high - low).max()
    low, high = low - margin, high + margin
    spacing = (high - low).max() / (resolution - 1)
    return [np.arange(low[k], high[k] + spacing, spacing) for k in range(3)]


def grid_points(axes: list[np.ndarray]) -> np.ndarray:
    """All grid nodes as (N, 3) points, in the grid's C order."""
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def occupancy_grid(vertices: np.ndarray, faces: np.ndarray, axes: list[np.ndarray], points: np.ndarray) -> np.ndarray:
    """Inside/outside of a closed mesh on the grid (``points`` from :func:`grid_points`), by winding number."""
    return (igl.fast_winding_number(vertices, faces, points) > 0.5).reshape(tuple(len(a) for a in axes))


def largest_component(inside: np.ndarray) -> np.ndarray:
    """The largest connected solid of an occupancy grid."""
    labels, count = ndimage.label(inside)
    if count <= 1:
        return inside
    return labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1


def signed_distance_grid(
    vertices: np.ndarray, faces: np.ndarray, axes: list[np.ndarray], points: np.ndarray, inside: np.ndarray
) -> np.ndarray:
    """SDF on the grid (negative inside): sign from ``inside``, exact distance in a narrow band."""
    spacing = axes[0][1] - axes[0][0]
    boundary = inside ^ ndimage.binary_erosion(inside) | ~inside ^ ndimage.binary_erosion(~inside)
    band = ndimage.binary_dilation(boundary, iterations=BAND_VOXELS)
    sdf = np.where(inside, -1.0, 1.0) * (BAND_VOXELS + 1) * spacing
    squared, _, _ = igl.point_mesh_squared_distance(points[band.ravel()], vertices, faces)
    # Keep grid values off zero: a vanishing value at a node makes marching cubes put several nearly
    # coincident vertices there, and welding them pinches the surface.
    sdf[band] = np.where(inside[band], -1.0, 1.0) * np.maximum(np.sqrt(squared), 1e-3 * spacing)
    return sdf


def marching_cubes_mesh(sdf: np.ndarray, axes: list[np.ndarray], level: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A level set of a grid SDF as a triangle mesh in world coordinates, faces oriented outwards."""
    spacing = axes[0][1] - axes[0][0]
    vertices, faces, _, _ = marching_cubes(sdf, level=level, spacing=(spacing,) * 3)
    vertices += np.array([a[0] for a in axes])
    # scikit-image's faces already wind counter-clockwise seen from the side of larger values (outside).
    return vertices, faces.astype(np.int64)


def crop_plane(
    vertices: np.ndarray, faces: np.ndarray, origin: np.ndarray, normal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the mesh on the side of ``normal``, cut exactly at the plane through ``origin``.

    The cut's new vertices that land on existing ones are welded; the faces this collapses are dropped."""
    from trimesh.intersections import slice_faces_plane

    kept_vertices, kept_faces = slice_faces_plane(vertices, faces, plane_normal=normal, plane_origin=origin)[:2]
    welded = merge_close_vertices(np.asarray(kept_vertices, dtype=np.float64), np.asarray(kept_faces, dtype=np.int64))
    return without_degenerate_faces(*welded)


def crop_below(vertices: np.ndarray, faces: np.ndarray, plane_y: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut the mesh exactly at ``y = plane_y`` and keep what lies above (an open neck boundary)."""
    return crop_plane(vertices, faces, np.array([0.0, plane_y, 0.0]), np.array([0.0, 1.0, 0.0]))


def remesh_head(
    vertices: np.ndarray, faces: np.ndarray, resolution: int = 128, neck_plane_y: float = NECK_PLANE_Y
) -> tuple[np.ndarray, np.ndarray]:
    """Re-mesh a closed head by marching cubes at ``resolution`` and crop it at the neck plane.

    Returns an unstructured mesh whose only boundary is the neck loop (like an NPHM mesh).
    """
    if resolution < 16:
        raise ValueError(f"Grid resolution {resolution} is too coarse for a head; use 64 or more.")
    axes = grid_axes(vertices, resolution)
    spacing = axes[0][1] - axes[0][0]
    points = grid_points(axes)
    inside = ndimage.binary_fill_holes(largest_component(occupancy_grid(vertices, faces, axes, points)))
    sdf = signed_distance_grid(vertices, faces, axes, points, inside)
    for offset in OFFSETS_VOXELS:
        cropped = clean_mesh(*crop_below(*marching_cubes_mesh(sdf, axes, offset * spacing), neck_plane_y))
        if euler_characteristic(cropped.faces) == 1 and len(boundary_loops(cropped.faces)) == 1:
            return cropped.vertices, cropped.faces
    raise MeshError(
        f"Re-meshing at resolution {resolution} did not give a disk (one neck boundary, no handles) even with the "
        f"level set {OFFSETS_VOXELS[-1]} voxels outside the surface; try another resolution."
    )
