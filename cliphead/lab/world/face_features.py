"""The detailed painter's facial features: eyes, brows, lips and nostrils drawn as in a face photo.

Each feature is placed by the landmark targets of the aligned layout (pixel coordinates at the
texture's size) and drawn in a small window around them, so it costs little at any size:

- eyes: a sclera in the eye opening, an iris of the record's eye colour (a darker limbal ring and
  radial streaks), a pupil, a dark upper lid line with lashes, a faint lower lid and the lid crease;
- brows: many short strands (strokes) along the brow line, rising at the brow's head and lying
  toward its tail, denser and wider at the head, in the record's brow colour over a faint tint;
- lips: a darker upper lip and the dark line where the lips meet, over any lipstick;
- nostrils: two dark ovals above the nose base.

Sizes are in centimetres of the template (``px_per_cm`` texels per cm at the texture's size) or in
fractions of an eye's width.
"""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path as Polygon

from cliphead.lab.world.attributes import EYE_COLOURS, HAIR_COLOURS, Attributes, hex_rgb
from cliphead.lab.world.regions import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, RegionMasks

SCLERA = "#e6ded5"
PUPIL = "#0c0a09"
LID_LINE = "#1c1412"
#: The eye opening is drawn this much larger than the landmark polygon, about its centre.
EYE_OPENING_SCALE = 1.15
#: Iris radius and pupil radius as fractions of the eye's width (corner to corner).
IRIS_RADIUS = 0.24
PUPIL_RADIUS = 0.095
LASHES_PER_EYE = 16
#: Brow strands per cm of brow, per unit of brow thickness (cm).
BROW_STRANDS_PER_CM2 = 100
BROW_HALF_WIDTH_CM = {"thin": 0.2, "medium": 0.32, "thick": 0.48}


