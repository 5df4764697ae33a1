"""Data generation split over independent jobs: ``--shard I/N`` builds every N-th chunk, a merge joins them.

A generator that builds its data in deterministic chunks (each seeded by its own index, never by what was
built before it) can hand chunk k to shard ``k mod N`` (shards numbered 1…N, as a job array counts them):
each shard writes its chunks, in the generator's own per-chunk form, to one ``.npz`` in a shared folder; the
merge reads every shard of the same data, checks that each chunk is there exactly once, and joins the chunks
in order — the arrays an unsharded build makes, byte for byte (:func:`arrays_sha256` says so).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def chunks(self, n_chunks: int) -> list[int]:
        """The chunk numbers this shard builds: k with k mod count = index - 1."""
        return list(range(self.index - 1, n_chunks, self.count))

    def file(self, folder: Path, key: str) -> Path:
        return Path(folder) / f"{key}.shard-{self.index}-of-{self.count}.npz"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` (1 ≤ I ≤ N) → :class:`Shard`; a clear error otherwise."""
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit()) or not 1 <= int(index) <= int(count):
        raise ValueError(f"--shard takes I/N with 1 <= I <= N (e.g. 3/8), got {text!r}")
    return Shard(int(index), int(count))


def save_shard(path: Path, chunks: dict[int, dict[str, list]]) -> Path:
    """Write chunk number → the generator's per-chunk lists (each item an array or a string) to ``path``."""
    arrays = {f"{chunk}/{name}": np.asarray(items) for chunk, part in chunks.items() for name, items in part.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_shards(folder: Path, key: str, n_chunks: int) -> list[dict[str, np.ndarray]]:
    """Every chunk of ``key`` from the shard files in ``folder``, in chunk order; refuses a missing or repeated
    chunk, naming it."""
    chunks: dict[int, dict[str, np.ndarray]] = {}
    files = sorted(Path(folder).glob(f"{key}.shard-*-of-*.npz"))
    if not files:
        raise FileNotFoundError(f"no shard of {key} in {folder}; build them with --shard I/N first")
    for path in files:
        with np.load(path) as saved:
            for name in saved.files:
                chunk, _, field = name.partition("/")
                part = chunks.setdefault(int(chunk), {})
                if field in part:
                    raise ValueError(f"chunk {chunk} of {key} is in more than one shard file ({path.name})")
                part[field] = saved[name]
    missing = sorted(set(range(n_chunks)) - set(chunks))
    if missing:
        raise ValueError(f"chunks {missing} of {key} are in no shard file in {folder}: build their shards first")
    return [chunks[chunk] for chunk in range(n_chunks)]


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """One sha256 over named arrays (names, dtypes, shapes and bytes, in name order)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
