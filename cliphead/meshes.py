"""Triangle-mesh plumbing shared by the head, UV and render modules: I/O, boundaries, cleaning.

Meshes are plain ``(vertices (N, 3) float64, faces (F, 3) int64)`` arrays. Reading goes through
trimesh; writing is done here so that texture coordinates, materials and atomic replacement are
under the project's control: a file is written to a temporary name and moved into place, so a failed
write never overwrites what the user had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cliphead.files import atomic_path


class MeshError(ValueError):
    """A mesh the project cannot work with; the message says what is wrong and how to fix it."""


@dataclass
class CleanMesh:
    """A mesh after :func:`clean_mesh`, with notes on what was repaired (and, from the UV module's repair stage,
    the repairs' figures)."""

    vertices: np.ndarray
    faces: np.ndarray
    notes: list[str] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


def load_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a triangle mesh (OBJ, PLY, STL, OFF, GLB …) as ``(vertices, faces)``.

    Raises :class:`MeshError` for a missing, unreadable or empty file.
    """
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise MeshError(f"Mesh file not found: {path}")
    try:
        loaded = trimesh.load(path, force="mesh", process=False, maintain_order=True)
    except Exception as error:  # trimesh raises many kinds for a bad file
        raise MeshError(
            f"Could not read {path} as a mesh ({type(error).__name__}: {error}). "
            "Fix: give an OBJ/PLY/STL/OFF/GLB file with vertices and triangle faces."
        ) from error
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    if len(vertices) == 0 or len(faces) == 0:
        raise MeshError(f"{path} holds no triangles. Fix: give a mesh file with faces.")
    return vertices, faces


def write_obj(
    path: Path,
    vertices: np.ndarray,
    faces: np.ndarray,
    uv: np.ndarray | None = None,
    texture_name: str | None = None,
) -> None:
    """Write an OBJ (with per-vertex ``vt`` if ``uv`` is given, and an MTL naming ``texture_name``).

    The file is written to a temporary name and moved into place.
    """
    path = Path(path)
    lines = []
    if texture_name is not None:
        mtl = path.with_suffix(".mtl")
        with atomic_path(mtl) as tmp:
            tmp.write_text(f"newmtl head\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nillum 1\nmap_Kd {texture_name}\n")
        lines += [f"mtllib {mtl.name}", "usemtl head"]
    # Python floats and ints format about twice as fast as numpy scalars.
    body = ["v {:.6f} {:.6f} {:.6f}".format(*p) for p in np.asarray(vertices, dtype=float).tolist()]
    one_based = (np.asarray(faces) + 1).tolist()
    if uv is not None:
        body += ["vt {:.6f} {:.6f}".format(*t) for t in np.asarray(uv, dtype=float).tolist()]
        body += ["f {0}/{0} {1}/{1} {2}/{2}".format(*f) for f in one_based]
    else:
        body += ["f {} {} {}".format(*f) for f in one_based]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines + body) + "\n")


def read_obj_uv(path: Path) -> np.ndarray | None:
    """Per-vertex texture coordinates of an OBJ written by :func:`write_obj` (``vt`` lines), if any."""
    with open(path) as handle:
        uv = [[float(x) for x in line.split()[1:3]] for line in handle if line.startswith("vt ")]
    return np.asarray(uv) if uv else None


def row_keys(rows: np.ndarray) -> np.ndarray:
    """Each row of an integer array as one opaque value, so ``np.unique`` sorts bytes, not rows."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def edge_keys(edges: np.ndarray) -> np.ndarray:
    """One int64 per undirected edge (fast unique/sort instead of row-wise ``np.unique(axis=0)``)."""
    low, high = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    return low * (int(edges.max()) + 1) + high


def edge_face_counts(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges (E, 2) and how many faces hold each."""
    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, first, counts = np.unique(edge_keys(edges), return_index=True, return_counts=True)
    return np.sort(edges[first], axis=1), counts


def euler_characteristic(faces: np.ndarray) -> int:
    """V - E + F over the vertices faces use: 1 for a disk, 2 for a sphere, 2 - 2g - b in general."""
    return len(np.unique(faces)) - len(edge_face_counts(faces)[0]) + len(faces)


def boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Boundary loops as ordered vertex arrays, following the faces' orientation; longest first.

    Pure numpy, safe on closed meshes (libigl's ``boundary_loop`` crashes the interpreter with a
    segmentation fault on those).
    """
    if len(faces) == 0:
        return []
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, inverse, counts = np.unique(edge_keys(directed), return_inverse=True, return_counts=True)
    border = directed[counts[inverse] == 1]
    if len(border) == 0:
        return []
    successor = dict(zip(border[:, 0].tolist(), border[:, 1].tolist()))
    loops, seen = [], set()
    for start in border[:, 0].tolist():
        if start in seen:
            continue
        loop, current = [], start
        while current not in seen and current in successor:
            seen.add(current)
            loop.append(current)
            current = successor[current]
        if len(loop) >= 3:
            loops.append(np.asarray(loop, dtype=np.int64))
    return sorted(loops, key=len, reverse=True)


def vertex_components(n_vertices: int, faces: np.ndarray) -> np.ndarray:
    """Connected-component label of every vertex (through shared edges)."""
    rows = faces[:, [0, 1, 2]].ravel()
    cols = faces[:, [1, 2, 0]].ravel()
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_vertices, n_vertices))
    return connected_components(graph, directed=False)[1]


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    return 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume enclosed by a closed mesh (positive when faces are oriented outwards)."""
    tri = vertices[faces]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def cap_loops(vertices: np.ndarray, faces: np.ndarray, loops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Close each boundary loop with a fan to its centroid, oriented consistently with the mesh."""
    new_vertices, new_faces = [vertices], [faces]
    n = len(vertices)
    for loop in loops:
        centre = n + sum(len(v) for v in new_vertices[1:])
        new_vertices.append(vertices[loop].mean(axis=0, keepdims=True))
        # A boundary edge a->b of the mesh must appear as b->a in the cap.
        nxt = np.roll(loop, -1)
        new_faces.append(np.stack([nxt, loop, np.full_like(loop, centre)], axis=1))
    return np.concatenate(new_vertices), np.concatenate(new_faces)


