"""A head's frame: bringing a mesh from its own units and axes into the ICT frame the aligned map needs.

The aligned map (CLIP-Head §2.2) cuts the seam on the plane x = 0 of the ICT frame: centimetres,
y up, face towards +z. A mesh from elsewhere may be in millimetres or metres, z-up, or facing -z. The
frame is found from the head itself (:func:`detect_frame`):

- units: the power of ten that brings the bounding-box diagonal into a head's range in centimetres;
- up: from the neck opening towards the rest of the head;
- facing: away from the neck's offset, since a neck joins the head behind its middle (3-4 cm behind
  the bounding-box centre on the project's heads);

each snapped to the nearest axis of the mesh, then the head is centred on x = 0. Or the frame is
given (:func:`parse_frame`, ``--frame mm,z,-y``). The transform is stated, and outputs are written
back in the user's frame with :meth:`Frame.to_user`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cliphead.meshes import MeshError, boundary_loops

#: Plausible bounding-box diagonal of a head in centimetres.
HEAD_DIAGONAL_CM = (15.0, 100.0)
#: Units a frame can name, as centimetres per unit.
UNITS = {"mm": 0.1, "cm": 1.0, "dm": 10.0, "m": 100.0}
AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class Frame:
    """``ict = scale * (rotation @ user) + translation``: a similarity from the user's frame into the ICT frame."""

    scale: float
    rotation: np.ndarray  # (3, 3) proper rotation, rows: the ICT axes in the user's coordinates
    translation: np.ndarray  # (3,) centimetres

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and np.array_equal(self.rotation, np.eye(3)) and not self.translation.any()

    def to_ict(self, points: np.ndarray) -> np.ndarray:
        return self.scale * points @ self.rotation.T + self.translation

    def to_user(self, points: np.ndarray) -> np.ndarray:
        return (points - self.translation) @ self.rotation / self.scale

    def turned(self) -> Frame:
        """The same frame with the face towards the other side (half a turn about the up axis)."""
        half_turn = np.diag([-1.0, 1.0, -1.0])
        return Frame(self.scale, half_turn @ self.rotation + 0.0, half_turn @ self.translation + 0.0)

    def describe(self) -> dict:
        """The transform, for ``metrics.json``."""
        return {
            "scale_to_cm": self.scale,
            "up": axis_name(self.rotation[1]),
            "front": axis_name(self.rotation[2]),
            "rotation": self.rotation.tolist(),
            "translation_cm": np.round(self.translation, 6).tolist(),
        }


def axis_name(direction: np.ndarray) -> str:
    """The name of the coordinate axis nearest to ``direction``: ``'y'``, ``'-z'``, …"""
    index = int(np.argmax(np.abs(direction)))
    return ("-" if direction[index] < 0 else "") + "xyz"[index]


def _signed_axis(direction: np.ndarray, excluded: tuple[int, ...] = ()) -> np.ndarray:
    """The unit coordinate axis (±x, ±y, ±z; not one of ``excluded``) nearest to ``direction``."""
    scores = np.abs(direction).astype(float)
    scores[list(excluded)] = -1.0
    axis = int(np.argmax(scores))
    unit = np.zeros(3)
    unit[axis] = np.sign(direction[axis]) or 1.0
    return unit


def unit_scale(vertices: np.ndarray) -> float:
    """Centimetres per unit of the mesh: the power of ten (1 preferred) that makes it head-sized."""
    diagonal = float(np.linalg.norm(np.ptp(vertices, axis=0)))
    for scale in (1.0, 0.1, 10.0, 100.0, 0.01, 1000.0):
        if HEAD_DIAGONAL_CM[0] <= diagonal * scale <= HEAD_DIAGONAL_CM[1]:
            return scale
    raise MeshError(
        f"The mesh's bounding-box diagonal is {diagonal:.3g}: no unit (mm, cm, dm, m) makes it head-sized "
        f"({HEAD_DIAGONAL_CM[0]:g}-{HEAD_DIAGONAL_CM[1]:g} cm). Is it a head?"
    )


def off_centre(vertices: np.ndarray) -> tuple[bool, bool]:
    """Whether the head's bounding box is off x = 0 (by more than a tenth of its width), and whether it is far
    from the origin in y or z (more than half its diagonal)."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    centre = (low + high) / 2
    return bool(abs(centre[0]) > 0.1 * (high[0] - low[0])), bool(
        np.abs(centre[1:]).max() > 0.5 * np.linalg.norm(high - low)
    )


def _centred(rotation: np.ndarray, scale: float, vertices: np.ndarray) -> Frame:
    """The frame with ``rotation`` and ``scale``, translated only where the head would be off centre
    (:func:`off_centre`): its bounding box's centre moved onto x = 0, and onto the origin when far from it."""
    moved = scale * vertices @ rotation.T
    centre = (moved.min(axis=0) + moved.max(axis=0)) / 2
    off_x, off_yz = off_centre(moved)
    translation = np.zeros(3)
    if off_x:
        translation[0] = -centre[0]
    if off_yz:
        translation[1:] = -centre[1:]
    return Frame(scale, rotation, translation)


def detect_frame(vertices: np.ndarray, faces: np.ndarray) -> Frame:
    """The frame of a head mesh, found from its units and its neck (see the module's docstring); a closed mesh has
    no neck, so only its units are found and the ICT axes are assumed (``--frame`` gives others)."""
    loops = boundary_loops(faces)
    if not loops:  # no neck to read the axes from: the units only, the ICT axes assumed
        return _centred(np.eye(3), unit_scale(vertices), vertices)
    neck_centre = vertices[loops[0]].mean(axis=0)
    offset = vertices.mean(axis=0) - neck_centre
    up = _signed_axis(offset)
    box_centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    behind = neck_centre - box_centre
    front = _signed_axis(-(behind - np.dot(behind, up) * up), excluded=(int(np.argmax(np.abs(up))),))
    rotation = np.stack([np.cross(up, front), up, front]) + 0.0  # + 0.0: no negative zeros
    return _centred(rotation, unit_scale(vertices), vertices)


def parse_frame(spec: str, vertices: np.ndarray) -> Frame:
    """A frame given as ``UNITS,UP,FRONT`` (e.g. ``mm,z,-y``: millimetres, z up, the face towards -y), centred
    on x = 0 like a detected one; ``ict`` is the ICT frame itself (no transform)."""
    if spec.strip().lower() == "ict":
        return Frame(1.0, np.eye(3), np.zeros(3))
    try:
        units, up_name, front_name = (part.strip().lower() for part in spec.split(","))
        scale = UNITS[units]
        up, front = (_named_axis(name) for name in (up_name, front_name))
    except (ValueError, KeyError):
        raise MeshError(
            f"--frame {spec!r} is not UNITS,UP,FRONT: units one of {', '.join(UNITS)}, UP and FRONT axes such as "
            "y, -z (e.g. 'mm,z,-y'), or 'ict'."
        ) from None
    if abs(np.dot(up, front)) > 0:
        raise MeshError(f"--frame {spec!r}: the up and front axes must differ.")
    return _centred(np.stack([np.cross(up, front), up, front]) + 0.0, scale, vertices)


def _named_axis(name: str) -> np.ndarray:
    """``'x'``, ``'-z'``, … as a unit vector."""
    sign = -1.0 if name.startswith("-") else 1.0
    unit = np.zeros(3)
    unit[AXES[name.lstrip("+-")]] = sign
    return unit
