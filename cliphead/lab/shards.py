"""Data generation split over independent jobs: ``--shard I/N`` builds every N-th chunk, a merge joins them.

The lab's data (identity pairs, texture triples, head banks, render sets) is built in deterministic chunks,
each seeded by its own index, never by what was built before it: a :class:`ChunkedBuild` names the cache
entry, the chunks' tasks and how the chunks join into the cached arrays. Chunk k goes to shard ``k mod N``
(shards numbered 1…N, as a job array counts them); each shard writes its chunks, in the generator's own
per-chunk form, to one ``.npz`` in a shared folder; the merge reads every shard of the same entry, checks that
each chunk is there exactly once, and joins the chunks in order — the arrays an unsharded build makes, byte for
byte (:func:`arrays_sha256` says so) — into the cache, where the training recipes find them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cliphead.assets import load_cached_npz
from cliphead.lab.parallel import default_workers, map_in_processes


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


@dataclass(frozen=True)
class ChunkedBuild:
    """A deterministic data build: its cache ``key``, one (function, arguments) task per chunk, the ``join`` of the
    chunks' results into the cached arrays, and what to build first in this process (``prepare``, e.g. a head bank
    the chunks share)."""

    key: str
    tasks: list[tuple[Callable, tuple]]
    join: Callable[[list], dict[str, np.ndarray]]
    description: str
    prepare: Callable[[], object] | None = None

    def run(self, chunks: list[int], workers: int | None = None) -> list:
        """The results of the numbered chunks, in ``workers`` processes (default one a core)."""
        if self.prepare is not None:
            self.prepare()
        calls = [(self.tasks[k][0], *self.tasks[k][1]) for k in chunks]
        return map_in_processes(_call, calls, workers or default_workers(), self.description, "chunk")

    def build(self, workers: int | None = None) -> dict[str, np.ndarray]:
        """Every chunk, joined (not cached)."""
        return self.join(self.run(list(range(len(self.tasks))), workers))

    def whole(self, workers: int | None = None) -> dict[str, np.ndarray]:
        """The cached arrays, built whole on first use."""
        return load_cached_npz(self.key, lambda: self.build(workers))

    def shard(self, shard: Shard, folder: Path, workers: int | None = None) -> Path:
        """Build this shard's chunks into ``folder``."""
        chunks = shard.chunks(len(self.tasks))
        return save_shard(shard.file(folder, self.key), dict(zip(chunks, self.run(chunks, workers))))

    def merge(self, folder: Path) -> dict:
        """Join the shards in ``folder`` into the cache (an entry already there must be the same); their
        :meth:`record`."""
        joined = self.join(load_shards(folder, self.key, len(self.tasks)))
        record = self.record(joined)
        if arrays_sha256(load_cached_npz(self.key, lambda: joined)) != record["sha256"]:
            raise ValueError(f"the cache already holds other data under {self.key}; remove that entry and merge again")
        return record

    def record(self, arrays: dict[str, np.ndarray]) -> dict:
        """The cache key, the arrays' sha256 and their shapes (what ``build data`` reports)."""
        return {
            "key": self.key,
            "sha256": arrays_sha256(arrays),
            "arrays": {n: list(a.shape) for n, a in arrays.items()},
        }


def _call(function: Callable, *arguments):
    return function(*arguments)
