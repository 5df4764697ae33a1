"""Tests of cliphead.assets: finding ICT-FaceKit, .obj/.obj.gz reading, and the parsed-data cache."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from cliphead import assets
from cliphead.heads.ict import _parse_positions

SHARED_ICT = assets.repository_root().parent / "shared" / "assets" / "ict-facekit"


@pytest.fixture
def no_ict_env(monkeypatch, tmp_path):
    """No $CLIPHEAD_ICT_DIR and an empty user cache (the shared folder beside the checkout stays)."""
    monkeypatch.delenv("CLIPHEAD_ICT_DIR", raising=False)
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def tiny_ict(tmp_path):
    """A folder holding FaceXModel/ with a plain-text neutral mesh and one identity shape (.obj and .obj.gz)."""
    source = assets.find_ict_facekit()
    folder = tmp_path / "tiny-ict" / assets.ICT_MODEL_FOLDER
    folder.mkdir(parents=True)
    with gzip.open(assets.shape_file(source, "generic_neutral_mesh"), "rb") as handle:
        (folder / "generic_neutral_mesh.obj").write_bytes(handle.read())
    shutil.copy(assets.shape_file(source, "identity000"), folder / "identity000.obj.gz")
    with gzip.open(folder / "identity000.obj.gz", "rb") as handle:
        (folder / "identity001.obj").write_bytes(handle.read())  # the same shape, uncompressed
    return folder


# --- finding ICT-FaceKit ------------------------------------------------------------------------


def test_finds_the_shared_folder(no_ict_env):
    if not (SHARED_ICT / assets.ICT_MODEL_FOLDER).is_dir():
        pytest.skip("no ../shared/assets/ict-facekit beside this checkout")
    found = assets.find_ict_facekit()
    assert found == SHARED_ICT / assets.ICT_MODEL_FOLDER
    assert (found / "vertex_indices.json").is_file()
    assert assets.shape_file(found, "generic_neutral_mesh").name.startswith("generic_neutral_mesh.obj")


def test_candidates_in_documented_order(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    assert assets.ict_candidate_dirs() == [
        tmp_path / "env",
        assets.repository_root().parent / "shared" / "assets" / "ict-facekit",
        tmp_path / "cache" / "ict-facekit",
    ]


def test_env_dir_wins_when_it_holds_the_model(monkeypatch, tiny_ict):
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(tiny_ict.parent))
    assert assets.find_ict_facekit() == tiny_ict
    # A folder that is itself FaceXModel is accepted too.
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(tiny_ict))
    assert assets.find_ict_facekit() == tiny_ict


def test_empty_env_dir_falls_through_to_next_candidate(monkeypatch, tmp_path, tiny_ict):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(empty))
    # Make the cache the only candidate holding the model: no shared folder beside a fake checkout.
    monkeypatch.setattr(assets, "repository_root", lambda: tmp_path / "fake" / "checkout")
    cache = tmp_path / "cache"
    shutil.copytree(tiny_ict.parent, cache / "ict-facekit")
    monkeypatch.setenv("CLIPHEAD_CACHE", str(cache))
    assert assets.find_ict_facekit() == cache / "ict-facekit" / assets.ICT_MODEL_FOLDER


def test_empty_env_dir_falls_through_to_shared(monkeypatch, tmp_path):
    if not (SHARED_ICT / assets.ICT_MODEL_FOLDER).is_dir():
        pytest.skip("no ../shared/assets/ict-facekit beside this checkout")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(empty))
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    assert assets.find_ict_facekit() == SHARED_ICT / assets.ICT_MODEL_FOLDER


def test_not_found_error_lists_places_and_fixes(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "FaceXModel").mkdir()  # a folder without the neutral mesh does not count
    monkeypatch.setenv("CLIPHEAD_ICT_DIR", str(empty))
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(assets, "repository_root", lambda: tmp_path / "fake" / "checkout")
    with pytest.raises(assets.AssetNotFoundError) as raised:
        assets.find_ict_facekit()
    message = str(raised.value)
    for place in (empty, tmp_path / "fake" / "shared" / "assets" / "ict-facekit", tmp_path / "cache" / "ict-facekit"):
        assert str(place) in message
    assert "cliphead download assets" in message
    assert "CLIPHEAD_ICT_DIR" in message


def test_missing_shape_names_the_shape(tiny_ict):
    with pytest.raises(assets.AssetNotFoundError, match="identity099"):
        assets.shape_file(tiny_ict, "identity099")


# --- .obj and .obj.gz ------------------------------------------------------------------------------


def test_obj_and_obj_gz_read_alike(tiny_ict):
    plain, packed = tiny_ict / "identity001.obj", tiny_ict / "identity000.obj.gz"
    with assets.open_text(plain) as a, assets.open_text(packed) as b:
        assert a.read() == b.read()
    from_plain, from_packed = _parse_positions(plain), _parse_positions(packed)
    assert from_plain.shape == (26719, 3)
    np.testing.assert_array_equal(from_plain, from_packed)


def test_shape_file_prefers_plain_obj(tiny_ict):
    assert assets.shape_file(tiny_ict, "generic_neutral_mesh").name == "generic_neutral_mesh.obj"
    assert assets.shape_file(tiny_ict, "identity000").name == "identity000.obj.gz"
    shutil.copy(tiny_ict / "identity001.obj", tiny_ict / "identity000.obj")
    assert assets.shape_file(tiny_ict, "identity000").name == "identity000.obj"


def test_files_digest_depends_on_content_and_name(tmp_path):
    a, b = tmp_path / "a.obj", tmp_path / "b.obj"
    a.write_text("v 0 0 0\n")
    b.write_text("v 0 0 0\n")
    digest = assets.files_digest([a])
    assert digest == assets.files_digest([a])
    assert digest != assets.files_digest([b])  # the name is part of the key
    a.write_text("v 0 0 1\n")
    assert digest != assets.files_digest([a])


# --- the parsed-data cache ------------------------------------------------------------------------


class CountingBuild:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"a": np.arange(12, dtype=np.float32).reshape(4, 3), "names": np.asarray(["x", "yz"])}


def test_cache_builds_once(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    build = CountingBuild()
    first = assets.load_cached_npz("demo", build)
    second = assets.load_cached_npz("demo", build)
    assert build.calls == 1
    assert (tmp_path / "cache" / "npz" / "demo.npz").is_file()
    assert set(second) == {"a", "names"}
    np.testing.assert_array_equal(first["a"], second["a"])
    assert second["a"].dtype == np.float32
    assert second["names"].tolist() == ["x", "yz"]
    leftovers = [p.name for p in (tmp_path / "cache" / "npz").iterdir()]
    assert sorted(leftovers) == ["demo.lock", "demo.npz"]  # no temp files left, only the entry's lock


BUILD_SLOWLY = """
import sys, time
import numpy as np
from cliphead.assets import load_cached_npz

