"""Where a result came from: the installed version of a distribution and the checkout's git commit."""

from __future__ import annotations

import os
import subprocess
from importlib import metadata
from pathlib import Path


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, else None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit(folder: str | os.PathLike | None = None) -> str | None:
    """``git rev-parse HEAD`` of the checkout holding ``folder`` (default: this package's), else None."""
    folder = Path(folder) if folder is not None else Path(__file__).resolve().parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None
