"""The released CLIP-Head code's UV layout (§2.2 as released), read from the user's CLIP-Head checkout.

The release fixes the layout by a reference head with texture coordinates (``reference_uv_vt_scaled.obj``)
and its seam (``0001_shape_seam.npy``: the seam's vertex indices; the reference holds a copy of each seam
vertex, appended after the others in the same order). A head is laid out like the reference:

1. in NPHM coordinates, centred on its vertex mean, each face is *front* (centre ``z > 0`` and
   ``y < 0.25``), else *left* (``x ≤ 0``) or *right*; the seam is every vertex that touches left and right
   faces but no front face — the midline from the top of the forehead over the crown and down the back;
2. the head is cut there: the left faces take copies of the seam vertices, appended after the others;
3. the cut head's boundary loop splits into four parts — the seam's left side (the copies), its right side
   (the seam vertices, and any other boundary vertex above ``y = 0``), and the rest (the neck's rim) on
   each side of ``x = 0`` — and each boundary vertex takes the UV of the nearest boundary vertex of the
   same part of the reference;
4. a harmonic map (cotangent weights) fills the interior.

Nothing of the layout ships with this package: the two files are the user's. The heads here are in the
ICT frame; they are converted to NPHM coordinates (:func:`cliphead.heads.nphm.ict_to_nphm`) for the
labelling and the nearest-neighbour transfer, so the reference is read in NPHM coordinates, as released.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import igl
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cliphead.heads.nphm import ict_to_nphm
from cliphead.meshes import MeshError
from cliphead.uv.aligned import AlignedHead

#: Front faces lie below this height (NPHM units, the head centred on its vertex mean).
FRONT_BELOW_Y = 0.25
#: The four parts of a cut head's boundary (step 3 of the module doc).
BOUNDARY_PARTS = ("seam_left", "seam_right", "rim_negative_x", "rim_positive_x")
LAYOUT_HELP = "official:REF_OBJ,SEAM_NPY (reference_uv_vt_scaled.obj and 0001_shape_seam.npy of a CLIP-Head checkout)"


@dataclass(frozen=True)
class OfficialLayout:
    """The reference's boundary, split into :data:`BOUNDARY_PARTS`: per part, positions and their UVs."""

    points: dict[str, np.ndarray]  # part → (K, 3) NPHM coordinates
    uv: dict[str, np.ndarray]  # part → (K, 2)


@dataclass(frozen=True)
class OfficialUV:
    """A head cut along the official seam with per-vertex UVs in the official layout (ICT frame)."""

    vertices: np.ndarray  # (N + S, 3) the head's vertices, then copies of its S seam vertices
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (N + S, 2)
    seam: np.ndarray  # (S,) the seam's vertex indices (copy k is vertex N + k)


