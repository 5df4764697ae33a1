"""Data-parallel training under Hugging Face accelerate: every process takes its share of every batch.

``accelerate launch [--cpu] --num_processes N [--mixed_precision fp16|bf16] -m cliphead.cli train …`` runs N
copies of a training loop (one machine or several: accelerate's multi-node flags). All copies draw the same
batch from the same seeded generators; each computes the loss on its share of the items (every N-th, from its
rank), weighted by the share's size, and the gradients are summed over the processes (one all-reduce of the
flattened gradients, what DistributedDataParallel does) before the optimiser steps. So N processes take the
steps one process takes, up to the order of floating-point sums and the draws made inside a network (the
autoencoder's posterior samples). The loops change which module trains from phase to phase, which is why the
gradients are reduced here rather than by wrapping each module. The head model's and the image tower's losses do
not split by item (the head model's draws interleave per identity; the contrastive loss needs the whole batch),
so there each process draws its own batch (:func:`process_seed`) and the gradients are averaged: N processes
train on a batch N times larger, as DistributedDataParallel does. Launched without accelerate, N = 1 and a loop
runs as it always did. Forward passes run under the accelerator's autocast (mixed precision when launched so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import torch


@lru_cache(maxsize=1)
def accelerator():
    """The process's ``accelerate.Accelerator`` (on the CPU where no GPU is visible)."""
    from accelerate import Accelerator

    return Accelerator(cpu=not torch.cuda.is_available())


def processes() -> int:
    """How many processes train together (1 unless launched by ``accelerate launch``)."""
    return accelerator().num_processes


def is_main_process() -> bool:
    """Whether this process writes the run's files and prints its report."""
    return accelerator().is_main_process


@dataclass(frozen=True)
class BatchShare:
    """This process's items of a batch (``items``) and the weight of their mean loss (their share of the batch)."""

    items: slice
    weight: float


def batch_share(batch_size: int) -> BatchShare:
    """Items rank, rank + N, … of a batch of ``batch_size``; weight = their count / ``batch_size`` (1 alone)."""
    rank, world = accelerator().process_index, processes()
    return BatchShare(slice(rank, None, world), len(range(rank, batch_size, world)) / batch_size)


def sum_gradients(parameters: Iterable[torch.nn.Parameter]) -> None:
    """Sum the trainable ``parameters``' gradients over the processes (nothing to do alone)."""
    if processes() == 1:
        return
    trained = [parameter for parameter in parameters if parameter.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in trained]
    total = accelerator().reduce(torch.cat([grad.reshape(-1) for grad in grads]), "sum")
    for parameter, part in zip(trained, total.split([grad.numel() for grad in grads])):
        parameter.grad = part.view_as(parameter).clone()


def summed(value: torch.Tensor) -> float:
    """A weighted share of a batch's loss summed over the processes: the whole batch's loss, as one float."""
    if processes() == 1:
        return float(value.detach())
    return float(accelerator().reduce(value.detach().clone().reshape(1), "sum"))


def autocast() -> contextlib.AbstractContextManager:
    """The accelerator's autocast: mixed precision when launched with it, else nothing."""
    return accelerator().autocast()


def share_mean(values: torch.Tensor, share: BatchShare) -> torch.Tensor:
    """The mean of this process's ``values`` times its share's weight (0, still in the graph, for no items)."""
    return values.sum() * 0.0 if values.numel() == 0 else values.mean() * share.weight


def process_seed(seed: int) -> int:
    """The seed of this process's own draws in loops where each process draws its own batch (the head model's,
    the image tower's): ``seed`` for the main process (so one process draws what it always drew), another stream
    for each other rank."""
    rank = accelerator().process_index
    return seed if rank == 0 else seed + rank * 1_000_003


def mean_over_processes(loss: torch.Tensor) -> torch.Tensor:
    """``loss`` divided by the number of processes: summed gradients become the processes' mean gradient."""
    count = processes()
    return loss if count == 1 else loss / count
