"""``cliphead`` commands on two CPU processes under accelerate.

On a machine without GPUs accelerate 1.12 starts several CPU processes with ``--multi_gpu`` (torchrun, gloo) or
through MPI (``--cpu`` with a hostfile); ``--cpu --num_processes 2`` alone starts one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
LAUNCH += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "cliphead.cli"]


def launched(*command: str, out: Path) -> subprocess.CompletedProcess:
    """``cliphead COMMAND --threads 1 --out OUT`` on two processes; asserts it succeeded."""
    run = subprocess.run([*LAUNCH, *command, "--threads", "1", "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return run
