"""Finding, downloading, caching and hashing the data the project stands on.

ICT-FaceKit (MIT; 100 identity modes, 53 ARKit-named expression blendshapes, head and neck, 68
landmarks) plays the role of the NPHM scan dataset: the embedded default models are trained on heads
drawn from it. It is looked for, in order, at

1. ``$CLIPHEAD_ICT_DIR``,
2. ``../shared/assets/ict-facekit`` beside the checkout,
3. the user cache (``$CLIPHEAD_CACHE`` or ``~/.cache/cliphead``), where
   :func:`download_ict_facekit` puts a copy of the public repository's ``FaceXModel`` folder at the
   pinned commit.

The parsed model is cached as a compressed ``.npz`` keyed by a hash of the source files, so later
loads skip the OBJ parsing.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

ICT_REPOSITORY = "ICT-VGL/ICT-FaceKit"
ICT_COMMIT = "da5f95a607f5e6b37755b38d3385d7f2853732e5"
ICT_ARCHIVE_URL = f"https://github.com/{ICT_REPOSITORY}/archive/{ICT_COMMIT}.zip"
ICT_MODEL_FOLDER = "FaceXModel"
CACHE_FORMAT_VERSION = 1


class AssetNotFoundError(RuntimeError):
    """Raised when a data asset is not found anywhere the project looks."""


def repository_root() -> Path:
    """The checkout's root (the folder holding the ``cliphead`` package)."""
    return Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """The user cache: ``$CLIPHEAD_CACHE``, else ``$XDG_CACHE_HOME/cliphead``, else ``~/.cache/cliphead``."""
    if os.environ.get("CLIPHEAD_CACHE"):
        return Path(os.environ["CLIPHEAD_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cliphead"


def ict_candidate_dirs() -> list[Path]:
    """The places searched for ICT-FaceKit, in order."""
    candidates = []
    if os.environ.get("CLIPHEAD_ICT_DIR"):
        candidates.append(Path(os.environ["CLIPHEAD_ICT_DIR"]).expanduser())
    candidates.append(repository_root().parent / "shared" / "assets" / "ict-facekit")
    candidates.append(cache_dir() / "ict-facekit")
    return candidates


def _model_folder(root: Path) -> Path | None:
    """``root/FaceXModel`` if it holds the neutral mesh, else ``root`` itself if it does, else None."""
    for folder in (root / ICT_MODEL_FOLDER, root):
        if any((folder / f"generic_neutral_mesh{ext}").is_file() for ext in (".obj", ".obj.gz")):
            return folder
    return None


def find_ict_facekit() -> Path:
    """The ``FaceXModel`` folder of ICT-FaceKit, or :class:`AssetNotFoundError` naming where it looked."""
    searched = ict_candidate_dirs()
    for root in searched:
        folder = _model_folder(root)
        if folder is not None:
            return folder
    looked = "\n".join(f"  - {p}" for p in searched)
    raise AssetNotFoundError(
        "ICT-FaceKit was not found. Looked in:\n"
        f"{looked}\n"
        "Fix: set CLIPHEAD_ICT_DIR to a folder holding FaceXModel/ (a clone of "
        f"https://github.com/{ICT_REPOSITORY}), or run `cliphead download assets` to fetch it "
        f"(commit {ICT_COMMIT[:12]}) into {cache_dir() / 'ict-facekit'}."
    )


def download_ict_facekit(target: Path | None = None, timeout: float = 60.0) -> Path:
    """Download ``FaceXModel/`` (and the licence) of ICT-FaceKit at the pinned commit into the cache.

    The archive is extracted to a temporary folder and moved into place, so an interrupted download
    never leaves a half-written model behind.
    """
    target = Path(target) if target is not None else cache_dir() / "ict-facekit"
    if _model_folder(target) is not None:
        return _model_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(ICT_ARCHIVE_URL, timeout=timeout) as response:
            payload = response.read()
    except OSError as error:
        raise AssetNotFoundError(
            f"Could not download {ICT_ARCHIVE_URL} ({error}). Without internet, copy a clone of "
            f"{ICT_REPOSITORY} somewhere and set CLIPHEAD_ICT_DIR to it."
        ) from error
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staging = Path(tmp) / "ict-facekit"
        (staging / ICT_MODEL_FOLDER).mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for name in archive.namelist():
                parts = Path(name).parts
                if len(parts) >= 2 and parts[1] == "LICENSE":
                    (staging / "LICENSE").write_bytes(archive.read(name))
                if len(parts) == 3 and parts[1] == ICT_MODEL_FOLDER and not name.endswith("/"):
                    (staging / ICT_MODEL_FOLDER / parts[2]).write_bytes(archive.read(name))
        (staging / "SOURCE.md").write_text(f"Downloaded from {ICT_ARCHIVE_URL} by `cliphead download assets`.\n")
        shutil.move(str(staging), str(target))
    return target / ICT_MODEL_FOLDER


def open_text(path: Path) -> io.TextIOBase:
    """Open ``.obj`` or ``.obj.gz`` (any gzip file) as text."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt")
    return open(path, "r")


def shape_file(folder: Path, name: str) -> Path:
    """The file of shape ``name`` in ``folder``, ``.obj`` or ``.obj.gz``."""
    for ext in (".obj", ".obj.gz"):
        candidate = folder / f"{name}{ext}"
        if candidate.is_file():
            return candidate
    raise AssetNotFoundError(f"ICT-FaceKit shape '{name}' is missing from {folder} (.obj or .obj.gz).")


def files_digest(paths: list[Path]) -> str:
    """sha256 over the names and contents of ``paths`` (the cache key of parsed data)."""
    digest = hashlib.sha256(f"v{CACHE_FORMAT_VERSION}".encode())
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_npz(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None if it is missing or damaged (a damaged one is removed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception:  # any damage to the cache file (truncated, bad zip, bad header): rebuild it
        path.unlink(missing_ok=True)
        return None


@contextlib.contextmanager
def _exclusive(lock: Path):
    """Hold an exclusive lock on ``lock`` (POSIX ``flock``; no lock where the platform has none)."""
    try:
        import fcntl
    except ImportError:  # Windows: two processes may build the same entry; the atomic rename keeps it whole
        yield
        return
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_cached_npz(key: str, build) -> dict[str, np.ndarray]:
    """Load ``cache_dir()/npz/{key}.npz``, or call ``build()`` to make the arrays and cache them.

    Processes that ask for the same missing entry at once build it once: the first holds a lock on the
    entry while it builds, the others wait for it and then load what it wrote.
    """
    path = cache_dir() / "npz" / f"{key}.npz"
    arrays = _read_npz(path)
    if arrays is not None:
        return arrays
    path.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(path.with_suffix(".lock")):
        arrays = _read_npz(path)
        if arrays is not None:
            return arrays
        arrays = build()
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
            np.savez_compressed(handle, **arrays)
        os.replace(handle.name, path)
    return arrays


def read_json(path: Path) -> dict:
    with open(path) as handle:
        return json.load(handle)