def remove_unreferenced(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop vertices no face uses; returns (vertices, faces, old index of every kept vertex)."""
    used = np.unique(faces)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return vertices[used], remap[faces], used


def clean_mesh(vertices: np.ndarray, faces: np.ndarray, area_epsilon: float = 1e-18) -> CleanMesh:
    """Repair what can be repaired, refuse what cannot.

    - NaN or infinite coordinates: :class:`MeshError` (nothing sensible can be guessed).
    - face indices out of range: :class:`MeshError`.
    - coincident vertices: welded (so collapsed triangles become repeated-index ones).
    - degenerate faces (repeated index or zero area) and duplicated faces: removed, noted.
    - several connected components: the largest (by area) kept, noted.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    notes: list[str] = []
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise MeshError(f"Faces must be triangles (F, 3), got shape {faces.shape}.")
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise MeshError("Face indices point outside the vertex array. Fix: re-export the mesh.")
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise MeshError(
            f"{int(bad.sum())} vertices have NaN or infinite coordinates (first: vertex {int(np.argmax(bad))}). "
            "Fix: repair or re-extract the mesh (e.g. an SDF evaluated outside its domain)."
        )
    scale = max(1.0, float(np.ptp(vertices, axis=0).max()))
    vertices, faces = merge_close_vertices(vertices, faces, tolerance=1e-9 * scale)
    degenerate, duplicated = degenerate_faces(vertices, faces, area_epsilon * scale**2)
    if degenerate.any():
        notes.append(f"removed {int(degenerate.sum())} degenerate (zero-area) faces")
    if duplicated.any():
        notes.append(f"removed {int(duplicated.sum())} duplicated faces")
    faces = faces[~(degenerate | duplicated)]
    if len(faces) == 0:
        raise MeshError("The mesh has no non-degenerate faces left.")
    largest = largest_area_component(vertices, faces)
    return CleanMesh(largest.vertices, largest.faces, notes + largest.notes)


def largest_area_component(vertices: np.ndarray, faces: np.ndarray) -> CleanMesh:
    """The connected component with the largest area (a note says so when there were several), without
    unreferenced vertices."""
    labels = vertex_components(len(vertices), faces)
    face_labels = labels[faces[:, 0]]
    n_components = len(np.unique(face_labels))
    notes = []
    if n_components > 1:
        area = np.bincount(face_labels, weights=face_areas(vertices, faces))
        keep = int(np.argmax(area))
        faces = faces[face_labels == keep]
        notes.append(
            f"the mesh has {n_components} connected components; kept the largest "
            f"({100 * area[keep] / area.sum():.1f}% of the area)"
        )
    vertices, faces, _ = remove_unreferenced(vertices, faces)
    return CleanMesh(vertices, faces, notes)


def degenerate_faces(vertices: np.ndarray, faces: np.ndarray, min_area: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two face masks: degenerate (a repeated vertex index, or area ``<= min_area``), and duplicated (the same
    three vertices as an earlier non-degenerate face, in any order)."""
    repeated = (faces[:, 0] == faces[:, 1]) | (faces[:, 1] == faces[:, 2]) | (faces[:, 2] == faces[:, 0])
    degenerate = repeated | (face_areas(vertices, faces) <= min_area)
    kept = np.flatnonzero(~degenerate)
    _, first = np.unique(row_keys(np.sort(faces[kept], axis=1)), return_index=True)
    duplicated = np.zeros(len(faces), dtype=bool)
    duplicated[kept] = True
    duplicated[kept[first]] = False
    return degenerate, duplicated


def without_degenerate_faces(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mesh without degenerate or duplicated faces (:func:`degenerate_faces`) and unreferenced vertices."""
    degenerate, duplicated = degenerate_faces(vertices, faces)
    kept_vertices, kept_faces, _ = remove_unreferenced(vertices, faces[~(degenerate | duplicated)])
    return kept_vertices, kept_faces


def merge_close_vertices(
    vertices: np.ndarray, faces: np.ndarray, tolerance: float = 1e-7
) -> tuple[np.ndarray, np.ndarray]:
    """Weld vertices closer than ``tolerance`` (on a grid of that size); the others keep their order."""
    keys = np.round(vertices / tolerance).astype(np.int64)
    _, first, inverse = np.unique(row_keys(keys), return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return vertices[first[order]], rank[inverse.ravel()][faces]
