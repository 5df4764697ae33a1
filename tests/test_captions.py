"""Tests of cliphead.lab.world.geometry (geometry words) and cliphead.lab.world.captions, .vocabulary and .prompts."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from conftest import HEAD_CASES

from cliphead.lab.world.attributes import HAIR_COLOURS, Attributes, sample_attributes
from cliphead.lab.world.captions import captions, paper_caption
from cliphead.lab.world.prompts import (
    PARAPHRASES,
    REFRAMED,
    SHARED_WORDS,
    paraphrase_prompts,
    reframed_prompts,
    zero_shot_ensembles,
    zero_shot_prompts,
)
from cliphead.lab.world.vocabulary import EXPRESSION_PHRASES, HAIR_WORDS, caption_words, training_vocabulary
from cliphead.lab.world.geometry import GEOMETRY_MEASURES, geometry_words, measure_geometry, population_tertiles
from cliphead.heads.expressions import EXPRESSION_LABELS
from cliphead.heads.ict import SKIN_LAST_VERTEX
from cliphead.heads.surfaces import sample_identity, skin_head

#: Every geometry measure's high word, so sampled captions can use all of them.
ALL_HIGH = {name: measure.high for name, measure in GEOMETRY_MEASURES.items()}


def hair_colour_pattern(colour: str | None = None) -> re.Pattern:
    """Matches a hair colour said of the hair ("ginger hair", "red-haired"); any colour when None."""
    colours = HAIR_WORDS[colour] if colour else [word for words in HAIR_WORDS.values() for word in words]
    return re.compile(r"\b(" + "|".join(colours) + r")(-haired| hair\b)")


@pytest.fixture(scope="module")
def sampled_captions() -> list[str]:
    """2000 training captions of random records, expressions and geometry words."""
    rng = np.random.default_rng(7)
    texts = []
    for _ in range(500):
        geometry = {name: word for name, word in ALL_HIGH.items() if rng.random() < 0.5}
        label = EXPRESSION_LABELS[int(rng.integers(len(EXPRESSION_LABELS)))]
        texts += captions(sample_attributes(rng), label, geometry, rng, 4)
    return texts


def test_measures_agree_on_a_remeshed_head(ict_model, remeshed_heads):
    index = HEAD_CASES.index((0, "neutral"))
    skin = skin_head(ict_model, sample_identity(0), "neutral")
    original = measure_geometry(skin.vertices, skin.landmarks)
    remeshed = measure_geometry(remeshed_heads[index].vertices, remeshed_heads[index].landmarks)
    assert list(original) == list(GEOMETRY_MEASURES)
    for name in GEOMETRY_MEASURES:
        assert abs(remeshed[name] - original[name]) < 0.25, (name, original[name], remeshed[name])
    assert 3.0 < original["forehead_height"] < 8.0 and -3.0 < original["chin"] < 1.0


def test_tertiles_split_a_fresh_population(ict_model):
    tertiles = population_tertiles()
    assert population_tertiles() is tertiles  # cached
    identities = np.random.default_rng(2024).standard_normal((300, ict_model.n_identity))
    skin = slice(0, SKIN_LAST_VERTEX + 1)
    heads = ict_model.neutral[skin] + np.tensordot(identities, ict_model.identity_modes[:, skin], axes=1)
    measures = [measure_geometry(vertices, vertices[ict_model.landmark_vertices]) for vertices in heads]
    for name, (low, high) in tertiles.items():
        assert low < high, name
        values = np.array([m[name] for m in measures])
        shares = np.mean(values < low), np.mean((values >= low) & (values <= high)), np.mean(values > high)
        assert all(0.25 <= share <= 0.42 for share in shares), (name, shares)


def test_a_wider_face_reads_wide(ict_model):
    skin = skin_head(ict_model, None, "neutral")
    mean_face = measure_geometry(skin.vertices, skin.landmarks)
    assert all(word is None for word in geometry_words(mean_face, population_tertiles()).values())
    stretch = np.array([1.1, 1.0, 1.0])
    wide = measure_geometry(skin.vertices * stretch, skin.landmarks * stretch)
    assert wide["face_width"] == pytest.approx(1.1 * mean_face["face_width"], rel=1e-6)
    assert wide["face_length"] == pytest.approx(mean_face["face_length"], rel=1e-3)
    words = geometry_words(wide, population_tertiles())
    assert words["face_width"] == "wide face" and words["jaw_width"] == "wide jaw"


def test_geometry_words_bin_by_tertiles():
    tertiles = {"nose_length": (4.0, 4.2), "chin": (-1.0, -0.6)}
    assert geometry_words({"nose_length": 3.9, "chin": -0.8}, tertiles) == {"nose_length": "short nose", "chin": None}
    assert geometry_words({"nose_length": 4.3, "chin": -0.5}, tertiles) == {
        "nose_length": "long nose",
        "chin": "prominent chin",
    }


def test_measure_geometry_rejects_a_mesh_without_a_face(ict_model):
    skin = skin_head(ict_model, None, "neutral")
    with pytest.raises(ValueError, match="midline"):
        measure_geometry(skin.vertices[np.abs(skin.vertices[:, 0]) > 3.0], skin.landmarks)


def test_colour_attributes_appear_in_most_captions():
    record = Attributes(skin_tone=9, hair_colour="red", beard="full beard", lipstick="pink", gender="man")
    texts = captions(record, "happy", {}, np.random.default_rng(0), 100)

    def share(pattern: str | re.Pattern) -> float:
        return float(np.mean([re.search(pattern, text) is not None for text in texts]))

    assert share(hair_colour_pattern("red")) >= 0.75
    assert share(r"\bbeard\b") >= 0.7
    assert share(r"\bpink lipstick\b") >= 0.7
    assert share(r"\bdark\b") >= 0.75
    assert share(r"\bsmil|\bhappy") >= 0.6


def test_captions_are_deterministic_and_varied():
    record = Attributes(hair_colour="blonde", gender="woman", lipstick="red", eye_colour="green", freckles=True)
    geometry = {"nose_width": "narrow nose", "face_length": None, "lip_fullness": "full lips"}
    first = captions(record, "wink", geometry, np.random.default_rng(3), 40)
    assert first == captions(record, "wink", geometry, np.random.default_rng(3), 40)
    assert len(first) == 40 and len(set(first)) >= 20
    assert not any("long face" in text or "short face" in text for text in first)
    assert any("narrow nose" in text for text in first)


def test_bald_records_never_name_a_hair_colour():
    rng = np.random.default_rng(1)
    texts = [
        text
        for _ in range(100)
        for text in captions(replace(sample_attributes(rng), hair="bald"), "neutral", {}, rng, 3)
    ]
    assert not any(hair_colour_pattern().search(text) or "hairline" in text for text in texts)
    assert sum("bald" in text or "hairless" in text for text in texts) > 0.8 * len(texts)


def test_paraphrases_are_held_out(sampled_captions):
    vocabulary = training_vocabulary()
    seen = set().union(*(caption_words(text) for text in sampled_captions))
    assert seen <= vocabulary  # the vocabulary really lists what captions can say
    assert {"hair_colour", "skin_bucket", "lipstick", "beard"} <= set(PARAPHRASES)
    for attribute in PARAPHRASES:
        prompts = paraphrase_prompts(attribute)
        assert set(prompts) == set(zero_shot_prompts(attribute)), attribute
        for prompt in prompts.values():
            held_out = caption_words(prompt) - SHARED_WORDS
            assert held_out and not held_out & vocabulary, (prompt, held_out & vocabulary)
            assert not held_out & seen


def test_reframed_prompts_keep_only_the_attribute_word(sampled_captions):
    vocabulary = training_vocabulary()
    for attribute, (_, values) in REFRAMED.items():
        prompts = reframed_prompts(attribute)
        assert set(prompts) == set(zero_shot_prompts(attribute)), attribute
        for value, prompt in prompts.items():
            attribute_words = caption_words(values[value]) - {"painted"}  # lipstick: "painted red"
            assert attribute_words <= vocabulary, prompt  # the training word itself, in a new frame:
            frame_words = caption_words(prompt) - attribute_words - SHARED_WORDS
            assert frame_words and not frame_words & vocabulary, (prompt, frame_words & vocabulary)


def test_sampled_captions_are_short_and_well_formed(sampled_captions):
    assert max(len(text.split()) for text in sampled_captions) < 60
    assert not any(re.search(r"\ba [aeiou]|  |,,|\ban [^aeiou]", text) for text in sampled_captions)
    assert sum(text.startswith("A face of") for text in sampled_captions) > 0.2 * len(sampled_captions)


def test_paper_caption_fills_the_template():
    record = Attributes(skin_tone=2, hair_colour="red", age="young", gender="man")
    assert paper_caption(record, "happy") == "A face of a young light-skinned man with red hair, smiling"
    old = Attributes(skin_tone=9, hair_colour="grey", age="old", gender="woman")
    assert paper_caption(old, "eyes closed") == "A face of an old dark-skinned woman with grey hair, with eyes closed"
    assert "no hair" in paper_caption(replace(record, hair="bald"), "neutral")


def test_zero_shot_prompts_cover_every_class_in_training_words():
    classes = {"hair_colour": set(HAIR_COLOURS), "expression": set(EXPRESSION_LABELS)}
    assert set(EXPRESSION_PHRASES) == set(EXPRESSION_LABELS)
    for attribute in ["hair_colour", "skin_bucket", "lipstick", "beard", "style", "age", "eye_colour", "expression"]:
        prompts = zero_shot_prompts(attribute)
        assert len(set(prompts.values())) == len(prompts) >= 2, attribute
        assert set(prompts) == classes.get(attribute, set(prompts))
        assert all(caption_words(prompt) <= training_vocabulary() for prompt in prompts.values()), attribute
    assert zero_shot_prompts("chin") == {
        "receding chin": "a person with a receding chin",
        "prominent chin": "a person with a prominent chin",
    }
    with pytest.raises(KeyError):
        zero_shot_prompts("hat")


def test_zero_shot_ensembles_use_training_words_for_every_class():
    vocabulary = training_vocabulary()
    for attribute in ("hair_colour", "skin_bucket", "lipstick_colour", "beard_colour", "age"):
        ensembles = zero_shot_ensembles(attribute)
        assert set(ensembles) == set(zero_shot_prompts(attribute)), attribute
        for prompts in ensembles.values():
            assert prompts and all(caption_words(p) <= vocabulary for p in prompts), prompts
    assert len(zero_shot_ensembles("beard_colour")["grey"]) >= 8  # grey/gray × the beard phrasings