def build():
    with open(sys.argv[1], "a") as log:
        log.write("built\\n")
    time.sleep(1.0)
    return {"a": np.arange(5)}

print(load_cached_npz("shared", build)["a"].sum())
"""


def test_two_processes_asking_at_once_build_once(monkeypatch, tmp_path):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    log = tmp_path / "builds.txt"
    runs = [subprocess.Popen([sys.executable, "-c", BUILD_SLOWLY, str(log)], stdout=subprocess.PIPE, text=True)]
    time.sleep(0.3)  # the first is building when the second asks
    runs.append(subprocess.Popen([sys.executable, "-c", BUILD_SLOWLY, str(log)], stdout=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=60)[0].strip() for run in runs]
    assert outputs == ["10", "10"] and log.read_text().splitlines() == ["built"]


@pytest.mark.parametrize(
    "corruption",
    [
        "garbage",
        "truncated",
        "empty",
    ],
)
def test_corrupted_cache_is_rebuilt(monkeypatch, tmp_path, corruption):
    monkeypatch.setenv("CLIPHEAD_CACHE", str(tmp_path / "cache"))
    build = CountingBuild()
    expected = assets.load_cached_npz("demo", build)
    path = tmp_path / "cache" / "npz" / "demo.npz"
    raw = path.read_bytes()
    path.write_bytes(
        {"garbage": b"\x00not an npz\xff" * 50, "truncated": raw[: len(raw) // 2], "empty": b""}[corruption]
    )
    again = assets.load_cached_npz("demo", build)
    assert build.calls == 2
    np.testing.assert_array_equal(again["a"], expected["a"])
    # The rebuilt file is valid again.
    with np.load(path) as data:
        np.testing.assert_array_equal(data["a"], expected["a"])
