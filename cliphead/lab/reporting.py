"""Provenance and atomic writing of results files (every results file records the command, git commit,
seed, parameters, backend names and wall time).

A table goes to ``<name>.csv`` with a sidecar ``<name>.json`` holding its provenance; both are written
to a temporary name in the target folder and moved into place, so an interrupted run never leaves a
half-written file where a good one was.
"""

from __future__ import annotations

import datetime as _datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cliphead.assets import repository_root
from cliphead.files import atomic_path, write_json
from cliphead.provenance import git_commit, package_version

#: Distributions whose versions every provenance record lists (when installed).
RECORDED_PACKAGES = ("numpy", "torch", "scipy", "libigl", "scikit-image", "trimesh", "pandas", "matplotlib")


def provenance(
    parameters: Mapping[str, Any],
    backends: Mapping[str, str] | None = None,
    seed: int | None = None,
    *,
    started: float,
    command: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Where a result came from.

    ``parameters``: the settings of the run (e.g. a notebook's parameters cell); ``backends``: the
    name of each model or library that produced the numbers (e.g. ``{"harmonic map": "libigl"}``);
    ``started``: a :func:`time.time` reading taken when the run began, for the wall time;
    ``command``: the command that reproduces the run, when ``sys.argv`` does not say it (inside a
    notebook kernel ``sys.argv`` is only the kernel launcher).
    """
    now = time.time()
    if command is None:
        command = list(sys.argv)
    elif not isinstance(command, str):
        command = [str(part) for part in command]
    return {
        "command": command,
        "git_commit": git_commit(),
        "package_version": package_version("cliphead"),
        "python": platform.python_version(),
        "versions": {name: package_version(name) for name in RECORDED_PACKAGES},
        "seed": seed,
        "parameters": dict(parameters),
        "backends": dict(backends or {}),
        "timestamp_utc": _datetime.datetime.now(_datetime.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(now - started, 3),
    }


def output_folders(*folders: str | os.PathLike) -> tuple[Path, ...]:
    """A notebook's output folders, created: relative ones resolved from the repository root, so a kernel started
    anywhere (JupyterLab starts it in ``notebooks/``) writes into the repository's ``results/`` and ``figures/``."""
    resolved = tuple(repository_root() / folder for folder in folders)  # an absolute folder stays as it is
    for folder in resolved:
        folder.mkdir(parents=True, exist_ok=True)
    return resolved


def _atomic_write(path: Path, write) -> Path:
    """Call ``write(temporary_path)`` and move the file into place (see :func:`cliphead.files.atomic_path`)."""
    with atomic_path(path) as temporary:
        write(str(temporary))
    return path


def write_csv(path: str | os.PathLike, dataframe, provenance: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write a pandas DataFrame to ``path`` (CSV, no index) and its provenance beside it as ``<name>.json``.

    Returns the two paths. Both files are written atomically.
    """
    path = Path(path)
    csv_path = _atomic_write(path, lambda temporary: dataframe.to_csv(temporary, index=False))
    sidecar = write_json(
        path.with_suffix(".json"),
        {
            "file": path.name,
            "rows": len(dataframe),
            "columns": [str(column) for column in dataframe.columns],
            "provenance": provenance,
        },
    )
    return csv_path, sidecar


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``work`` (the benchmarks' timer)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
