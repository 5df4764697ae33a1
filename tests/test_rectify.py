"""Rectification of a texture's face with the partial texture (supplementary §3), on painter textures.

The painter's textures have their features exactly at the layout's targets, so they are the ground
truth: FaceMesh must find the targets on them, and a texture whose face is moved must come back.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import map_coordinates

from cliphead.lab.world.attributes import sample_attributes
from cliphead.lab.world.painter import paint_texture
from cliphead.texture.crop import crop_face, face_box
from cliphead.texture.landmarks import detect_landmarks, landmark_error, resize_image
from cliphead.texture.rectify import rectification_figure, rectify

#: Where the face features of a misaligned texture go, in texture widths (3% of the width in all).
FACE_SHIFT = np.array([0.024, 0.018])


@pytest.fixture(scope="module")
def normal_maps():
    """UV normal maps of one bank head at 128 and 512 px."""
    from cliphead.lab.world.renders import head_bank
    from cliphead.uv.bake import uv_normal_map

    head = head_bank(1, 0)[0]
    return {size: uv_normal_map(head.vertices, head.faces, head.uv, size) for size in (128, 512)}


def _face_crop(image: np.ndarray, size: int) -> np.ndarray:
    return crop_face(torch.from_numpy(image).permute(2, 0, 1)[None], size)[0].permute(1, 2, 0).numpy()


def _painted(seed: int, size: int) -> np.ndarray:
    return paint_texture(sample_attributes(np.random.default_rng(seed)), size, seed)


def _move_face(texture: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The texture with its face moved by ``shift`` (texture widths), fading out away from the face."""
    size = texture.shape[0]
    left, top, side = face_box().pixels(size)
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float64)
    centre_column, centre_row = left + side / 2 - 0.5, top + side / 2 - 0.5
    weight = np.exp(-((columns - centre_column) ** 2 + (rows - centre_row) ** 2) / (2 * (side / 2) ** 2))
    source_rows, source_columns = rows - weight * shift[1] * size, columns - weight * shift[0] * size
    return np.stack(
        [map_coordinates(texture[..., c], [source_rows, source_columns], order=1, mode="nearest") for c in range(3)],
        axis=-1,
    )


def test_landmarks_are_found_on_the_layout_targets(normal_maps):
    errors = [detect_landmarks(_painted(seed, 128), normal_maps[128]) for seed in range(8)]
    errors = [landmark_error(found, 128) for found in errors if found is not None]
    assert len(errors) >= 5  # 6 of these 8 when measured
    assert np.mean(errors) < 0.015, errors


def test_a_moved_face_is_brought_back(normal_maps, tmp_path):
    for seed in (1, 5):
        full = _move_face(_painted(seed, 128), FACE_SHIFT)
        partial = _face_crop(_painted(seed, 512), 128)
        result = rectify(full, partial, normal_maps[128], _face_crop(normal_maps[512], 128))
        assert result.rectified and result.warped and result.reason is None
        assert result.texture.shape == (512, 512, 3) and np.isfinite(result.texture).all()
        assert result.error_after < result.error_before and result.error_after < 0.02, result
    assert rectification_figure(full, partial, result, tmp_path / "rectification.png").stat().st_size > 0


def test_a_partial_texture_placed_worse_is_not_pasted(normal_maps):
    full = _painted(1, 128)
    partial = _face_crop(_move_face(_painted(1, 512), FACE_SHIFT), 128)
    result = rectify(full, partial, normal_maps[128], _face_crop(normal_maps[512], 128))
    assert not result.rectified and "no closer" in result.reason, result.reason
    assert result.error_partial > result.error_before + 0.01, (result.error_partial, result.error_before)
    assert result.error_after is None and result.rectified_landmarks is None
    assert np.array_equal(result.texture, resize_image(full, 512))


def test_a_blank_texture_is_left_as_it_is(normal_maps):
    grey = np.full((128, 128, 3), 0.5, np.float32)
    result = rectify(grey, grey, normal_maps[128], _face_crop(normal_maps[512], 128))
    assert not result.rectified and "no face" in result.reason
    assert result.texture.shape == (512, 512, 3) and np.isfinite(result.texture).all()
    assert np.allclose(result.texture, 0.5)


def test_a_face_found_on_the_partial_texture_alone_is_pasted_unwarped(normal_maps):
    grey = np.full((128, 128, 3), 0.5, np.float32)
    partial = _face_crop(_painted(1, 512), 128)
    result = rectify(grey, partial, normal_maps[128], _face_crop(normal_maps[512], 128))
    assert result.rectified and not result.warped and result.reason is None and result.full_landmarks is None
    assert result.error_after < 0.02, result.error_after  # the pasted face sits on the layout's targets
    assert not np.allclose(result.texture, 0.5) and np.allclose(result.texture[:8, :8], 0.5)
    kept = rectify(grey, partial, normal_maps[128], _face_crop(normal_maps[512], 128), paste_unwarped=False)
    assert not kept.rectified and kept.reason == "no face found on the full texture"


def test_non_finite_input_is_refused(normal_maps):
    full = _painted(0, 128)
    full[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        rectify(full, _face_crop(_painted(0, 512), 128), normal_maps[128], _face_crop(normal_maps[512], 128))
