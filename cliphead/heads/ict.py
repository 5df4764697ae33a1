"""The ICT-FaceKit linear head model (the stand-in for NPHM's scan dataset).

As the model's documentation defines it, a shape mode is ``shape_i - neutral`` and a head is

    V = neutral + sum_i w_id[i] * identity_mode[i] + sum_j w_ex[j] * expression_mode[j],

with identity weights drawn from N(0, 1) and expression weights in [0, 1] (ARKit blendshapes).
Units are centimetres, y up, the face looks along +z (the package's frame).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cliphead import assets

N_IDENTITY_MODES = 100
#: Last vertex (inclusive) of the face + head-and-neck parts; everything after is sockets, teeth, eyes.
SKIN_LAST_VERTEX = 11247
#: Vertex ranges (inclusive) of the model's parts, from ICT-FaceKit's README.
PARTS = {
    "face": (0, 9408),
    "head_and_neck": (9409, 11247),
    "mouth_socket": (11248, 13293),
    "eye_sockets": (13294, 14061),
    "gums_and_tongue": (14062, 17038),
    "teeth": (17039, 21450),
    "eyeballs": (21451, 24590),
    "eye_extras": (24591, 26718),
}


@dataclass(frozen=True)
class ICTFaceModel:
    """ICT-FaceKit's neutral mesh, identity and expression modes, topology, UVs and landmarks."""

    neutral: np.ndarray  # (V, 3) float32
    identity_modes: np.ndarray  # (100, V, 3) float32
    expression_modes: np.ndarray  # (53, V, 3) float32
    expression_names: tuple[str, ...]
    triangles: np.ndarray  # (T, 3) int64, the quads split into triangles
    triangle_uv_indices: np.ndarray  # (T, 3) int64 into ``uv``
    triangle_materials: np.ndarray  # (T,) int64 into ``material_names``
    material_names: tuple[str, ...]
    uv: np.ndarray  # (M, 2) float32, the model's original texture coordinates
    landmark_vertices: np.ndarray  # (68,) int64, Multi-PIE order

    @property
    def n_identity(self) -> int:
        return self.identity_modes.shape[0]

    def expression_index(self, name: str) -> int:
        try:
            return self.expression_names.index(name)
        except ValueError:
            raise KeyError(f"Unknown ICT expression '{name}'; known: {', '.join(self.expression_names)}") from None

    def vertices(self, identity: np.ndarray | None = None, expression: np.ndarray | None = None) -> np.ndarray:
        """All model vertices (V, 3) for identity weights (<=100) and expression weights (53)."""
        result = self.neutral.astype(np.float64).copy()
        if identity is not None:
            identity = np.asarray(identity, dtype=np.float64)
            k = identity.shape[0]
            if k > self.n_identity:
                raise ValueError(f"At most {self.n_identity} identity weights, got {k}.")
            result += np.tensordot(identity, self.identity_modes[:k], axes=1)
        if expression is not None:
            expression = np.asarray(expression, dtype=np.float64)
            if expression.shape != (len(self.expression_names),):
                raise ValueError(f"Expected {len(self.expression_names)} expression weights, got {expression.shape}.")
            active = np.nonzero(expression)[0]
            if active.size:
                result += np.tensordot(expression[active], self.expression_modes[active], axes=1)
        return result

    @property
    def skin_triangles(self) -> np.ndarray:
        """Triangles of the face and the head and neck (vertices 0..11247): open at eyes, mouth and neck."""
        return self.triangles[np.all(self.triangles <= SKIN_LAST_VERTEX, axis=1)]