def read_uv_obj(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices, triangles and per-vertex UVs of an OBJ whose every vertex has one texture coordinate."""
    vertices, coordinates, faces, corner_uv = [], [], [], []
    for line in Path(path).read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "v":
            vertices.append([float(x) for x in fields[1:4]])
        elif fields[0] == "vt":
            coordinates.append([float(x) for x in fields[1:3]])
        elif fields[0] == "f":
            corners = [field.split("/") for field in fields[1:]]
            if len(corners) != 3 or any(len(corner) < 2 or not corner[1] for corner in corners):
                raise MeshError(f"{path}: the reference must be triangles with texture coordinates (f v/vt …)")
            faces.append([int(corner[0]) - 1 for corner in corners])
            corner_uv.append([int(corner[1]) - 1 for corner in corners])
    vertices, faces = np.asarray(vertices, float), np.asarray(faces, np.int64)
    if not len(faces) or not coordinates:
        raise MeshError(f"{path} holds no textured triangles; give the CLIP-Head reference_uv_vt_scaled.obj")
    uv = np.full((len(vertices), 2), np.nan)
    uv[faces.ravel()] = np.asarray(coordinates, float)[np.asarray(corner_uv).ravel()]
    return vertices, faces, uv


def boundary_part_masks(vertices: np.ndarray, boundary: np.ndarray, seam: np.ndarray, copies: np.ndarray) -> dict:
    """Step 3 of the module doc: the boundary vertices of each part, as masks over ``boundary``."""
    left = np.isin(boundary, copies)
    right = np.isin(boundary, seam) | (~left & (vertices[boundary, 1] > 0))
    rim = ~left & ~right
    negative = vertices[boundary, 0] < 0
    masks = (left, right, rim & negative, rim & ~negative)
    return dict(zip(BOUNDARY_PARTS, masks, strict=True))


@lru_cache(maxsize=2)
def load_official_layout(spec: str) -> OfficialLayout:
    """The layout of ``official:REF_OBJ,SEAM_NPY`` (or ``REF_OBJ,SEAM_NPY``); clear errors for wrong files."""
    reference_path, _, seam_path = spec.removeprefix("official:").partition(",")
    if not reference_path or not seam_path:
        raise ValueError(f"The official layout is {LAYOUT_HELP}; got {spec!r}.")
    for path in (reference_path, seam_path):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path} does not exist (the official layout is {LAYOUT_HELP}).")
    vertices, faces, uv = read_uv_obj(Path(reference_path))
    seam = np.load(seam_path).astype(np.int64).ravel()
    if seam.size == 0 or seam.max() >= len(vertices) - seam.size:
        raise MeshError(f"{seam_path} is not the seam of {reference_path}: indices past the seam's copies")
    copies = np.arange(len(vertices) - seam.size, len(vertices))
    boundary = np.asarray(igl.boundary_loop(faces), np.int64)
    masks = boundary_part_masks(vertices, boundary, seam, copies)
    if not all(mask.any() for mask in masks.values()) or np.isnan(uv[boundary]).any():
        raise MeshError(f"{reference_path}'s boundary does not have the four parts of a cut head with UVs")
    return OfficialLayout(
        points={part: vertices[boundary[mask]] for part, mask in masks.items()},
        uv={part: uv[boundary[mask]] for part, mask in masks.items()},
    )


def seam_of(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: the seam's vertex indices and which faces are *left* (centred NPHM coordinates)."""
    centres = vertices[faces].mean(axis=1)
    front = (centres[:, 2] > 0) & (centres[:, 1] < FRONT_BELOW_Y)
    left = ~front & (centres[:, 0] <= 0)
    right = ~front & (centres[:, 0] > 0)
    touches = np.zeros((3, len(vertices)), bool)
    for row, kind in enumerate((front, left, right)):
        touches[row, faces[kind].ravel()] = True
    return np.flatnonzero(~touches[0] & touches[1] & touches[2]), left


@dataclass(frozen=True)
class SeamCut:
    """A head cut along the official seam (steps 1-2), in centred NPHM coordinates."""

    vertices: np.ndarray  # (N + S, 3) the head's vertices, then copies of its S seam vertices
    faces: np.ndarray  # (F, 3) the left faces on the copies
    seam: np.ndarray  # (S,) the seam's vertex indices (copy k is vertex N + k)


def cut_along_seam(vertices: np.ndarray, faces: np.ndarray) -> SeamCut:
    """Steps 1-2 of the module doc for a head in the ICT frame (centred in NPHM coordinates first)."""
    nphm = ict_to_nphm(np.asarray(vertices, float))
    nphm = nphm - nphm.mean(axis=0)
    faces = np.asarray(faces, np.int64)
    seam, left = seam_of(nphm, faces)
    if seam.size == 0:
        raise MeshError("the head has no back seam (no vertex touches both halves behind the face)")
    copy_of = np.full(len(nphm), -1)
    copy_of[seam] = len(nphm) + np.arange(seam.size)
    cut_faces = faces.copy()
    left_corners = cut_faces[left]
    cut_faces[left] = np.where(copy_of[left_corners] >= 0, copy_of[left_corners], left_corners)
    return SeamCut(np.concatenate([nphm, nphm[seam]]), cut_faces, seam)


def official_uv(vertices: np.ndarray, faces: np.ndarray, layout: OfficialLayout) -> OfficialUV:
    """The head ``(vertices, faces)`` (ICT frame, open at the neck) in the official layout (module doc).

    Raises :class:`~cliphead.meshes.MeshError` if the cut head is not a disk with the four boundary parts."""
    cut = cut_along_seam(vertices, faces)
    loops = igl.boundary_loop_all(cut.faces)
    if len(loops) != 1:
        raise MeshError(f"cut along the official seam, the head has {len(loops)} boundary loops, not one")
    boundary = np.asarray(loops[0], np.int64)
    copies = len(vertices) + np.arange(cut.seam.size)
    masks = boundary_part_masks(cut.vertices, boundary, cut.seam, copies)
    boundary_uv = np.zeros((boundary.size, 2))
    for part, mask in masks.items():
        if mask.any():
            _, nearest = cKDTree(layout.points[part]).query(cut.vertices[boundary[mask]])
            boundary_uv[mask] = layout.uv[part][nearest]
    uv = igl.harmonic(cut.vertices, cut.faces, boundary, boundary_uv, 1)
    ict = np.concatenate([vertices, np.asarray(vertices)[cut.seam]])
    return OfficialUV(ict, cut.faces, uv, cut.seam)


def weld_seam(vertices: np.ndarray, faces: np.ndarray, tolerance: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """A mesh cut along a seam (duplicated vertices, within ``tolerance`` of each other) joined into one surface.

    Pairs within ``tolerance`` are joined, wherever they lie; :func:`cliphead.meshes.merge_close_vertices` rounds
    to a grid instead, which splits a pair that straddles a grid line."""
    vertices = np.asarray(vertices)
    pairs = cKDTree(vertices).query_pairs(tolerance, output_type="ndarray")
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(vertices),) * 2)
    _, labels = connected_components(links, directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return vertices[first], inverse.ravel()[np.asarray(faces)]


def official_head(head: AlignedHead, layout: OfficialLayout) -> AlignedHead:
    """A head in the project's aligned layout (seam cut) laid out again in the official layout, landmarks kept."""
    vertices, faces = weld_seam(head.vertices, head.faces)
    laid_out = official_uv(vertices, faces, layout)
    return AlignedHead(laid_out.vertices, laid_out.faces, laid_out.uv, head.landmarks)
