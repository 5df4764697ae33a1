"""Facial landmarks on layout textures with MediaPipe FaceMesh, for the rectification (supplementary §3).

A texture is flat albedo, and FaceMesh finds no face on it; lit by its UV normal map (Lambert
shading, light from the front and a little above) it looks enough like a face photo. Lit with the
sharp normal map, though, FaceMesh reads the face mostly from the shading: the geometry, which is
in place by construction, not the painted features whose placement is in question (features moved
by 3% of the width move the detections by only 10–30% of that). So the shading is blurred over
``SHADING_BLUR`` of the layout's width: the head still looks round and lit, the nose and eye sockets
no longer pin the landmarks, and the detections follow the painted features (80–100% of a move) —
at the price of fewer detections (about 3 in 4 painter textures instead of all). Even so, a
textureless head lit this way still shows FaceMesh a face, so a texture with no contrast in its face
window gets no landmarks (``MIN_CONTRAST``). The aligned
layout is not mirrored with respect to a photo: the subject's right eye (iBUG 36–41) lies at smaller
columns than the left one (iBUG 42–47), as in a photo of a person facing the camera.

The face of a full layout is small, so detection runs on its face window (:func:`face_box`) zoomed to
``DETECTION_SIZE``; a partial texture already is that window. Landmarks come back in the pixel
coordinates (column, row) of the texture they were found on.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from cliphead.facemesh import facemesh_points
from cliphead.texture.crop import crop_face, face_box
from cliphead.uv.layout import landmark_targets

#: Side of the image FaceMesh sees (the face window of a full layout, or a whole partial texture).
DETECTION_SIZE = 256
LIGHT_DIRECTION = np.array([0.0, 0.3, 1.0]) / np.linalg.norm([0.0, 0.3, 1.0])
AMBIENT = 0.25
#: Width (standard deviation) of the blur of the shading, as a fraction of the layout's width.
SHADING_BLUR = 0.0075
#: A face window whose colours vary less than this (standard deviation) has no painted face to find.
MIN_CONTRAST = 0.01

#: iBUG-68 index → MediaPipe FaceMesh index, for the landmark error against the layout's targets.
#: Verified on ground-truth painter textures (10 attribute records × 3 heads of the bank, at 128,
#: 256 and 512 px, shaded as :func:`detect_landmarks` does): each point's median distance to its
#: target is at most 0.85% of the width at every size, 0.3–0.6% for most. Left out, because FaceMesh
#: puts them systematically 1–2% of the width off on these textures: the outer eye corners (33,
#: 263; the painted eyes are narrower than FaceMesh's), the nose tip (1), subnasale (2) and bridge
#: (168), the outer brow ends (70, 300) and the chin (152, below the painted one); the jaw line has
#: no painted cue at all.
IBUG_TO_MEDIAPIPE = {
    39: 133,
    42: 362,  # inner eye corners: right, left (the subject's)
    21: 55,
    22: 285,  # inner brow ends
    48: 61,
    54: 291,  # mouth corners
    51: 0,
    57: 17,  # top of the upper lip, bottom of the lower lip
}


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """An ``(H, W, C)`` image resampled to ``(size, size, C)``: bilinear, antialiased when shrinking."""
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    resized = F.interpolate(
        tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=size < image.shape[0]
    )
    return resized[0].permute(1, 2, 0).numpy()


def lambert_shade(texture: np.ndarray, normals: np.ndarray, blur_pixels: float = 0.0) -> np.ndarray:
    """The texture lit by a frontal light: ``texture * (AMBIENT + (1 - AMBIENT) * max(n·l, 0))``, the shade blurred."""
    normal = normals * 2.0 - 1.0  # black (no surface) → n = (-1, -1, -1), n·l < 0: ambient only
    diffuse = gaussian_filter(np.clip(normal @ LIGHT_DIRECTION, 0.0, 1.0), blur_pixels)
    return (texture * (AMBIENT + (1.0 - AMBIENT) * diffuse)[..., None]).astype(np.float32)


@lru_cache(maxsize=1)
def feature_indices() -> np.ndarray:
    """MediaPipe indices on the contours of the brows, eyes, nose and lips (not the face oval)."""
    from mediapipe.python.solutions import face_mesh_connections as mesh

    edges = (
        mesh.FACEMESH_LEFT_EYEBROW
        | mesh.FACEMESH_RIGHT_EYEBROW
        | mesh.FACEMESH_LEFT_EYE
        | mesh.FACEMESH_RIGHT_EYE
        | mesh.FACEMESH_NOSE
        | mesh.FACEMESH_LIPS
    )
    return np.array(sorted({index for edge in edges for index in edge}))


def _face_window(image: np.ndarray, face_crop: bool) -> np.ndarray:
    """The face window of a layout image (or a whole face crop) at ``DETECTION_SIZE``."""
    if face_crop:
        return resize_image(image, DETECTION_SIZE)
    tensor = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    return crop_face(tensor, DETECTION_SIZE)[0].permute(1, 2, 0).numpy()


def detect_landmarks(texture: np.ndarray, normals: np.ndarray, *, face_crop: bool = False) -> np.ndarray | None:
    """The ``(478, 2)`` FaceMesh landmarks of a shaded layout texture in its pixel coordinates, or None.

    ``texture`` and ``normals`` are ``(S, S, 3)`` in [0, 1]: a full layout texture and its UV normal
    map, or (``face_crop=True``) a partial texture covering :func:`face_box` and the same crop of the
    normal map.
    """
    if texture.shape != normals.shape:
        raise ValueError(f"texture {texture.shape} and normal map {normals.shape} must have the same shape")
    window, window_normals = (_face_window(image, face_crop) for image in (texture, normals))
    if window.std() < MIN_CONTRAST:  # FaceMesh would find the face in the shading alone
        return None
    image = lambert_shade(window, window_normals, SHADING_BLUR * DETECTION_SIZE / face_box().side)
    points = facemesh_points(image)
    if points is None:
        return None
    size = texture.shape[0]
    if face_crop:
        return (points + 0.5) * size / DETECTION_SIZE - 0.5
    return face_box().to_texture(points, DETECTION_SIZE, size)


def landmark_error(landmarks: np.ndarray, size: int) -> float:
    """Mean distance of the :data:`IBUG_TO_MEDIAPIPE` landmarks from their layout targets, in texture widths."""
    ibug, mediapipe = (np.array(indices) for indices in zip(*IBUG_TO_MEDIAPIPE.items()))
    distances = np.linalg.norm(landmarks[mediapipe] - landmark_targets(size)[ibug], axis=1)
    return float(distances.mean() / size)
