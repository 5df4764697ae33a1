"""The open_clip backend on a tiny, randomly initialised model written to a local config and checkpoint.

No network: the model config is a ``.json`` in a temporary folder and the weights a local file, loaded
back through ``build_encoder("open_clip:CONFIG/CHECKPOINT")`` and compared with the model built directly.
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F

from cliphead.clip import ImageTextEncoder, build_encoder, open_clip_backend
from cliphead.clip.open_clip_backend import parse_spec

EMBED_DIM = 32
IMAGE_SIZE = 32
TINY_CONFIG = {
    "embed_dim": EMBED_DIM,
    "vision_cfg": {"image_size": IMAGE_SIZE, "patch_size": 8, "width": 64, "layers": 2, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
PROMPTS = ["a bald man with a beard", "a smiling woman with red hair", "an old man, laughing"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny model built directly (seeded), its config and checkpoint files, and the encoder loaded from them."""
    folder = tmp_path_factory.mktemp("open_clip")
    config = folder / "cliphead-tiny-clip.json"
    config.write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(config)
    torch.manual_seed(0)
    model = open_clip.create_model("cliphead-tiny-clip").eval()
    checkpoint = folder / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    encoder = build_encoder(f"open_clip:{config}/{checkpoint}")
    return SimpleNamespace(model=model, config=config, checkpoint=checkpoint, encoder=encoder)


def rng_images(n: int, height: int = IMAGE_SIZE, width: int = IMAGE_SIZE, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, height, width, 3), dtype=np.uint8)


def test_attributes_and_protocol(tiny):
    encoder = tiny.encoder
    assert isinstance(encoder, ImageTextEncoder)
    assert encoder.dim == EMBED_DIM
    assert encoder.image_size == IMAGE_SIZE
    assert encoder.name == f"open_clip:{tiny.config}/{tiny.checkpoint}"
    assert not encoder.model.training


def test_text_embeddings_match_the_directly_built_model(tiny):
    embeddings = tiny.encoder.encode_text(PROMPTS)
    assert embeddings.shape == (3, EMBED_DIM) and embeddings.dtype == torch.float32
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)
    tokens = open_clip.get_tokenizer("cliphead-tiny-clip")(PROMPTS)
    with torch.no_grad():
        reference = F.normalize(tiny.model.encode_text(tokens), dim=-1)
    assert (embeddings - reference).abs().max() < 1e-5
    assert (embeddings[0] - embeddings[1]).abs().max() > 1e-3  # different prompts, different vectors


