"""The attribute-measuring instrument of generated textures (cliphead.lab.texture.measure)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.painter import paint_texture
from cliphead.lab.texture.measure import (
    MEASURED_ATTRIBUTES,
    MEASURED_VALUES,
    attribute_found,
    calibration_accuracy,
    measurable,
    measure_attributes,
)

#: Held-out accuracy on 60 fresh 512 px painter textures (seed 1), measured 1.0 for every attribute but
#: style (0.98; war paint of the skin's own lightness is missed): thresholds leave one or two misses.
MIN_ACCURACY = {"hair_colour": 0.95, "skin": 0.95, "lipstick": 0.9, "beard_colour": 0.9, "style": 0.9}


def test_instrument_is_accurate_on_fresh_painter_textures():
    accuracy = calibration_accuracy(n=60, seed=1)
    assert set(accuracy) == set(MEASURED_ATTRIBUTES)
    for attribute, minimum in MIN_ACCURACY.items():
        assert accuracy[attribute] >= minimum, (attribute, accuracy)


def test_a_transform_that_drops_the_hues_drops_the_colours_but_not_the_skin_buckets():
    def grey(texture: np.ndarray) -> np.ndarray:
        return np.repeat(texture.mean(axis=2, keepdims=True), 3, axis=2)

    # Measured on these 30: hair 0.6 (black, white, grey, blonde and brown differ in lightness too),
    # lipstick 0.4, beard colour 0.2, skin 0.75 (the buckets are lightness).
    accuracy = calibration_accuracy(n=30, seed=1, transform=grey)
    assert accuracy["hair_colour"] <= 0.7 and accuracy["lipstick"] <= 0.5 and accuracy["beard_colour"] <= 0.5, accuracy
    assert accuracy["skin"] >= 0.6, accuracy


def test_changing_the_hair_colour_changes_the_measured_hair_colour():
    record = Attributes(skin_tone=6, hair="receding", beard="full beard", beard_colour="white", lipstick="none")
    for colour, other in (("blue", "red"), ("red", "blue")):
        texture = paint_texture(replace(record, hair_colour=colour), 128, seed=3)
        assert measure_attributes(texture)["hair_colour"] == colour
        assert attribute_found(texture, "hair_colour", colour)
        assert not attribute_found(texture, "hair_colour", other)


def test_a_painted_record_is_measured_as_painted_at_every_texture_size():
    record = Attributes(skin_tone=9, hair_colour="green", beard="goatee", beard_colour="blonde", style="none")
    expected = {"hair_colour": "green", "skin": "dark", "beard_colour": "blonde", "style": "none"}
    assert all(measurable(record, attribute) for attribute in expected)
    painted = paint_texture(record, 512, seed=5)
    # 128 px as the training textures are made: painted at 512 and area-averaged (painted at 128, the
    # painter's goatee is faint: its chin blur is a fixed number of pixels).
    reduced = painted.reshape(128, 4, 128, 4, 3).mean(axis=(1, 3))
    as_bytes = np.round(paint_texture(record, 256, seed=5) * 255).astype(np.uint8)
    for texture in (painted, reduced, as_bytes):
        measured = measure_attributes(texture)
        assert {attribute: measured[attribute] for attribute in expected} == expected, texture.shape


def test_flat_grey_reads_as_grey_hair_and_every_reading_is_a_known_value():
    measured = measure_attributes(np.full((128, 128, 3), 0.55, dtype=np.float32))
    assert measured["hair_colour"] == "grey"
    assert all(measured[attribute] in MEASURED_VALUES[attribute] for attribute in MEASURED_ATTRIBUTES)


def test_bad_input_is_refused():
    texture = np.full((128, 128, 3), 0.5, dtype=np.float32)
    texture[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        measure_attributes(texture)
    with pytest.raises(ValueError, match="size"):
        measure_attributes(np.zeros((100, 100, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="not measured"):
        attribute_found(np.zeros((128, 128, 3), dtype=np.float32), "hair_colour", "teal")
    with pytest.raises(ValueError, match="calibration"):
        calibration_accuracy(n=1, seed=0)


def test_a_region_is_only_asked_what_it_shows():
    assert not measurable(Attributes(hair="bald"), "hair_colour")
    assert not measurable(Attributes(style="gold statue"), "hair_colour")
    assert not measurable(Attributes(beard="stubble", lipstick="red"), "lipstick")
    assert not measurable(Attributes(beard="moustache"), "beard_colour")
    assert not measurable(Attributes(style="alien"), "skin")
    assert measurable(Attributes(style="tiger", hair_colour="pink"), "hair_colour")
