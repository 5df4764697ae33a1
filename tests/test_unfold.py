"""Fold removal against a non-convex fixed boundary (cliphead.uv.unfold)."""

import numpy as np

from cliphead.uv.unfold import remove_folds, signed_uv_areas, unfold


def grid_strip(columns: int = 41, rows: int = 12, bump: float = 0.01):
    """A strip mesh whose bottom boundary bulges into the domain by ``bump`` while its first rows lie only 0.001
    apart: the rows cross the bulge, as a squeezed neck band crosses the layout curve's shoulders."""
    x = np.linspace(0.0, 1.0, columns)
    heights = np.append(0.001 * np.arange(rows - 1), 0.1)
    uv = np.array([[xi, yj] for yj in heights for xi in x])
    bottom = np.arange(columns)
    uv[bottom, 1] = bump * np.exp(-(((x - 0.5) / 0.1) ** 2))
    index = np.arange(rows * columns).reshape(rows, columns)
    faces = []
    for j in range(rows - 1):
        for i in range(columns - 1):
            a, b, c, d = index[j, i], index[j, i + 1], index[j + 1, i + 1], index[j + 1, i]
            faces += [[a, b, c], [a, c, d]]
    boundary = np.concatenate([index[0], index[1:, -1], index[-1, ::-1][1:], index[-2:0:-1, 0]])
    return uv, np.array(faces), boundary


def test_rows_crossing_a_bulge_of_the_boundary_are_unfolded():
    uv, faces, boundary = grid_strip()
    folded_before = int((signed_uv_areas(faces, uv) <= 0).sum())
    vertices = np.column_stack([uv, np.zeros(len(uv))])
    _, new_faces, new_uv = remove_folds(vertices, faces, uv, boundary)
    assert folded_before > 20
    assert (signed_uv_areas(new_faces, new_uv) > 0).all()
    np.testing.assert_array_equal(new_uv[boundary], uv[boundary])


def test_an_ear_on_a_dent_of_the_boundary_is_split_and_unfolded():
    # Boundary 0-1-2-3-4 counter-clockwise; vertex 3 is dented into the domain in UV, so the ear (2, 3, 4),
    # whose corners are all pinned, is folded; vertex 5 is the one interior vertex.
    surface = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0.5, 1.2, 0], [0, 1, 0], [0.5, 0.4, 0]], dtype=float)
    uv = surface[:, :2].copy()
    uv[3] = [0.5, 0.8]
    faces = np.array([[0, 1, 5], [1, 2, 5], [2, 4, 5], [2, 3, 4], [4, 0, 5]])
    boundary = np.arange(5)
    assert signed_uv_areas(faces, uv)[3] < 0
    assert np.isclose(unfold(surface, faces, uv, np.array([], dtype=int), boundary), uv).all()  # pinned corners: stuck
    vertices, new_faces, new_uv = remove_folds(surface, faces, uv, boundary)
    assert len(vertices) == 7 and len(new_faces) == 7
    np.testing.assert_allclose(vertices[6], (surface[2] + surface[4]) / 2)
    assert (signed_uv_areas(new_faces, new_uv) > 0).all()
    np.testing.assert_array_equal(new_uv[:5], uv[:5])
