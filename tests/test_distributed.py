"""Data built in shards (``build data KIND --shard I/N``, ``--merge``) equals the unsharded build.

(Training on two processes is tested beside each training's one-process test, in test_mapping and
test_texture.)"""

from __future__ import annotations

import pytest

from cliphead.lab.mapping.pairs import IdentityPairConfig, identity_render_build
from cliphead.lab.recipe_data import DATA_KINDS, data_build
from cliphead.lab.shards import arrays_sha256, parse_shard
from cliphead.lab.texture.data import TextureDataConfig, texture_triple_build


def test_identity_pair_shards_merge_into_the_unsharded_build(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    # Two chunks (8 identities and 1), small renders.
    config = IdentityPairConfig(9, views_per_identity=1, resolution=64, texture_size=128, image_size=64, kept=4, seed=7)
    build = identity_render_build(config)
    with pytest.raises(FileNotFoundError, match="no shard"):
        build.merge(tmp_path / "shards")
    build.shard(parse_shard("2/2"), tmp_path / "shards", workers=1)
    with pytest.raises(ValueError, match=r"chunks \[0\]"):
        build.merge(tmp_path / "shards")
    build.shard(parse_shard("1/2"), tmp_path / "shards", workers=1)
    merged = build.merge(tmp_path / "shards")
    assert merged["arrays"]["images"][0] == 9 and merged["key"] == build.key
    assert merged["sha256"] == arrays_sha256(build.build(workers=1))
    assert identity_render_build(config).whole(workers=1)["codes"].shape == (9, 64)  # the cache holds the merge


def test_texture_triple_shards_of_heads_and_textures_merge_into_the_unsharded_build(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    # Three chunks: one of heads, two of painted textures (64 and 2); shard 1/2 holds the heads and the second
    # textures, shard 2/2 the first textures.
    build = texture_triple_build(TextureDataConfig(n_heads=1, n_textures=66, size=64, captions_per_texture=1))
    for index in (1, 2):
        build.shard(parse_shard(f"{index}/2"), tmp_path / "shards", workers=1)
    merged = build.merge(tmp_path / "shards")
    assert merged["arrays"]["textures_whole"][0] == 66 and merged["arrays"]["normals_whole"][0] == 1
    assert merged["sha256"] == arrays_sha256(build.build(workers=1))


def test_every_recipe_data_has_a_build_and_flags_are_checked(tmp_path, capsys):
    from cliphead.cli import main

    from cliphead.cli.train import DATA_KINDS as CLI_KINDS

    assert CLI_KINDS == DATA_KINDS
    keys = {kind: data_build(kind, "quick").key for kind in DATA_KINDS}
    assert keys["pairs"].startswith("identity-pairs") and keys["head-bank"].startswith("head-bank-12-0")
    assert main(["build", "data", "pairs", "--shard", "3/2", "--out", str(tmp_path)]) == 2
    assert "1 <= I <= N" in capsys.readouterr().err
    assert main(["build", "data", "triples", "--shard", "1/2"]) == 2
    assert "--out DIR" in capsys.readouterr().err
