"""A corpus of head meshes with the defects of meshes from elsewhere, to measure the repair stage
(:mod:`cliphead.uv.repair`, :mod:`cliphead.uv.frame`) in front of the aligned map (CLIP-Head §2.2).

Sources: ICT-FaceKit identities re-meshed by marching cubes and cut at the neck (their signed distance
grid kept, so that tunnels and loops can be carved into the solid), and neural-head-model identities
extracted at their zero level set at several resolutions (the thin slits of a learned SDF give them
real handles). Defects, each applied to a clean head:

- in the solid: a tunnel drilled through the ear region, a hair-like loop standing on the crown's back;
- in the mesh: an edge of the upper lip welded onto the lower lip (a non-manifold edge and vertices),
  holes punched in the cheek, forehead and back of the head, a ragged and an oblique neck cut, decimation by vertex
  clustering to 10k and 30k faces, vertex noise;
- in the frame: millimetres, decimetres, metres; z up; facing -z; y down.

Every mesh is deterministic (seeded) and cached in the user cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import ndimage

from cliphead.assets import load_cached_npz
from cliphead.heads.remesh import (
    NECK_PLANE_Y,
    crop_plane,
    crop_below,
    grid_axes,
    grid_points,
    largest_component,
    marching_cubes_mesh,
    occupancy_grid,
    signed_distance_grid,
)
from cliphead.meshes import (
    clean_mesh,
    face_areas,
    merge_close_vertices,
    remove_unreferenced,
    without_degenerate_faces,
)

#: Marching-cubes resolution of the ICT heads, and the level set's offset outside the surface (voxels).
ICT_RESOLUTION = 128
ICT_OFFSET_VOXELS = 0.5
NEURAL_RESOLUTIONS = (64, 128, 256, 384)
SOLID_DEFECTS = ("ear tunnel", "hair loop")
FRAME_DEFECTS = {
    "millimetres": (0.1, np.eye(3)),
    "decimetres": (10.0, np.eye(3)),
    "metres": (100.0, np.eye(3)),
    "z up": (1.0, np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])),
    "facing -z": (1.0, np.diag([-1.0, 1, -1])),
    "y down": (1.0, np.diag([-1.0, -1, 1])),
}

#: The quick form's defects (on one ICT identity, with one neural head beside them).
QUICK_DEFECTS = ("none", "hair loop", "welded lips", "holes", "ragged neck", "decimated 10k", "z up", "millimetres")


@dataclass(frozen=True)
class DefectCase:
    """One head of the corpus: where it came from, what was done to it, the mesh and its known landmarks."""

    source: str  # "ict" or "neural-RES"
    seed: int
    defect: str
    vertices: np.ndarray
    faces: np.ndarray
    landmarks: np.ndarray  # (68, 3), in the mesh's (possibly defective) frame


def ict_solid(seed: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The grid axes, signed distances and landmarks of an ICT identity's closed skin."""
    from cliphead.heads.ict import load_ict_model
    from cliphead.heads.surfaces import sample_identity, skin_head, watertight_skin

    skin = skin_head(load_ict_model(), sample_identity(seed))
    closed = watertight_skin(skin)
    axes = grid_axes(closed.vertices, ICT_RESOLUTION)
    points = grid_points(axes)
    inside = ndimage.binary_fill_holes(largest_component(occupancy_grid(closed.vertices, closed.faces, axes, points)))
    return axes, signed_distance_grid(closed.vertices, closed.faces, axes, points, inside), skin.landmarks


