"""The identity pairs built in shards (``build pairs --shard I/N``, ``--merge``) equal the unsharded build.

(Training on two processes is tested beside each training's one-process test, in test_mapping and
test_texture.)"""

from __future__ import annotations

import pytest

from cliphead.lab.mapping.pairs import (
    IdentityPairConfig,
    build_render_shard,
    cached_render_arrays,
    merge_render_shards,
)
from cliphead.lab.shards import arrays_sha256, parse_shard


def test_shards_merge_into_the_unsharded_build(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    # Two chunks (8 identities and 1), small renders.
    config = IdentityPairConfig(9, views_per_identity=1, resolution=64, texture_size=128, image_size=64, kept=4, seed=7)
    with pytest.raises(FileNotFoundError, match="no shard"):
        merge_render_shards(config, tmp_path / "shards")
    build_render_shard(config, parse_shard("2/2"), tmp_path / "shards", workers=1)
    with pytest.raises(ValueError, match=r"chunks \[0\]"):
        merge_render_shards(config, tmp_path / "shards")
    build_render_shard(config, parse_shard("1/2"), tmp_path / "shards", workers=1)
    merged = merge_render_shards(config, tmp_path / "shards")
    assert merged["pairs"] == 9
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "another-cache"))
    key, whole = cached_render_arrays(config, workers=1)
    assert key == merged["key"] and arrays_sha256(whole) == merged["sha256"]


def test_shard_and_merge_flags_are_checked(tmp_path, capsys):
    from cliphead.cli import main

    assert main(["build", "pairs", "--shard", "3/2", "--out", str(tmp_path)]) == 2
    assert "1 <= I <= N" in capsys.readouterr().err
    assert main(["build", "pairs", "--shard", "1/2"]) == 2
    assert "--out DIR" in capsys.readouterr().err
