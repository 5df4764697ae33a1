"""Whether a painted texture reads as a face: MediaPipe's face detector on its face window.

The face window is the square around the layout's landmark targets, ``FACE_WINDOW_MARGIN`` times
their larger extent, resampled to the detector's input as the rectification's crop is
(:func:`cliphead.texture.crop.crop_face`). The texture is shown flat, without any lighting: a lit
render of a head shows the detector a face from the mesh's shading alone, whatever its texture.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.painter import paint_texture
from cliphead.texture.crop import FaceBox, crop_face
from cliphead.facemesh import stderr_silenced
from cliphead.texture.landmarks import DETECTION_SIZE
from cliphead.uv.layout import landmark_targets

#: Side of the face window, as a multiple of the landmark targets' larger extent.
FACE_WINDOW_MARGIN = 1.8
#: MediaPipe's short-range face detector (faces within about 2 m of a camera), at its default threshold.
MIN_DETECTION_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def face_window_box() -> FaceBox:
    """The face window: centred on the landmark targets' box, ``FACE_WINDOW_MARGIN`` × its larger side."""
    targets = landmark_targets(512) / 512
    low, high = targets.min(axis=0), targets.max(axis=0)
    centre, side = (low + high) / 2, float(FACE_WINDOW_MARGIN * (high - low).max())
    return FaceBox(left=float(centre[0] - side / 2), top=float(centre[1] - side / 2), side=side)


def face_window(texture: np.ndarray, size: int = DETECTION_SIZE) -> np.ndarray:
    """The ``(size, size, 3)`` face window of an ``(S, S, 3)`` layout texture in [0, 1]."""
    tensor = torch.from_numpy(np.ascontiguousarray(texture, dtype=np.float32)).permute(2, 0, 1)[None]
    return crop_face(tensor, size, face_window_box())[0].permute(1, 2, 0).numpy()


@lru_cache(maxsize=1)
def _face_detector():
    """One MediaPipe face detector for all calls, built with its log lines hidden."""
    with stderr_silenced():
        import mediapipe as mp

        detector = mp.solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=MIN_DETECTION_CONFIDENCE
        )
        detector.process(np.zeros((DETECTION_SIZE, DETECTION_SIZE, 3), np.uint8))
    return detector


def face_detected(texture: np.ndarray) -> bool:
    """Whether MediaPipe's face detector finds a face in the texture's face window."""
    pixels = np.ascontiguousarray((np.clip(face_window(texture), 0.0, 1.0) * 255).round().astype(np.uint8))
    with warnings.catch_warnings():  # protobuf's deprecation notice, raised inside MediaPipe
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
        return bool(_face_detector().process(pixels).detections)


def detection_rate(records: Sequence[Attributes], size: int = 512, seed: int = 0, painter: str = "plain") -> float:
    """The fraction of ``records`` whose texture (painted with noise seed ``seed + index``) shows a face."""
    found = [face_detected(paint_texture(record, size, seed + index, painter)) for index, record in enumerate(records)]
    return float(np.mean(found))
