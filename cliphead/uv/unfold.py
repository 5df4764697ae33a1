"""Removing the folds a fixed-boundary map leaves (CLIP-Head §2.2's harmonic map and the landmark warp).

The layout's boundary curve is not convex (the shoulders of the neck arc bulge into the domain), and
Tutte's and Radó's guarantees — a map with positive weights onto a convex boundary does not fold — hold
only for a convex one. Where the neck band is squeezed thin in UV, its rows of vertices cross such a
bulge and the faces between them fold; a face whose three corners all lie on the boundary (an "ear"),
or that has an interior edge joining two boundary vertices, cannot unfold at all while the boundary is
pinned. So, after a solve:

:func:`remove_folds` repeats, a few rounds:

1. :func:`split_boundary_chords` splits every folded face's interior edge that joins two boundary
   vertices at its midpoint: the new vertex is interior, free to move (the surface is unchanged);
2. :func:`unfold` frees the folded faces' vertices and a few rings around them and re-solves a Tutte
   map with positive (mean-value) weights there with everything else held; a patch that touches the boundary is solved in
   coordinates that straighten the boundary stretch it touches (:class:`_Straightening`), so the pinned
   boundary it sees is a line, not a bulge.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve

#: Rings of neighbours around folded faces re-solved by :func:`unfold`, tried in turn.
UNFOLD_RINGS = (2, 4, 8, 16)
#: Rounds of chord splitting and unfolding :func:`remove_folds` runs at most.
FOLD_ROUNDS = 3


def signed_uv_areas(faces: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Twice the signed UV area of every face (negative: the face is folded over)."""
    t = uv[faces]
    d1, d2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    return d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]


