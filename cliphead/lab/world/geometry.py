"""Geometry words measured on the head mesh: the shape half of an exact caption.

CLIP-Head §2.1 builds text-shape pairs for the neural head model and §2.3 captions the texture
scans; in this synthetic world the caption of a head can be exact, so besides the painted attributes
it names the head's shape: a handful of measures taken on the mesh from its 68 Multi-PIE landmarks
(plus the surface where landmarks do not reach), each binned against the tertiles of a random ICT
population into a low word, a high word, or nothing (the middle third).

Measures are in centimetres, in the package's frame (ICT: y up, the face looks along +z):

| measure         | low / high words                 | how it is measured                                      |
|-----------------|----------------------------------|---------------------------------------------------------|
| face_width      | narrow face / wide face          | landmarks 1-15 (jaw contour at cheekbone level)          |
| face_length     | short face / long face           | nasion 27 to chin 8                                      |
| nose_length     | short nose / long nose           | nasion 27 to nose tip 30                                 |
| nose_width      | narrow nose / wide nose          | nostril corners 31-35                                    |
| jaw_width       | narrow jaw / wide jaw            | jaw contour 4-12 (near the jaw angles)                   |
| eye_spacing     | close-set eyes / wide-set eyes   | inner eye corners 39-42                                  |
| forehead_height | low forehead / high forehead     | surface: brow line up the midline to where it recedes    |
| chin            | receding chin / prominent chin   | surface: chin's front (z) relative to the lips' front    |
| lip_fullness    | thin lips / full lips            | midline lip heights 51-62 plus 66-57                     |

The two surface measures read only the vertices near the face's midline (a slab of half-width
:data:`MIDLINE_HALF_WIDTH` around the landmarks' mean x), so they work on any head mesh in the ICT
frame (the ICT topology, a marching-cubes re-mesh, a scan) without faces or vertex correspondence:

- forehead_height: the forehead's front is the most forward midline point above the brow line (the
  mean height of the ten brow landmarks); going up, the forehead ends where the midline surface has
  receded :data:`FOREHEAD_RECESSION` behind that front, i.e. where it turns back over the crown. The
  measure is the height of that point above the brow line. The forehead is convex, so the level is
  crossed once; the crossing is a least-squares line ``y(z)`` through the midline vertices within
  :data:`FOREHEAD_BAND` of the level, which keeps it independent of how densely the mesh is sampled.
- chin: the most forward midline point in the lower half between the lower lip (57) and the chin
  (8) -- the soft-tissue pogonion -- minus the most forward midline point of the lips (between
  landmarks 57 and 51). Negative values are chins behind the lips, as seen in profile. Both depths
  come from the surface, so a mesh lying a little off its landmarks (a re-mesh) measures the same.

The population is neutral faces; :func:`measure_geometry` measures whatever mesh it is given, and
expressions move some measures (an open jaw lengthens the face and pulls the chin back behind the
lips, raised brows lower the forehead, a pout or rolled-in lips change lip fullness), so caption a
head's words from its neutral shape.

Population tertiles (``population_tertiles()``: 1000 N(0, 1) identities, seed 0), cm: face_width
14.21 / 14.88, face_length 11.05 / 11.58, nose_length 3.96 / 4.19, nose_width 2.38 / 2.62,
jaw_width 11.12 / 11.73, eye_spacing 3.54 / 3.83, forehead_height 4.65 / 5.13, chin -1.05 / -0.61,
lip_fullness 1.90 / 2.20. ICT's mean (neutral) face lies in the middle third of every measure.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from cliphead.heads.ict import SKIN_LAST_VERTEX, load_ict_model

#: Half-width (cm) of the midline slab the surface measures read.
MIDLINE_HALF_WIDTH = 1.0
#: How far (cm) behind the forehead's front the midline surface must recede to end the forehead.
FOREHEAD_RECESSION = 2.0
#: Half-width (cm, in z) of the band of midline vertices the forehead's end is fitted through.
FOREHEAD_BAND = 0.5
#: Identities per batch when measuring the population.
_BATCH = 100


class GeometryMeasure(NamedTuple):
    """A measure's caption words (below the first tertile, above the second) and how it is taken."""

    low: str
    high: str
    doc: str


#: The measures in caption order: name -> (low word, high word, how it is measured).
GEOMETRY_MEASURES: dict[str, GeometryMeasure] = {
    "face_width": GeometryMeasure("narrow face", "wide face", "distance of jaw-contour landmarks 1 and 15"),
    "face_length": GeometryMeasure("short face", "long face", "distance of nasion 27 and chin 8"),
    "nose_length": GeometryMeasure("short nose", "long nose", "distance of nasion 27 and nose tip 30"),
    "nose_width": GeometryMeasure("narrow nose", "wide nose", "distance of nostril corners 31 and 35"),
    "jaw_width": GeometryMeasure("narrow jaw", "wide jaw", "distance of jaw-contour landmarks 4 and 12"),
    "eye_spacing": GeometryMeasure("close-set eyes", "wide-set eyes", "distance of inner eye corners 39 and 42"),
    "forehead_height": GeometryMeasure(
        "low forehead", "high forehead", "height over the brow line where the midline recedes 2 cm behind the forehead"
    ),
    "chin": GeometryMeasure("receding chin", "prominent chin", "depth of the midline chin front minus the lips'"),
    "lip_fullness": GeometryMeasure("thin lips", "full lips", "midline upper (51-62) plus lower (66-57) lip height"),
}