def carve(axes: list[np.ndarray], sdf: np.ndarray, defect: str, landmarks: np.ndarray) -> np.ndarray:
    """The solid with a tunnel through the ear region (``ear tunnel``) or a loop on the back of the crown."""
    x, y, z = np.meshgrid(*axes, indexing="ij")
    if defect == "ear tunnel":
        # A thin horizontal bore along z just behind the jaw's top (landmark 0), through the ear's root.
        ear = landmarks[0] + np.array([-0.8, -1.0, -3.5])
        bore = np.sqrt((x - ear[0]) ** 2 + (y - ear[1]) ** 2) - 0.3
        return np.maximum(sdf, -np.where(np.abs(z - ear[2]) < 3.0, bore, 1.0))
    if defect == "hair loop":
        # A ring in the midplane standing half out of the surface at the back of the crown.
        occiput = np.array([0.0, landmarks[19, 1] + 4.0, axes[2][np.argmin(sdf[len(axes[0]) // 2, :, :].min(axis=0))]])
        centre_y, centre_z = occiput[1], occiput[2] + 0.2
        ring = np.sqrt((np.sqrt((y - centre_y) ** 2 + (z - centre_z) ** 2) - 1.4) ** 2 + x**2) - 0.4
        return np.minimum(sdf, ring)
    raise ValueError(f"Unknown solid defect {defect!r}")


def solid_mesh(axes: list[np.ndarray], sdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes of the solid a little outside its surface, cut at the neck plane, largest piece."""
    spacing = axes[0][1] - axes[0][0]
    cut = crop_below(*marching_cubes_mesh(sdf, axes, ICT_OFFSET_VOXELS * spacing), NECK_PLANE_Y)
    cleaned = clean_mesh(*cut)
    return cleaned.vertices, cleaned.faces


def weld_lips(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """An edge of the upper lip welded onto an edge of the lower lip: two vertices and an edge become non-manifold."""
    upper = np.argsort(np.linalg.norm(vertices - landmarks[51] + [0, 0.6, 0], axis=1))[0]
    lower = np.argsort(np.linalg.norm(vertices - landmarks[57] - [0, 0.6, 0], axis=1))[0]
    upper_next = faces[np.nonzero((faces == upper).any(axis=1))[0][0]]
    lower_next = faces[np.nonzero((faces == lower).any(axis=1))[0][0]]
    a = upper_next[upper_next != upper][0]
    b = lower_next[lower_next != lower][0]
    remap = np.arange(len(vertices))
    remap[[upper, a]] = [lower, b]
    welded_vertices, welded_faces, _ = remove_unreferenced(vertices, remap[faces])
    return without_degenerate_faces(welded_vertices, welded_faces)


def punch_holes(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Holes of 0.6-1.0 cm in the cheek, the forehead and the back of the head."""
    centres = [(landmarks[2] + landmarks[31]) / 2, landmarks[19] + [1.5, 2.5, 0.0], [0.0, landmarks[19, 1], -9.0]]
    keep = np.ones(len(faces), dtype=bool)
    for centre in centres:
        anchor = vertices[np.argmin(np.linalg.norm(vertices - centre, axis=1))]
        keep &= np.linalg.norm(vertices[faces].mean(axis=1) - anchor, axis=1) > rng.uniform(0.6, 1.0)
    return remove_unreferenced(vertices, faces[keep])[:2]


def ragged_neck(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """The neck cut along a jagged line 0.5-2.5 cm above the clean cut, crossing the midline many times."""
    centroids = vertices[faces].mean(axis=1)
    angle = np.arctan2(centroids[:, 0], centroids[:, 2])
    phases = rng.uniform(0, 2 * np.pi, 2)
    line = NECK_PLANE_Y + 1.5 + 0.6 * np.sin(9 * angle + phases[0]) + 0.4 * np.sin(23 * angle + phases[1])
    kept = clean_mesh(vertices, faces[centroids[:, 1] > line])
    return kept.vertices, kept.faces


def oblique_neck(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """The neck cut by a plane tilted 15° about x, lower at the front, through y = neck + 2 cm at z = 0."""
    tilt = np.radians(15.0)
    normal = np.array([0.0, np.cos(tilt), np.sin(tilt)])
    return crop_plane(vertices, faces, np.array([0.0, NECK_PLANE_Y + 2.0, 0.0]), normal)


def decimate(target_faces: int) -> Callable:
    """Decimation by vertex clustering to about ``target_faces`` faces (welds, drops collapsed faces)."""

    def decimated(vertices, faces, landmarks, rng):
        cell = np.sqrt(2.0 * face_areas(vertices, faces).sum() / target_faces)  # a cell holds about two faces
        for _ in range(8):
            merged = without_degenerate_faces(*merge_close_vertices(vertices, faces, cell))
            if len(merged[1]) <= target_faces:
                return merged
            cell *= 1.15
        return merged

    return decimated


def vertex_noise(vertices: np.ndarray, faces: np.ndarray, landmarks: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Every vertex moved by Gaussian noise of 0.3 mm per axis."""
    return vertices + rng.normal(0.0, 0.03, vertices.shape), faces


MESH_DEFECTS: dict[str, Callable] = {
    "welded lips": weld_lips,
    "holes": punch_holes,
    "ragged neck": ragged_neck,
    "oblique neck": oblique_neck,
    "decimated 10k": decimate(10_000),
    "decimated 30k": decimate(30_000),
    "vertex noise": vertex_noise,
}


def _clean_source(source: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undamaged head of a source: an ICT identity re-meshed, or a neural identity at ``neural-RES``."""
    if source == "ict":
        axes, sdf, landmarks = ict_solid(seed)
        return *solid_mesh(axes, sdf), landmarks
    import torch

    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.generation import extract_canonical

    model = load_head_model()
    z_id = model.sample_identity_code(seed)
    extraction = extract_canonical(model, z_id, int(source.split("-")[1]))
    with torch.no_grad():
        landmarks = model.canonical_landmarks(z_id).double().numpy()
    return extraction.vertices, extraction.faces, landmarks


def _build_case(source: str, seed: int, defect: str) -> dict[str, np.ndarray]:
    """The arrays of one corpus head (see :func:`corpus_case`)."""
    rng = np.random.default_rng([seed, len(defect), sum(map(ord, defect))])
    if defect == "none":
        return dict(zip(("vertices", "faces", "landmarks"), _clean_source(source, seed)))
    if defect in SOLID_DEFECTS:
        axes, sdf, landmarks = ict_solid(seed)
        vertices, faces = solid_mesh(axes, carve(axes, sdf, defect, landmarks))
        return {"vertices": vertices, "faces": faces, "landmarks": landmarks}
    clean = corpus_case(source, seed, "none")
    vertices, faces, landmarks = clean.vertices, clean.faces, clean.landmarks
    if defect in MESH_DEFECTS:
        vertices, faces = MESH_DEFECTS[defect](vertices, faces, landmarks, rng)
    elif defect in FRAME_DEFECTS:
        unit_cm, turn = FRAME_DEFECTS[defect]
        vertices, landmarks = (points @ turn.T / unit_cm for points in (vertices, landmarks))
    else:
        raise ValueError(f"Unknown defect {defect!r}")
    return {"vertices": vertices, "faces": faces, "landmarks": landmarks}


def corpus_case(source: str, seed: int, defect: str) -> DefectCase:
    """One head of the corpus (built once, then read from the user cache)."""
    key = f"defect-corpus-v1-{source}-{seed}-{defect.replace(' ', '_')}"
    arrays = load_cached_npz(key, partial(_build_case, source, seed, defect))
    return DefectCase(source, seed, defect, arrays["vertices"], arrays["faces"].astype(np.int64), arrays["landmarks"])


def corpus_plan(quick: bool = False) -> list[tuple[str, int, str]]:
    """The corpus as (source, seed, defect): every defect on ICT identities, the neural model at each resolution,
    and some mesh and frame defects on neural heads (120 heads); the quick form has one of each kind (9)."""
    defects = ["none", *SOLID_DEFECTS, *MESH_DEFECTS, *FRAME_DEFECTS]
    if quick:
        return [("ict", 0, defect) for defect in QUICK_DEFECTS] + [("neural-64", 0, "none")]
    plan = [("ict", seed, defect) for seed in range(6) for defect in defects]
    plan += [(f"neural-{res}", seed, "none") for seed in range(3) for res in NEURAL_RESOLUTIONS]
    neural_defects = ("welded lips", "holes", "z up", "millimetres")
    return plan + [("neural-128", seed, defect) for seed in range(3) for defect in neural_defects]
