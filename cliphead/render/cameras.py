"""Pinhole and orthographic cameras in the package frame (centimetres, y up, face towards +z).

A camera stores a rigid ``world_to_camera`` transform in the OpenGL convention: in camera space
x points right, y up, and the camera looks along -z. :meth:`Camera.project` maps points to
continuous pixel coordinates (column x, row y with 0 at the top, pixel ``(r, c)`` covering
``[c, c + 1] x [r, r + 1]`` with its centre at ``(c + 0.5, r + 0.5)``) plus the positive depth
along the viewing direction. It accepts numpy arrays and torch tensors; on tensors it is
differentiable, so gradients of a rendering flow back to the vertex positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

#: Yaw (degrees) of the views the paper renders heads from; positive yaw turns the camera towards +x.
NAMED_VIEWS: dict[str, float] = {"front": 0.0, "three_quarter": 45.0, "profile": 90.0}


@dataclass
class Camera:
    """A camera looking along its -z axis; ``fov_y_degrees`` None or 0 means orthographic."""

    world_to_camera: np.ndarray  # (4, 4) rigid transform
    fov_y_degrees: float | None
    width: int
    height: int
    near: float = 1.0
    far: float = 1000.0
    ortho_height: float | None = None  # world units spanned by the image height (orthographic)

    def __post_init__(self) -> None:
        self.world_to_camera = np.asarray(self.world_to_camera, dtype=np.float64)
        if self.world_to_camera.shape != (4, 4) or not np.all(np.isfinite(self.world_to_camera)):
            raise ValueError("world_to_camera must be a finite 4x4 matrix (see cliphead.render.look_at)")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"Image size must be positive, got {self.width}x{self.height}")
        if not self.is_perspective and not (self.ortho_height and self.ortho_height > 0):
            raise ValueError("An orthographic camera (fov_y_degrees None or 0) needs ortho_height > 0")
        if self.is_perspective and not 0 < self.fov_y_degrees < 180:
            raise ValueError(f"fov_y_degrees must lie in (0, 180), got {self.fov_y_degrees}")

    @property
    def is_perspective(self) -> bool:
        return bool(self.fov_y_degrees)

    @property
    def rotation(self) -> np.ndarray:
        """The 3x3 rotation taking world directions to camera directions."""
        return self.world_to_camera[:3, :3]

    @property
    def position(self) -> np.ndarray:
        """The camera centre in world coordinates."""
        return -self.rotation.T @ self.world_to_camera[:3, 3]

    @property
    def focal_pixels(self) -> float:
        """Pixels per unit of x/depth (perspective) or per world unit (orthographic)."""
        if self.is_perspective:
            return 0.5 * self.height / math.tan(math.radians(self.fov_y_degrees) / 2)
        return self.height / self.ortho_height

    def to_camera(self, points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """World points (N, 3) in camera coordinates (N, 3), same array type as the input."""
        if isinstance(points, torch.Tensor):
            matrix = torch.as_tensor(self.world_to_camera, dtype=points.dtype, device=points.device)
        else:
            points = np.asarray(points, dtype=np.float64)
            matrix = self.world_to_camera
        return points @ matrix[:3, :3].T + matrix[:3, 3]

    def project(self, points: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """World points (N, 3) to (N, 3) rows ``[pixel x, pixel y, depth]``.

        Depth is the positive distance along the viewing direction; points behind the camera get
        a depth <= 0 (the rasterizer skips triangles touching them).
        """
        cam = self.to_camera(points)
        depth = -cam[:, 2]
        scale = self.focal_pixels
        if self.is_perspective:
            safe = depth.clamp_min(1e-12) if isinstance(depth, torch.Tensor) else np.maximum(depth, 1e-12)
            x, y = scale * cam[:, 0] / safe, scale * cam[:, 1] / safe
        else:
            x, y = scale * cam[:, 0], scale * cam[:, 1]
        columns = [0.5 * self.width + x, 0.5 * self.height - y, depth]
        return torch.stack(columns, dim=1) if isinstance(cam, torch.Tensor) else np.stack(columns, axis=1)


def look_at(eye, target, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """The 4x4 world-to-camera transform of a camera at ``eye`` looking at ``target``.

    When ``up`` is parallel to the viewing direction, the world axis least aligned with it is
    used instead, so cameras straight above or below a head stay well defined.
    """
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    forward = target - eye
    norm = np.linalg.norm(forward)
    if not np.isfinite(norm) or norm < 1e-12:
        raise ValueError("look_at needs distinct, finite eye and target points")
    forward /= norm
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9 * max(np.linalg.norm(up), 1e-12):
        right = np.cross(forward, np.eye(3)[np.argmin(np.abs(forward))])
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    rotation = np.stack([right, true_up, -forward])
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = -rotation @ eye
    return matrix


def orbit_camera(
    yaw_degrees: float,
    pitch_degrees: float = 0.0,
    distance: float = 60.0,
    target=(0.0, 0.0, 0.0),
    fov_y_degrees: float | None = 30.0,
    size: int = 512,
    ortho_height: float | None = None,
) -> Camera:
    """A square camera on a sphere around ``target`` looking at it.

    Yaw 0 puts the camera on the +z axis facing the face; positive yaw moves it towards +x (the
    head's left side); positive pitch raises it. With ``fov_y_degrees`` None the camera is
    orthographic and ``ortho_height`` (default: the height a 30° camera sees at ``distance``)
    sets the framing.
    """
    yaw, pitch = math.radians(yaw_degrees), math.radians(pitch_degrees)
    direction = np.array([math.cos(pitch) * math.sin(yaw), math.sin(pitch), math.cos(pitch) * math.cos(yaw)])
    target = np.asarray(target, dtype=np.float64)
    if not fov_y_degrees and ortho_height is None:
        ortho_height = 2 * distance * math.tan(math.radians(15.0))
    return Camera(
        world_to_camera=look_at(target + distance * direction, target),
        fov_y_degrees=fov_y_degrees,
        width=size,
        height=size,
        near=max(1e-3, 0.01 * distance),
        far=100.0 * distance,
        ortho_height=None if fov_y_degrees else ortho_height,
    )


def named_camera(
    name: str,
    target=(0.0, 0.0, 0.0),
    distance: float = 60.0,
    size: int = 512,
    fov: float | None = 30.0,
) -> Camera:
    """The camera of one of :data:`NAMED_VIEWS` ("front", "three_quarter", "profile")."""
    if name not in NAMED_VIEWS:
        raise ValueError(f"Unknown view '{name}'; choose one of: {', '.join(NAMED_VIEWS)}")
    return orbit_camera(NAMED_VIEWS[name], 0.0, distance, target, fov, size)


def head_cameras(
    vertices: np.ndarray,
    views=tuple(NAMED_VIEWS),
    size: int = 512,
    fov_y_degrees: float = 30.0,
    fill: float = 0.85,
) -> dict[str, Camera]:
    """Cameras framing a head mesh: aimed at its bounding-box centre, at the distance where its
    largest projected extent from that centre covers ``fill`` of the half image.

    ``views`` are names from :data:`NAMED_VIEWS` or yaw angles in degrees (keyed by the angle).
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0 or not np.all(np.isfinite(vertices)):
        raise ValueError("head_cameras needs a non-empty, finite (N, 3) vertex array")
    if not 0 < fill <= 1:
        raise ValueError(f"fill must lie in (0, 1], got {fill}")
    centre = 0.5 * (vertices.min(axis=0) + vertices.max(axis=0))
    slope = fill * math.tan(math.radians(fov_y_degrees) / 2)
    cameras = {}
    for view in views:
        yaw = NAMED_VIEWS[view] if isinstance(view, str) and view in NAMED_VIEWS else view
        if isinstance(yaw, str):
            raise ValueError(f"Unknown view '{view}'; choose one of: {', '.join(NAMED_VIEWS)} or a yaw in degrees")
        axes = orbit_camera(float(yaw), 0.0, 1.0, centre).rotation  # rows: right, up, towards camera
        local = (vertices - centre) @ axes.T
        # A vertex at (x, y, z) stays inside the frame iff distance >= z + max(|x|, |y|) / slope.
        distance = float(np.max(local[:, 2] + np.maximum(np.abs(local[:, 0]), np.abs(local[:, 1])) / slope))
        distance = max(distance, 1e-6 + float(local[:, 2].max()))
        cameras[str(view)] = orbit_camera(float(yaw), 0.0, distance, centre, fov_y_degrees, size)
    return cameras