def remove_folds(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, boundary: np.ndarray, pinned: np.ndarray = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices, faces and UVs of a map with its folds removed as far as :func:`split_boundary_chords` and
    :func:`unfold` can, in up to :data:`FOLD_ROUNDS` rounds (a face unfolded can leave a neighbour folded); a
    round that removes no fold ends them."""
    folds = int((signed_uv_areas(faces, uv) <= 0).sum())
    for _ in range(FOLD_ROUNDS):
        if folds == 0:
            break
        vertices, faces, uv = split_boundary_chords(vertices, faces, uv, boundary)
        uv = unfold(vertices, faces, uv, np.asarray(pinned, dtype=int), boundary)
        left = int((signed_uv_areas(faces, uv) <= 0).sum())
        if left >= folds:
            break
        folds = left
    return vertices, faces, uv


def split_boundary_chords(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, boundary: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each interior edge of a folded face whose two ends lie on the ``boundary`` at its midpoint (in 3D
    and in UV), both faces beside it in two. Returns the new vertices, faces and UVs; unchanged when no folded
    face has such an edge. The new vertices come after the old ones, so old indices keep their meaning."""
    on_boundary = np.zeros(len(vertices), dtype=bool)
    on_boundary[boundary] = True
    boundary_edges = {frozenset(pair) for pair in zip(boundary, np.roll(boundary, -1))}
    folded = faces[signed_uv_areas(faces, uv) <= 0]
    chords = {
        frozenset((int(face[k]), int(face[(k + 1) % 3])))
        for face in folded
        for k in range(3)
        if on_boundary[face[k]] and on_boundary[face[(k + 1) % 3]]
    } - boundary_edges
    if not chords:
        return vertices, faces, uv
    vertices, uv, faces = list(vertices), list(uv), faces.copy()
    for chord in chords:
        first, second = tuple(chord)
        middle = len(vertices)
        vertices.append((vertices[first] + vertices[second]) / 2)
        uv.append((uv[first] + uv[second]) / 2)
        faces = _split_edge(faces, first, second, middle)
    return np.asarray(vertices), faces, np.asarray(uv)


def _split_edge(faces: np.ndarray, first: int, second: int, middle: int) -> np.ndarray:
    """``faces`` with the edge ``first``–``second`` split at vertex ``middle``: each face (p, q, r) holding it as
    its consecutive corners p, q becomes (p, middle, r) in its place and (middle, q, r) at the end, keeping its
    orientation and the other faces' indices."""
    faces, added = faces.copy(), []
    for k in range(3):
        p, q, r = faces[:, k], faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        holds = ((p == first) & (q == second)) | ((p == second) & (q == first))
        for index in np.nonzero(holds)[0]:
            added.append([middle, q[index], r[index]])
            faces[index] = [p[index], middle, r[index]]
    return np.vstack([faces, np.asarray(added, dtype=faces.dtype).reshape(-1, 3)])


class _Straightening:
    """Coordinates in which a stretch of the boundary is the line y = 0: a rotation putting the stretch's chord on
    the x axis, then a vertical shear by the stretch's height over the chord (piecewise linear in x). A bijection
    of the plane; the identity when the stretch is not a graph over its chord (e.g. it turns a corner)."""

    def __init__(self, stretch: np.ndarray):
        chord = stretch[-1] - stretch[0] if len(stretch) > 1 else np.zeros(2)
        length = np.linalg.norm(chord)
        self.rotation, self.profile = np.eye(2), None
        if length == 0:
            return
        chord = chord / length
        rotation = np.stack([chord, [-chord[1], chord[0]]])
        local = stretch @ rotation.T
        if np.all(np.diff(local[:, 0]) > 0):
            self.rotation, self.profile = rotation, (local[:, 0], local[:, 1])

    def forward(self, points: np.ndarray) -> np.ndarray:
        local = points @ self.rotation.T
        if self.profile is not None:
            local[:, 1] -= np.interp(local[:, 0], *self.profile)
        return local

    def inverse(self, local: np.ndarray) -> np.ndarray:
        local = local.copy()
        if self.profile is not None:
            local[:, 1] += np.interp(local[:, 0], *self.profile)
        return local @ self.rotation


def _boundary_stretch(uv: np.ndarray, boundary: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """UVs of the shortest run of the boundary loop that holds every ``touched`` vertex, in loop order."""
    position = np.full(len(uv), -1)
    position[boundary] = np.arange(len(boundary))
    ordered = np.sort(position[touched])
    gaps = np.diff(np.append(ordered, ordered[0] + len(boundary)))
    start = ordered[(np.argmax(gaps) + 1) % len(ordered)]
    run = (start + np.arange(len(boundary) - gaps.max() + 1)) % len(boundary)
    return uv[boundary[run]]


def mean_value_laplacian(vertices: np.ndarray, faces: np.ndarray) -> sp.csr_matrix:
    """The Laplacian of Floater's mean-value weights, w_ij = (tan(α/2) + tan(β/2)) / |p_i - p_j| with α, β the
    angles at p_i beside the edge: positive on any mesh (unlike cotangent weights), so Tutte's theorem holds, and
    close to the surface's own shape (unlike uniform weights), so a re-solved patch keeps its neighbours' spacing."""
    rows, cols, weights = [], [], []
    for k in range(3):
        corner, ahead, behind = faces[:, k], faces[:, (k + 1) % 3], faces[:, (k + 2) % 3]
        to_ahead, to_behind = vertices[ahead] - vertices[corner], vertices[behind] - vertices[corner]
        length_ahead = np.maximum(np.linalg.norm(to_ahead, axis=1), 1e-12)
        length_behind = np.maximum(np.linalg.norm(to_behind, axis=1), 1e-12)
        cosine = np.einsum("ij,ij->i", to_ahead, to_behind) / (length_ahead * length_behind)
        half_tangent = np.tan(np.arccos(np.clip(cosine, -1.0, 1.0)) / 2)
        rows += [corner, corner]
        cols += [ahead, behind]
        weights += [half_tangent / length_ahead, half_tangent / length_behind]
    n = len(vertices)
    weight = sp.csr_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return (sp.diags(np.asarray(weight.sum(axis=1)).ravel()) - weight).tocsr()


def unfold(
    vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, pinned: np.ndarray, boundary: np.ndarray
) -> np.ndarray:
    """Remove folds from a map whose ``boundary`` loop (and ``pinned`` vertices) stay where they are.

    The vertices of folded faces and a few rings of neighbours are freed and re-placed by a Tutte map, with
    uniform weights and with the surface's mean-value weights (:func:`mean_value_laplacian`), each connected patch in the
    boundary-straightening coordinates of the boundary its folded faces touch; everything else, the boundary and
    the ``pinned`` vertices held. With positive weights a free patch whose held surroundings are convex comes out
    unfolded (Tutte's and Floater's theorem); the ring count grows, first with uniform then with mean-value
    weights, until no face is left folded or the attempts run out; the attempt with the fewest folds is returned.
    """
    folded = signed_uv_areas(faces, uv) <= 0
    if not folded.any():
        return uv
    n = len(uv)
    rows, cols = faces[:, [0, 1, 2, 1, 2, 0]].ravel(), faces[:, [1, 2, 0, 0, 1, 2]].ravel()
    adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adjacency.data[:] = 1.0
    uniform = (sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency).tocsr()
    held = np.zeros(n, dtype=bool)
    held[pinned] = True
    held[boundary] = True
    free = np.zeros(n, dtype=bool)
    free[np.unique(faces[folded])] = True
    patches, grown = [], 0
    for rings in UNFOLD_RINGS:
        for _ in range(rings - grown):
            free = free | ((adjacency @ free.astype(float)) > 0)
        patches.append(free & ~held)
        grown = rings
    best, best_folds = uv, int(folded.sum())
    for weights in ("uniform", "mean-value"):  # the mean-value Laplacian is built only if uniform weights fail
        laplacian = uniform if weights == "uniform" else mean_value_laplacian(vertices, faces)
        for patch in patches:
            candidate = _tutte_patches(adjacency, laplacian, uv, patch, boundary, faces[folded])
            folds = int((signed_uv_areas(faces, candidate) <= 0).sum())
            if folds < best_folds:
                best, best_folds = candidate, folds
            if folds == 0:
                return best
    return best


def _tutte_patches(
    adjacency: sp.csr_matrix,
    laplacian: sp.csr_matrix,
    uv: np.ndarray,
    free: np.ndarray,
    boundary: np.ndarray,
    folded: np.ndarray,
) -> np.ndarray:
    """``uv`` with each connected patch of ``free`` vertices re-placed by a Tutte map of its held surroundings, in
    the coordinates of :func:`_patch_straightening`."""
    free_index = np.nonzero(free)[0]
    count, labels = connected_components(adjacency[free_index][:, free_index], directed=False)
    result = uv.copy()
    for patch in range(count):
        index = free_index[labels == patch]
        ring = np.unique(adjacency[index].indices)
        straightening = _patch_straightening(uv, boundary, ring, folded)
        local = np.zeros_like(uv)
        local[ring] = straightening.forward(uv[ring])
        local[index] = 0.0
        rows = laplacian[index]
        result[index] = straightening.inverse(spsolve(rows[:, index].tocsc(), -rows @ local))
    return result


def _patch_straightening(uv: np.ndarray, boundary: np.ndarray, ring: np.ndarray, folded: np.ndarray) -> _Straightening:
    """Straightening of the boundary stretch a patch touches (its ``ring`` of neighbours); when that stretch turns
    a corner, of the stretch only its ``folded`` faces touch; the identity when it touches no boundary."""
    touched = np.intersect1d(ring, boundary)
    for stretch in (touched, np.intersect1d(touched, folded)):
        if len(stretch):
            straightening = _Straightening(_boundary_stretch(uv, boundary, stretch))
            if straightening.profile is not None:
                return straightening
    return _Straightening(np.zeros((0, 2)))
