"""A head mesh from elsewhere made ready for the aligned map (CLIP-Head §2.2), in four steps:

1. its frame: units and axes found from the head or given (:mod:`cliphead.uv.frame`);
2. the repair stage: non-manifold parts split, holes capped, handles closed (:mod:`cliphead.uv.repair`,
   through :func:`cliphead.uv.checks.prepare_head_mesh`);
3. its 68 landmarks: given, or found by FaceMesh on renders of it (:mod:`cliphead.uv.auto_landmarks`);
4. the aligned map with the landmark warp (:func:`cliphead.uv.aligned.aligned_uv`).

``cliphead align uv`` writes the result to files, ``cliphead generate --mesh`` textures it; the lab's defect
corpus measures it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cliphead.heads.io import landmarks_path, read_landmarks
from cliphead.meshes import CleanMesh, MeshError, boundary_loops, clean_mesh, load_mesh, merge_close_vertices
from cliphead.uv.aligned import AlignedHead, AlignedUV, aligned_uv
from cliphead.uv.auto_landmarks import detect_head_landmarks
from cliphead.uv.checks import prepare_head_mesh, remesh_folded_midline
from cliphead.uv.frame import Frame, detect_frame, parse_frame
from cliphead.uv.seam import MidlineError


@dataclass
class AlignedMesh:
    """A mesh's aligned map (in the ICT frame) with its frame, its repairs and where its landmarks came from."""

    aligned: AlignedUV
    prepared: CleanMesh
    frame: Frame
    frame_source: str  # "given", "detected" (or "detected, facing turned by FaceMesh") or "assumed"
    landmarks: np.ndarray | None  # (68, 3) in the ICT frame, None without the landmark warp
    landmark_source: str  # "given", "detected" or "none"
    repair: bool
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """Every repair, the frame's first."""
        return frame_note(self.frame) + self.prepared.notes

    def record(self) -> dict:
        """The frame, repairs and landmarks, for ``metrics.json``."""
        return {
            "landmark_warp": self.aligned.landmark_warp,
            "landmarks": self.landmark_source,
            "repairs": self.notes,
            "repair": {"on": self.repair, **self.prepared.figures},
            "frame": {"source": self.frame_source, **self.frame.describe()},
        }


def head_frame(vertices: np.ndarray, faces: np.ndarray, frame: str | None, repair: bool) -> tuple[Frame, str]:
    """The mesh's frame and how it was known: ``frame`` given (:func:`cliphead.uv.frame.parse_frame`), else found
    from the head (:func:`cliphead.uv.frame.detect_frame`) with ``repair``, else taken to be the ICT frame."""
    if frame:
        return parse_frame(frame, vertices), "given"
    if repair:  # read the neck off the welded mesh: a UV seam's split vertices make the seam look like a neck
        vertices, faces = merge_close_vertices(vertices, faces, 1e-9 * float(np.ptp(vertices, axis=0).max()))
        if len(boundary_loops(faces)) > 1:  # stray pieces add boundary loops: keep the largest
            cleaned = clean_mesh(vertices, faces)
            vertices, faces = cleaned.vertices, cleaned.faces
        return detect_frame(vertices, faces), "detected"
    return parse_frame("ict", vertices), "assumed"


def frame_note(frame: Frame) -> list[str]:
    """The repair note for a frame that is not the ICT frame itself."""
    if frame.is_identity:
        return []
    described = frame.describe()
    return [
        f"brought into the ICT frame: x{frame.scale:g} to centimetres, up was {described['up']}, the face looked "
        f"towards {described['front']}, moved by {described['translation_cm']} cm; outputs are written back in "
        "the mesh's own frame"
    ]


def align_head(
    vertices: np.ndarray,
    faces: np.ndarray,
    landmarks: np.ndarray | None = None,
    *,
    use_landmarks: bool = True,
    frame: str | None = None,
    repair: bool = True,
    curve: str = "conformal",
) -> AlignedMesh:
    """Frame, repair, landmarks and aligned map of a head mesh; ``landmarks`` (68, 3) in the mesh's own frame,
    found on renders when None and ``use_landmarks``. Raises :class:`~cliphead.meshes.MeshError` naming the
    defect when the mesh cannot be mapped."""
    seconds, start = {}, time.perf_counter()
    mesh_frame, frame_source = head_frame(vertices, faces, frame, repair)
    prepared = prepare_head_mesh(mesh_frame.to_ict(vertices), faces, repair=repair)
    seconds["check"] = time.perf_counter() - start
    start = time.perf_counter()
    if not use_landmarks:
        head_landmarks, landmark_source = None, "none"
    elif landmarks is not None:
        head_landmarks, landmark_source = mesh_frame.to_ict(np.asarray(landmarks, dtype=np.float64)), "given"
    else:
        try:
            head_landmarks = detect_head_landmarks(prepared.vertices, prepared.faces)
        except MeshError:
            if frame_source != "detected":
                raise
            # The facing read off the neck is the frame's weakest guess: FaceMesh decides, the face may be behind.
            mesh_frame, frame_source = mesh_frame.turned(), "detected, facing turned by FaceMesh"
            prepared = prepare_head_mesh(mesh_frame.to_ict(vertices), faces, repair=repair)
            head_landmarks = detect_head_landmarks(prepared.vertices, prepared.faces)
        landmark_source = "detected"
    seconds["landmarks"] = time.perf_counter() - start
    try:
        aligned = aligned_uv(prepared.vertices, prepared.faces, curve, head_landmarks)
    except MidlineError as error:
        if not repair:
            raise
        prepared = remesh_folded_midline(prepared, str(error))
        aligned = aligned_uv(prepared.vertices, prepared.faces, curve, head_landmarks)
    seconds |= aligned.seconds
    return AlignedMesh(aligned, prepared, mesh_frame, frame_source, head_landmarks, landmark_source, repair, seconds)


def aligned_mesh_file(path: Path, *, frame: str | None = None, repair: bool = True) -> tuple[AlignedHead, AlignedMesh]:
    """A head mesh file in the aligned layout, ready to texture (``cliphead generate --mesh``): its landmarks from
    ``<stem>.landmarks.json`` when present, else found on renders; the head in the ICT frame with its record."""
    vertices, faces = load_mesh(Path(path))
    landmark_file = landmarks_path(Path(path))
    landmarks = read_landmarks(landmark_file) if landmark_file.is_file() else None
    result = align_head(vertices, faces, landmarks, frame=frame, repair=repair)
    aligned = result.aligned
    return AlignedHead(aligned.vertices, aligned.faces, aligned.uv, result.landmarks), result