class Window:
    """A rectangle of the texture around some points, with its texels' pixel coordinates (column, row)."""

    def __init__(self, points: np.ndarray, margin: float, size: int) -> None:
        low = np.maximum(np.floor(points.min(axis=0) - margin), 0).astype(int)
        high = np.minimum(np.ceil(points.max(axis=0) + margin) + 1, size).astype(int)
        self.slice = (slice(low[1], high[1]), slice(low[0], high[0]))
        rows, columns = np.mgrid[low[1] : high[1], low[0] : high[0]].astype(np.float32)
        self.grid = np.stack([columns, rows], axis=-1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape[:2]

    def polygon(self, points: np.ndarray, supersample: int = 3) -> np.ndarray:
        """Coverage (0..1) of each texel by a closed polygon, from ``supersample``² samples per texel."""
        offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
        path = Polygon(points)
        cover = np.zeros(self.shape, dtype=np.float32)
        for dy in offsets:
            for dx in offsets:
                cover += path.contains_points((self.grid + [dx, dy]).reshape(-1, 2)).reshape(self.shape)
        return cover / supersample**2

    def distance_to(self, centre: np.ndarray) -> np.ndarray:
        return np.linalg.norm(self.grid - centre, axis=-1)

    def strokes(self, starts: np.ndarray, ends: np.ndarray, width: float) -> np.ndarray:
        """``(strokes, H, W)`` alpha of each segment ``start → end``: a Gaussian profile ``width`` texels wide."""
        points = self.grid.reshape(1, -1, 2)
        direction = (ends - starts)[:, None, :]
        t = np.einsum("kpc,kpc->kp", points - starts[:, None, :], direction) / np.maximum(
            np.sum(direction**2, axis=-1), 1e-9
        )
        nearest = starts[:, None, :] + np.clip(t, 0.0, 1.0)[..., None] * direction
        distance = np.linalg.norm(points - nearest, axis=-1)
        return np.exp(-((distance / width) ** 2)).reshape(len(starts), *self.shape).astype(np.float32)

    def splat(
        self, starts: np.ndarray, ends: np.ndarray, width: float, brightness: np.ndarray, opacity: float = 0.7
    ) -> tuple[np.ndarray, np.ndarray]:
        """Many short strokes at once, each drawn only near itself: their cover (each stroke ``opacity``
        at its core, overlaps compounding) and the alpha-weighted mean of their ``brightness``."""
        reach = int(np.ceil(np.linalg.norm(ends - starts, axis=1).max() / 2 + 2 * width)) + 1
        offsets = np.arange(-reach, reach + 1)
        middle = np.round((starts + ends) / 2).astype(int)
        columns = middle[:, 0, None, None] + offsets[None, None, :]
        rows = middle[:, 1, None, None] + offsets[None, :, None]
        points = np.stack(np.broadcast_arrays(columns, rows), axis=-1).astype(np.float32)
        direction = (ends - starts)[:, None, None, :]
        t = np.sum((points - starts[:, None, None, :]) * direction, axis=-1) / np.maximum(
            np.sum(direction**2, axis=-1), 1e-9
        )
        nearest = starts[:, None, None, :] + np.clip(t, 0.0, 1.0)[..., None] * direction
        alpha = np.exp(-((np.linalg.norm(points - nearest, axis=-1) / width) ** 2))
        row0, column0 = self.slice[0].start, self.slice[1].start
        inside = (rows - row0 >= 0) & (rows - row0 < self.shape[0]) & (columns - column0 >= 0)
        inside &= columns - column0 < self.shape[1]
        index = ((rows - row0) * self.shape[1] + columns - column0)[inside]
        alpha, texels = alpha[inside], self.shape[0] * self.shape[1]
        transmit = np.bincount(index, np.log1p(-opacity * alpha), texels)
        weight = np.bincount(index, alpha, texels)
        weighted = np.bincount(index, alpha * np.broadcast_to(brightness[:, None, None], inside.shape)[inside], texels)
        cover = 1.0 - np.exp(transmit)
        shade = weighted / np.maximum(weight, 1e-6)
        return cover.reshape(self.shape).astype(np.float32), shade.reshape(self.shape).astype(np.float32)

    def polyline(self, points: np.ndarray, width: float) -> np.ndarray:
        """Alpha of an open polyline, a Gaussian profile ``width`` texels wide."""
        return self.strokes(points[:-1], points[1:], width).max(axis=0)


def blend(image: np.ndarray, colour, alpha: np.ndarray) -> None:
    """In place: ``image = image * (1 - alpha) + colour * alpha`` with a per-texel alpha; ``colour`` a
    triple or an image."""
    alpha = np.clip(alpha, 0.0, 1.0)[..., None]
    image *= 1.0 - alpha
    image += alpha * np.asarray(colour, dtype=np.float32)


def paint_eyes(texture: np.ndarray, attributes: Attributes, regions: RegionMasks, rng: np.random.Generator) -> None:
    """In place: both eyes (sclera, iris, pupil, lids, lashes, crease); see the module doc."""
    landmarks = regions.texels.landmarks_px
    size = texture.shape[0]
    for eye in (RIGHT_EYE, LEFT_EYE):
        _paint_eye(texture, landmarks[eye], hex_rgb(EYE_COLOURS[attributes.eye_colour]), size, rng)


def _paint_eye(texture: np.ndarray, outline: np.ndarray, iris_colour: np.ndarray, size: int, rng) -> None:
    """One eye from its six landmarks (outer or inner corner first, upper lid, other corner, lower lid)."""
    width = float(np.linalg.norm(outline[3] - outline[0]))
    centre = outline.mean(axis=0)
    opening = centre + EYE_OPENING_SCALE * (outline - centre)
    window = Window(opening, 0.8 * width, size)
    patch = texture[window.slice]
    skin = patch.copy()
    inside = window.polygon(opening)
    upper = opening[[0, 1, 2, 3]]
    lid_distance = window.distance_to(upper.mean(axis=0))
    lid_shadow = np.clip(1.0 - lid_distance / (0.6 * width), 0.0, 1.0)
    blend(patch, hex_rgb(SCLERA) * (1.0 - 0.3 * lid_shadow)[..., None], inside)

    iris_centre = centre + [0.0, -0.04 * width]
    radius = window.distance_to(iris_centre) / (IRIS_RADIUS * width)
    angle = np.arctan2(*(window.grid - iris_centre).transpose(2, 0, 1)[::-1])
    streaks = np.cos(angle * 11 + rng.uniform(0, 2 * np.pi)) * np.cos(angle * 7 + rng.uniform(0, 2 * np.pi))
    shade = (1.0 - 0.45 * np.clip((radius - 0.65) / 0.35, 0.0, 1.0)) * (1.0 + 0.12 * streaks)
    iris_alpha = np.clip((1.0 - radius) * IRIS_RADIUS * width + 0.5, 0.0, 1.0)
    blend(patch, iris_colour * shade[..., None], iris_alpha * inside)
    pupil_alpha = np.clip((PUPIL_RADIUS * width - window.distance_to(iris_centre)) + 0.5, 0.0, 1.0)
    blend(patch, hex_rgb(PUPIL), pupil_alpha * inside)

    line_width = max(0.09 * width, 0.45)
    blend(patch, hex_rgb(LID_LINE), 0.95 * window.polyline(upper, line_width))
    blend(patch, skin * 0.55, 0.45 * window.polyline(opening[[3, 4, 5, 0]], 0.7 * line_width))
    crease = centre + 1.12 * (upper - centre) + [0.0, -0.32 * width]
    blend(patch, skin * 0.72, 0.5 * window.polyline(crease, 1.4 * line_width))

    outer = 0 if abs(outline[0, 0] - size / 2) > abs(outline[3, 0] - size / 2) else 3
    blend(patch, hex_rgb(LID_LINE), 0.9 * _lashes(window, upper, outer, width, line_width, rng))


def _lashes(window: Window, upper: np.ndarray, outer: int, width: float, line_width: float, rng) -> np.ndarray:
    """Alpha of the upper lashes: short strokes from the lid line, curving out toward the outer corner."""
    outwards = np.sort(rng.uniform(0.1, 1.0, LASHES_PER_EYE))  # 0 at the inner corner, 1 at the outer
    along_lid = outwards if outer == 3 else 1.0 - outwards
    knots = np.linspace(0.0, 1.0, len(upper))
    roots = np.stack([np.interp(along_lid, knots, upper[:, k]) for k in range(2)], axis=1)
    towards_outer = np.sign(upper[outer, 0] - upper[3 - outer, 0])
    lean = 0.2 + 0.9 * outwards
    direction = np.stack([towards_outer * lean, -np.ones_like(lean)], axis=1)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    length = width * rng.uniform(0.16, 0.24, LASHES_PER_EYE)
    tips = roots + direction * length[:, None]
    return window.strokes(roots, tips, 0.5 * line_width).max(axis=0)


def paint_brows(
    texture: np.ndarray, attributes: Attributes, regions: RegionMasks, rng: np.random.Generator, px_per_cm: float
) -> None:
    """In place: both brows as strands of the record's brow colour over a faint tint of it."""
    landmarks = regions.texels.landmarks_px
    colour = hex_rgb(HAIR_COLOURS[attributes.brow_colour])
    half_width = BROW_HALF_WIDTH_CM[attributes.brows] * px_per_cm
    for brow in (LEFT_BROW, RIGHT_BROW):
        line = landmarks[brow]
        if abs(line[0, 0] - texture.shape[0] / 2) < abs(line[-1, 0] - texture.shape[0] / 2):
            line = line[::-1]  # from the tail (outer end) to the head (inner end)
        _paint_brow(texture, line, colour, half_width, px_per_cm, rng)


def _paint_brow(texture, line: np.ndarray, colour: np.ndarray, half_width: float, px_per_cm: float, rng) -> None:
    """One brow along ``line`` (tail → head): a tapered tint, then strands from roots spread across it."""
    segment = np.linalg.norm(np.diff(line, axis=0), axis=1)
    knots = np.concatenate([[0.0], np.cumsum(segment)]) / segment.sum()
    length_cm = segment.sum() / px_per_cm
    count = int(BROW_STRANDS_PER_CM2 * length_cm * 2 * half_width / px_per_cm) + 8
    along = rng.uniform(0.0, 1.0, count) ** 0.8  # denser toward the head
    centre = np.stack([np.interp(along, knots, line[:, k]) for k in range(2)], axis=1)
    tangent = np.stack([np.interp(along + 0.02, knots, line[:, k]) for k in range(2)], axis=1) - np.stack(
        [np.interp(along - 0.02, knots, line[:, k]) for k in range(2)], axis=1
    )
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal *= np.where(normal[:, 1:] > 0, -1.0, 1.0)  # pointing up the face (rows decrease)
    taper = half_width * (0.45 + 0.75 * along)
    roots = centre + normal * (rng.uniform(-1.0, 1.0, count) * taper)[:, None]
    rise = np.clip((along - 0.75) / 0.25, 0.0, 1.0)[:, None]  # strands at the head stand up
    direction = (1.0 - rise) * (-tangent + 0.35 * normal) + rise * normal
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    tips = roots + direction * (rng.uniform(0.35, 0.6, count) * px_per_cm)[:, None]

    window = Window(np.concatenate([roots, tips]), 2.0, texture.shape[0])
    patch = texture[window.slice]
    blend(patch, colour, 0.3 * window.polyline(line, 1.1 * half_width))
    cover, shade = window.splat(roots, tips, max(0.045 * px_per_cm, 0.35), rng.uniform(0.75, 1.25, count))
    blend(patch, np.clip(colour * shade[..., None], 0.0, 1.0), cover)


def paint_lips(texture: np.ndarray, regions: RegionMasks, px_per_cm: float) -> None:
    """In place: the upper lip a little darker than the lower one, and the dark line between them."""
    landmarks = regions.texels.landmarks_px
    window = Window(landmarks[48:68], 0.3 * px_per_cm, texture.shape[0])
    patch = texture[window.slice]
    upper_lip = np.concatenate([landmarks[48:55], landmarks[[64, 63, 62, 61, 60]]])
    blend(patch, patch * 0.85, window.polygon(upper_lip) * regions["lips"][window.slice])
    meeting = np.stack(
        [
            landmarks[48],
            *(0.5 * (landmarks[upper] + landmarks[lower]) for upper, lower in ((61, 67), (62, 66), (63, 65))),
            landmarks[54],
        ]
    )
    blend(
        patch,
        patch * np.array([0.42, 0.28, 0.28], np.float32),
        0.9 * window.polyline(meeting, max(0.1 * px_per_cm, 0.45)),
    )


def paint_nostrils(texture: np.ndarray, regions: RegionMasks, px_per_cm: float) -> None:
    """In place: two dark ovals just above the nose base, between each wing and the columella."""
    landmarks = regions.texels.landmarks_px
    lift = 0.25 * (landmarks[33, 1] - landmarks[30, 1])
    for wing, inner in ((31, 32), (35, 34)):
        centre = 0.5 * (landmarks[wing] + landmarks[inner]) + [0.0, -lift]
        window = Window(centre[None], 0.5 * px_per_cm + 2, texture.shape[0])
        offset = window.grid - centre
        tilt = 0.35 * np.sign(landmarks[wing, 0] - landmarks[33, 0])
        across, up = offset[..., 0], offset[..., 1] + tilt * offset[..., 0]
        ellipse = np.sqrt((across / (0.2 * px_per_cm)) ** 2 + (up / (0.11 * px_per_cm)) ** 2)
        alpha = np.clip((1.0 - ellipse) * 0.15 * px_per_cm + 0.5, 0.0, 1.0)
        patch = texture[window.slice]
        blend(patch, patch * np.array([0.3, 0.22, 0.22], np.float32), 0.9 * alpha)