#: Landmark pairs of the distance measures (Multi-PIE indices).
_LANDMARK_PAIRS = {
    "face_width": (1, 15),
    "face_length": (27, 8),
    "nose_length": (27, 30),
    "nose_width": (31, 35),
    "jaw_width": (4, 12),
    "eye_spacing": (39, 42),
}


def _distance(landmarks: np.ndarray, i: int, j: int) -> np.ndarray:
    return np.linalg.norm(landmarks[..., i, :] - landmarks[..., j, :], axis=-1)


def _masked_max(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Largest masked value along the last axis (NaN where nothing is masked)."""
    return np.where(mask.any(axis=-1), np.where(mask, values, -np.inf).max(axis=-1), np.nan)


def _line_at(u: np.ndarray, v: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Least-squares line ``v = a + b u`` through the masked points, evaluated at ``u = 0`` (NaN if too few)."""
    u, v = np.where(mask, u, 0.0), np.where(mask, v, 0.0)
    n, su, sv = mask.sum(-1), u.sum(-1), v.sum(-1)
    suu, suv = (u * u).sum(-1), (u * v).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * suv - su * sv) / (n * suu - su * su)
        return (sv - slope * su) / n


def _measure(vertices: np.ndarray, landmarks: np.ndarray) -> dict[str, np.ndarray]:
    """All measures of a batch of heads: vertices (..., N, 3), landmarks (..., 68, 3) -> arrays (...)."""
    measures = {name: _distance(landmarks, i, j) for name, (i, j) in _LANDMARK_PAIRS.items()}
    x, y, z = vertices[..., 0], vertices[..., 1], vertices[..., 2]
    midline = np.abs(x - landmarks[..., :, 0].mean(axis=-1)[..., None]) <= MIDLINE_HALF_WIDTH

    brow_y = landmarks[..., 17:27, 1].mean(axis=-1)[..., None]
    above_brows = midline & (y > brow_y)
    front = _masked_max(z, above_brows)[..., None]
    level = front - FOREHEAD_RECESSION
    measures["forehead_height"] = _line_at(z - level, y, above_brows & (np.abs(z - level) <= FOREHEAD_BAND))
    measures["forehead_height"] -= brow_y[..., 0]

    lip_y, chin_y = landmarks[..., 57, 1][..., None], landmarks[..., 8, 1][..., None]
    lower_chin = midline & (y >= chin_y) & (y <= (lip_y + chin_y) / 2)
    lips = midline & (y >= lip_y) & (y <= landmarks[..., 51, 1][..., None])
    measures["chin"] = _masked_max(z, lower_chin) - _masked_max(z, lips)

    measures["lip_fullness"] = _distance(landmarks, 51, 62) + _distance(landmarks, 66, 57)
    return measures


def measure_geometry(vertices: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
    """The :data:`GEOMETRY_MEASURES` of one head mesh (cm), in table order.

    ``vertices`` (N, 3) is any head surface in the ICT frame (any topology); ``landmarks`` (68, 3)
    its Multi-PIE landmarks. Raises ``ValueError`` when the mesh has no vertex where a surface
    measure looks (no forehead or chin on the midline).
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or landmarks.shape != (68, 3):
        raise ValueError(f"Expected (N, 3) vertices and (68, 3) landmarks, got {vertices.shape} and {landmarks.shape}.")
    measures = {name: float(value) for name, value in _measure(vertices, landmarks).items()}
    missing = [name for name, value in measures.items() if not np.isfinite(value)]
    if missing:
        raise ValueError(f"No midline surface to measure {', '.join(missing)}: is the mesh a head in the ICT frame?")
    return {name: measures[name] for name in GEOMETRY_MEASURES}


@lru_cache(maxsize=4)
def population_tertiles(n: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """The 1/3 and 2/3 quantiles of every measure over ``n`` random neutral ICT heads.

    Identities are N(0, 1) weights of all 100 modes drawn from ``default_rng(seed)`` (as ``cliphead
    sample head`` draws them); the skin (vertices 0..SKIN_LAST_VERTEX) is measured in batches.
    """
    model = load_ict_model()
    identities = np.random.default_rng(seed).standard_normal((n, model.n_identity))
    neutral = model.neutral[: SKIN_LAST_VERTEX + 1].astype(np.float64)
    modes = model.identity_modes[:, : SKIN_LAST_VERTEX + 1].astype(np.float64)
    columns: dict[str, list[np.ndarray]] = {name: [] for name in GEOMETRY_MEASURES}
    for start in range(0, n, _BATCH):
        vertices = neutral + np.tensordot(identities[start : start + _BATCH], modes, axes=1)
        for name, values in _measure(vertices, vertices[:, model.landmark_vertices]).items():
            columns[name].append(values)
    tertiles = {}
    for name, chunks in columns.items():
        low, high = np.quantile(np.concatenate(chunks), [1 / 3, 2 / 3])
        tertiles[name] = (float(low), float(high))
    return tertiles


def geometry_words(measures: dict[str, float], tertiles: dict[str, tuple[float, float]]) -> dict[str, str | None]:
    """Each measure's caption word: low word below the first tertile, high word above the second, else None."""
    words: dict[str, str | None] = {}
    for name, value in measures.items():
        measure, (low, high) = GEOMETRY_MEASURES[name], tertiles[name]
        words[name] = measure.low if value < low else measure.high if value > high else None
    return words
