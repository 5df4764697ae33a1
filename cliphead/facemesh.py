"""MediaPipe FaceMesh, built once and kept quiet: the one detector of facial landmarks in the runtime.

Two users: the rectification finds the painted face on layout textures
(:mod:`cliphead.texture.landmarks`), and the UV module finds the 68 landmarks of a head mesh that
comes without them from renders of it (:mod:`cliphead.uv.auto_landmarks`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from functools import lru_cache

import numpy as np

#: FaceMesh's points (468 of the face, 10 of the irises with ``refine_landmarks``).
N_POINTS = 478


@contextlib.contextmanager
def stderr_silenced():
    """Send the process's stderr (file descriptor 2, where MediaPipe's C++ logs go) to /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=1)
def face_mesh():
    """One static-image FaceMesh (one face, iris refinement), warmed up so its one-off log lines are hidden."""
    with stderr_silenced():
        import mediapipe as mp

        detector = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.2
        )
        detector.process(np.zeros((256, 256, 3), np.uint8))
    return detector


def facemesh_points(image: np.ndarray) -> np.ndarray | None:
    """The ``(478, 2)`` FaceMesh points of an ``(H, W, 3)`` image in [0, 1], in pixel coordinates
    (column, row; a pixel's centre at integer coordinates), or None when no face is found."""
    pixels = np.ascontiguousarray((np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8))
    with warnings.catch_warnings():  # protobuf's deprecation notice, raised inside MediaPipe
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
        found = face_mesh().process(pixels).multi_face_landmarks
    if not found:
        return None
    height, width = image.shape[:2]
    # FaceMesh gives coordinates as fractions of the image's width and height.
    return np.array([[point.x * width, point.y * height] for point in found[0].landmark]) - 0.5