def test_image_embeddings_match_the_directly_built_model(tiny):
    images = rng_images(4)
    embeddings = tiny.encoder.encode_image(images)
    assert embeddings.shape == (4, EMBED_DIM) and embeddings.dtype == torch.float32
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(4), atol=1e-5, rtol=0)
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(open_clip.OPENAI_DATASET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(open_clip.OPENAI_DATASET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        reference = F.normalize(tiny.model.encode_image((pixels - mean) / std), dim=-1)
    assert (embeddings - reference).abs().max() < 1e-5


def test_uint8_float_and_tensor_inputs_agree(tiny):
    image = rng_images(1, seed=1)[0]
    from_uint8 = tiny.encoder.encode_image(image)
    from_float = tiny.encoder.encode_image(image.astype(np.float32) / 255.0)
    from_list = tiny.encoder.encode_image([image])
    from_tensor = tiny.encoder.encode_image(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0)
    assert from_uint8.shape == (1, EMBED_DIM)
    for other in (from_float, from_list, from_tensor):
        assert (from_uint8 - other).abs().max() < 1e-5


def test_non_square_image_is_centre_cropped_then_resized(tiny):
    image = rng_images(1, height=40, width=48, seed=2)[0]
    embedding = tiny.encoder.encode_image(image)
    assert embedding.shape == (1, EMBED_DIM)
    torch.testing.assert_close(embedding.norm(dim=1), torch.ones(1), atol=1e-5, rtol=0)
    centre = np.ascontiguousarray(image[:, 4:44])
    assert (embedding - tiny.encoder.encode_image(centre)).abs().max() < 1e-6


def test_gradients_only_on_the_differentiable_path(tiny):
    pixels = torch.rand(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(3), requires_grad=True)
    assert not tiny.encoder.encode_image(pixels).requires_grad
    target = tiny.encoder.encode_text(PROMPTS[:1])
    (tiny.encoder.encode_image(pixels, differentiable=True) @ target.T).sum().backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0
    assert all(parameter.grad is None for parameter in tiny.encoder.model.parameters())


def test_batches_give_the_same_embeddings(tiny, monkeypatch):
    prompts, images = PROMPTS * 2, rng_images(5, seed=4)
    texts_whole, images_whole = tiny.encoder.encode_text(prompts), tiny.encoder.encode_image(images)
    monkeypatch.setattr(open_clip_backend, "BATCH_SIZE", 2)
    assert (tiny.encoder.encode_text(prompts) - texts_whole).abs().max() < 1e-5
    assert (tiny.encoder.encode_image(images) - images_whole).abs().max() < 1e-5


def test_long_prompt_is_truncated_with_one_warning(tiny):
    prompt = " ".join(["head"] * 300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embeddings = tiny.encoder.encode_text([prompt, "a short prompt"])
    truncation = [str(w.message) for w in caught if "truncated" in str(w.message)]
    assert len(truncation) == 1 and "302 tokens" in truncation[0] and "limit of 77" in truncation[0]
    assert embeddings.shape == (2, EMBED_DIM)


@pytest.mark.parametrize("prompts", [[""], ["   "], ["fine", "\t\n"]])
def test_blank_prompts_are_refused(tiny, prompts):
    with pytest.raises(ValueError, match="empty or whitespace"):
        tiny.encoder.encode_text(prompts)


@pytest.mark.parametrize(
    ("images", "error", "match"),
    [
        (np.zeros((32, 32, 4), np.uint8), ValueError, "RGB"),
        (np.zeros((32, 32, 3), np.int16), TypeError, "int16"),
        (np.full((32, 32, 3), 255.0, np.float32), ValueError, r"\[0, 1\]"),
        (torch.zeros(1, 4, 32, 32), ValueError, "RGB"),
    ],
)
def test_bad_images_are_refused(tiny, images, error, match):
    with pytest.raises(error, match=match):
        tiny.encoder.encode_image(images)


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("ViT-B-16/laion2b_s34b_b88k", ("ViT-B-16", "laion2b_s34b_b88k")),
        ("ViT-H-14", ("ViT-H-14", None)),
        ("ViT-L-14//data/ckpt/model.pt", ("ViT-L-14", "/data/ckpt/model.pt")),
        ("/cfg/dir/tiny.json//ckpt/dir/tiny.pt", ("/cfg/dir/tiny.json", "/ckpt/dir/tiny.pt")),
        ("configs/tiny.json", ("configs/tiny.json", None)),
    ],
)
def test_parse_spec(rest, expected):
    assert parse_spec(rest) == expected


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("open_clip:", "malformed"),
        ("open_clip:/laion2b_s34b_b88k", "malformed"),
        ("open_clip:ViT-B-61/laion2b_s34b_b88k", "unknown open_clip architecture"),
        ("open_clip:/no/such/config.json/tiny.pt", "does not exist"),
    ],
)
def test_bad_specs_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        build_encoder(spec)


def test_unknown_tag_or_missing_checkpoint_is_refused_without_network(tiny):
    with pytest.raises(ValueError, match="neither a checkpoint file nor a pretrained tag"):
        build_encoder(f"open_clip:{tiny.config}/no_such_tag")
    with pytest.raises(ValueError, match="neither a checkpoint file"):
        build_encoder(f"open_clip:{tiny.config}/{tiny.checkpoint.parent / 'missing.pt'}")


def test_config_without_weights_is_random_with_a_warning(tiny):
    with pytest.warns(UserWarning, match="randomly initialised"):
        encoder = build_encoder(f"open_clip:{tiny.config}")
    assert encoder.name == f"open_clip:{tiny.config}" and encoder.dim == EMBED_DIM
    assert encoder.encode_text(PROMPTS[:1]).shape == (1, EMBED_DIM)
