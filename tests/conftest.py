"""Shared, session-scoped fixtures: the ICT model and a few marching-cubes heads, built once.

The ICT model is loaded through the user cache (the parsed ``.npz`` makes loads fast); tests of
the cache itself point ``CLIPHEAD_CACHE`` at their own folder with ``monkeypatch``.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # The suite runs on two workers (``-n 2`` in pyproject.toml), one a core: each worker, and every
    # command or notebook kernel it starts, computes on one thread so the two never fight over cores.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"

#: (seed, expression) of the re-meshed heads the UV and head tests share.
HEAD_CASES = ((0, "neutral"), (1, "laughing"), (2, "mouth open"))
#: Marching-cubes resolution of the shared heads (about 2 s each on a laptop core).
HEAD_RESOLUTION = 96


@pytest.fixture(scope="session")
def built_once(tmp_path_factory) -> Callable[[str, Callable[[Path], dict]], tuple[Path, dict]]:
    """``built_once(name, build)``: the folder ``name`` and the JSON record ``build(folder)`` returned, built by
    whichever worker asks first while the others wait on a lock: an expensive fixture runs once per run, not
    once per xdist worker. The folder lies in the parent of the workers' temporary folders, which all see."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def once(name: str, build: Callable[[Path], dict]) -> tuple[Path, dict]:
        folder = shared / name
        with open(shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / "record.json").exists():
                folder.mkdir(exist_ok=True)
                (folder / "record.json").write_text(json.dumps(build(folder)))
        return folder, json.loads((folder / "record.json").read_text())

    return once


@pytest.fixture(scope="session")
def ict_model():
    from cliphead.heads.ict import load_ict_model

    return load_ict_model()


@pytest.fixture(scope="session")
def remeshed_heads(ict_model):
    """Heads as NPHM-like meshes: random identity + labelled expression, marching cubes, neck cropped."""
    from cliphead.lab.uv.evaluation import remeshed_head

    return [remeshed_head(ict_model, seed, expression, resolution=HEAD_RESOLUTION) for seed, expression in HEAD_CASES]


@pytest.fixture(scope="session")
def head_mesh_file(remeshed_heads, tmp_path_factory):
    """The first re-meshed head written to an OBJ file."""
    from cliphead.meshes import write_obj

    path = tmp_path_factory.mktemp("heads") / "head.obj"
    head = remeshed_heads[0]
    write_obj(path, head.vertices, head.faces)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the modules that hold tests marked ``slow`` (notebooks, trainings) first, so both workers end
    together; a module's tests stay together and in order."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)
