"""Running independent pieces of work in worker processes, in order, with a progress bar.

Workers are spawned, not forked: a fork after torch or a tokenizer started their thread pools can
hang. Each worker runs torch on one thread, since the pieces (renders of a chunk, a small network's
training run) are too small for threads to help and the workers already fill the cores. Scripts
calling this with ``workers`` > 1 need the usual ``if __name__ == "__main__":`` guard (the
``cliphead`` command, pytest and the notebooks have it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any


def default_workers() -> int:
    """Worker processes to use when the caller names none: the cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _single_threaded_worker() -> None:
    import torch

    torch.set_num_threads(1)


def map_in_processes(
    function: Callable[..., Any], tasks: Sequence[tuple], workers: int, description: str, unit: str
) -> list[Any]:
    """``[function(*task) for task in tasks]``, in ``workers`` processes (at most one a task) when more than one,
    with tqdm."""
    from tqdm.auto import tqdm

    workers = min(workers, len(tasks))

    progress = {"desc": description, "unit": unit, "total": len(tasks)}
    if workers <= 1:
        return [function(*task) for task in tqdm(tasks, **progress)]
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_single_threaded_worker) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        return [future.result() for future in tqdm(futures, **progress)]