def _parse_neutral(path: Path) -> dict[str, np.ndarray]:
    positions, uvs, triangles, triangle_uvs, materials = [], [], [], [], []
    material_names: list[str] = []
    current = -1
    with assets.open_text(path) as handle:
        for line in handle:
            if line.startswith("v "):
                positions.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("vt "):
                uvs.append([float(x) for x in line.split()[1:3]])
            elif line.startswith("usemtl"):
                name = line.split()[1]
                if name not in material_names:
                    material_names.append(name)
                current = material_names.index(name)
            elif line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                vertex = [int(c[0]) - 1 for c in corners]
                texture = [int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners]
                for k in range(1, len(corners) - 1):
                    triangles.append([vertex[0], vertex[k], vertex[k + 1]])
                    triangle_uvs.append([texture[0], texture[k], texture[k + 1]])
                    materials.append(current)
    return {
        "neutral": np.asarray(positions, dtype=np.float32),
        "uv": np.asarray(uvs, dtype=np.float32),
        "triangles": np.asarray(triangles, dtype=np.int64),
        "triangle_uv_indices": np.asarray(triangle_uvs, dtype=np.int64),
        "triangle_materials": np.asarray(materials, dtype=np.int64),
        "material_names": np.asarray(material_names),
    }


def _parse_positions(path: Path) -> np.ndarray:
    with assets.open_text(path) as handle:
        return np.asarray(
            [[float(x) for x in line.split()[1:4]] for line in handle if line.startswith("v ")],
            dtype=np.float32,
        )


def _build_arrays(folder: Path) -> dict[str, np.ndarray]:
    indices = assets.read_json(folder / "vertex_indices.json")
    arrays = _parse_neutral(assets.shape_file(folder, "generic_neutral_mesh"))
    neutral = arrays["neutral"]
    identity = [_parse_positions(assets.shape_file(folder, f"identity{i:03d}")) for i in range(N_IDENTITY_MODES)]
    expression = [_parse_positions(assets.shape_file(folder, name)) for name in indices["expressions"]]
    for shape in identity + expression:
        if shape.shape != neutral.shape:
            raise ValueError(f"ICT-FaceKit shape with {shape.shape[0]} vertices, expected {neutral.shape[0]}.")
    arrays["identity_modes"] = np.stack(identity) - neutral
    arrays["expression_modes"] = np.stack(expression) - neutral
    arrays["expression_names"] = np.asarray(indices["expressions"])
    arrays["landmark_vertices"] = np.asarray(indices["idx_to_landmark_verts"], dtype=np.int64)
    return arrays


def source_files(folder: Path) -> list[Path]:
    """The files the parsed model depends on (its cache key)."""
    return sorted(p for p in folder.iterdir() if p.name.endswith((".obj", ".obj.gz", ".json")))


@lru_cache(maxsize=2)
def load_ict_model(folder: Path | None = None) -> ICTFaceModel:
    """Load ICT-FaceKit (found by :func:`cliphead.assets.find_ict_facekit` unless ``folder`` is given).

    The first call parses the OBJ files (a few seconds); later calls read the cached ``.npz``.
    """
    folder = Path(folder) if folder is not None else assets.find_ict_facekit()
    key = "ict-" + assets.files_digest(source_files(folder))[:24]
    arrays = assets.load_cached_npz(key, lambda: _build_arrays(folder))
    return ICTFaceModel(
        neutral=arrays["neutral"],
        identity_modes=arrays["identity_modes"],
        expression_modes=arrays["expression_modes"],
        expression_names=tuple(str(n) for n in arrays["expression_names"]),
        triangles=arrays["triangles"],
        triangle_uv_indices=arrays["triangle_uv_indices"],
        triangle_materials=arrays["triangle_materials"],
        material_names=tuple(str(n) for n in arrays["material_names"]),
        uv=arrays["uv"],
        landmark_vertices=arrays["landmark_vertices"],
    )


def check_ict_facekit() -> dict:
    """Find ICT-FaceKit and load it (``cliphead check assets``): where it is, its sizes and the load time.

    The cache folder is reported too; the first load parses the OBJ files, later ones read the cache.
    """
    folder = assets.find_ict_facekit()
    start = time.perf_counter()
    model = load_ict_model(folder)
    seconds = time.perf_counter() - start
    return {
        "ict_facekit": str(folder),
        "n_vertices": int(model.neutral.shape[0]),
        "n_identity_modes": model.n_identity,
        "n_expression_modes": len(model.expression_names),
        "n_landmarks": len(model.landmark_vertices),
        "load_seconds": round(seconds, 3),
        "cache": str(assets.cache_dir()),
    }
