"""The appearance world: regions of the aligned layout, the painter, and `cliphead sample world`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cliphead.lab.world.attributes import HAIR_COLOURS, LIPSTICKS, MONK_SKIN_TONES, Attributes, hex_rgb
from cliphead.lab.world.painter import STATUE_METALS, paint_texture
from cliphead.lab.world.regions import LEFT_EYE, OUTER_LIPS, RIGHT_EYE, region_masks


@pytest.fixture(scope="module")
def regions():
    return region_masks(256)


def _positions(regions, name: str, level: float = 0.9) -> np.ndarray:
    return regions.texels.position[regions[name] > level]


@pytest.mark.slow
def test_feature_regions_lie_on_their_landmarks():
    regions = region_masks(512)
    landmarks = regions.texels.landmarks
    for name, indices, radius_cm in (("lips", OUTER_LIPS, 1.2), ("eyes", np.r_[LEFT_EYE, RIGHT_EYE], 0.8)):
        points = _positions(regions, name, level=0.5)
        assert len(points) > 5, name
        nearest = np.min(np.linalg.norm(points[:, None] - landmarks[indices][None], axis=-1), axis=1)
        assert np.percentile(nearest, 95) < radius_cm, (name, np.percentile(nearest, 95))


def test_large_regions_are_where_a_head_has_them(regions):
    brow_y = regions.texels.landmarks[17:27, 1].mean()
    chin_y = regions.texels.landmarks[8, 1]
    scalp, neck, ears = (_positions(regions, n) for n in ("scalp", "neck", "ears"))
    ear_y = regions.texels.landmarks[[0, 16], 1].mean()
    front = scalp[:, 2] > 5.0  # above the forehead the hairline is high; at the back it reaches the nape
    assert scalp[front, 1].min() > brow_y + 2.0 and scalp[:, 1].min() > ear_y - 6.5
    assert neck[:, 1].max() < chin_y
    assert np.abs(ears[:, 0]).min() > 7.0
    face = _positions(regions, "face")
    assert np.median(face[:, 2]) > 5.0  # the face looks along +z


def _mean_colour(texture: np.ndarray, mask: np.ndarray, level: float = 0.95) -> np.ndarray:
    return texture[mask > level * mask.max()].mean(axis=0)


@pytest.mark.parametrize("colour", ["red", "blue", "blonde", "black"])
def test_hair_is_painted_in_the_requested_colour(regions, colour):
    texture = paint_texture(Attributes(hair_colour=colour), 256, seed=1)
    scalp = regions["scalp"] * (regions.hairline_height > 1.0)
    assert np.linalg.norm(_mean_colour(texture, scalp) - hex_rgb(HAIR_COLOURS[colour])) < 0.08


def test_bald_scalp_is_skin_and_skin_follows_the_monk_tone(regions):
    for tone in (1, 5, 10):
        texture = paint_texture(Attributes(skin_tone=tone, hair="bald"), 256, seed=2)
        expected = hex_rgb(MONK_SKIN_TONES[tone - 1])
        scalp = regions["scalp"] * (regions.hairline_height > 1.0)
        assert np.linalg.norm(_mean_colour(texture, scalp) - expected) < 0.05
        assert np.linalg.norm(_mean_colour(texture, regions["forehead"]) - expected) < 0.08


def test_lipstick_and_statues(regions):
    texture = paint_texture(Attributes(lipstick="purple"), 256, seed=3)
    assert np.linalg.norm(_mean_colour(texture, regions["lips"]) - hex_rgb(LIPSTICKS["purple"])) < 0.06
    gold = paint_texture(Attributes(style="gold statue", hair_colour="blue"), 256, seed=3)
    skin = regions["skin"] > 0.99
    assert np.linalg.norm(gold[skin].mean(axis=0) - hex_rgb(STATUE_METALS["gold statue"])) < 0.1


def test_painting_is_deterministic_and_seeds_only_move_the_noise():
    record = Attributes(hair_colour="green", beard="full beard", age="old", freckles=True, style="war paint")
    a, b = paint_texture(record, 256, seed=5), paint_texture(record, 256, seed=5)
    assert np.array_equal(a, b)
    other = paint_texture(record, 256, seed=6)
    assert 0 < np.abs(a - other).mean() < 0.08
    assert a.shape == (256, 256, 3) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert paint_texture(record, 512).shape == (512, 512, 3)
    with pytest.raises(ValueError, match="texture size"):
        paint_texture(record, 300)


def test_attribute_records_are_checked():
    with pytest.raises(ValueError, match="hair_colour"):
        Attributes(hair_colour="plaid")
    with pytest.raises(ValueError, match="Monk"):
        Attributes(skin_tone=11)
    with pytest.raises(ValueError, match="unknown attributes"):
        Attributes.from_dict({"hat": "fedora"})


def test_cli_sample_world_writes_texture_record_and_captions(tmp_path):
    out = tmp_path / "sample"
    overrides = json.dumps({"hair_colour": "red", "hair": "full", "beard": "full beard", "gender": "man"})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cliphead.cli",
            "sample",
            "world",
            "--seed",
            "4",
            "--attributes",
            overrides,
            "--size",
            "256",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    record = json.loads((out / "attributes.json").read_text())
    assert record["hair_colour"] == "red" and record["beard"] == "full beard" and payload["attributes"] == record
    captions = (out / "captions.txt").read_text().splitlines()
    assert len(captions) == 10 and captions[0].startswith("A face of a")
    assert sum(("red" in c or "ginger" in c) for c in captions) >= 7
    from PIL import Image

    assert Image.open(out / "texture.png").size == (256, 256)
    assert Image.open(out / "preview.png").size == (768, 256)
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "cliphead.cli",
            "sample",
            "world",
            "--attributes",
            '{"hat": 1}',
            "--out",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown attributes" in bad.stderr


def test_evaluation_renders_show_identities_the_training_renders_never_do():
    from cliphead.lab.world.dataset import EVAL_RENDERS, RenderSetConfig
    from cliphead.lab.world.renders import bank_identity_seeds

    training = RenderSetConfig()
    training_seeds = bank_identity_seeds(training.bank_heads, 0)
    evaluation_seeds = bank_identity_seeds(EVAL_RENDERS.bank_heads, 0)
    assert evaluation_seeds[: training.bank_heads] == training_seeds  # the larger bank extends the training one
    held_out = {evaluation_seeds[i] for i in EVAL_RENDERS.heads()}
    assert len(held_out) == 100
    assert not held_out & {training_seeds[i] for i in training.heads()}
