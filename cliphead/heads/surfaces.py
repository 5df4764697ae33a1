"""Head surfaces from the ICT model: the open skin, its watertight variant, and sampled heads.

The skin (face + head and neck) is open at the eyes, the mouth and the neck. SDF work (the neural
head model, marching-cubes re-meshing) needs a closed surface, so :func:`watertight_skin` caps the
four openings; each cap is a fan to the opening's centroid oriented with the skin, and the result is
verified to have no boundary loop left and a positive enclosed volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cliphead.heads.expressions import expression_weights
from cliphead.heads.ict import SKIN_LAST_VERTEX, ICTFaceModel
from cliphead.meshes import MeshError, boundary_loops, cap_loops, signed_volume

#: Openings of the ICT skin: two eyes, the mouth and the neck.
N_SKIN_OPENINGS = 4


@dataclass
class Head:
    """A head mesh in the ICT frame with its 68 Multi-PIE landmarks in 3D."""

    vertices: np.ndarray  # (N, 3) float64, centimetres
    faces: np.ndarray  # (F, 3) int64
    landmarks: np.ndarray  # (68, 3) float64


def sample_identity(seed: int, n_modes: int = 100) -> np.ndarray:
    """Identity weights drawn from N(0, 1) (ICT-FaceKit's documented prior)."""
    return np.random.default_rng(seed).standard_normal(n_modes)


def skin_head(
    model: ICTFaceModel,
    identity: np.ndarray | None = None,
    expression: str | np.ndarray | None = None,
    strength: float = 1.0,
) -> Head:
    """The open skin surface (vertices 0..11247) of a head, with its landmarks.

    ``expression`` is a label of :mod:`cliphead.heads.expressions` or 53 ARKit weights.
    """
    if isinstance(expression, str):
        expression = expression_weights(expression, model.expression_names, strength)
    vertices = model.vertices(identity, expression)[: SKIN_LAST_VERTEX + 1]
    return Head(vertices, model.skin_triangles.copy(), vertices[model.landmark_vertices])


def watertight_skin(head: Head) -> Head:
    """The skin with its eye, mouth and neck openings capped: a closed, outward-oriented surface."""
    loops = boundary_loops(head.faces)
    if len(loops) != N_SKIN_OPENINGS:
        raise MeshError(f"Expected the ICT skin's {N_SKIN_OPENINGS} openings, found {len(loops)} boundary loops.")
    vertices, faces = cap_loops(head.vertices, head.faces, loops)
    if boundary_loops(faces):
        raise MeshError("Capping left boundary loops behind; the skin is not manifold.")
    if signed_volume(vertices, faces) <= 0:
        raise MeshError("The capped skin encloses a negative volume; its faces are oriented inwards.")
    return Head(vertices, faces, head.landmarks.copy())
