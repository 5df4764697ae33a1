"""``cliphead bench text2head``: prompt → head mesh on disk, against extracting a sampled head, same run.

Three figures, each a median over the repeats:

- **warm**: in one process with everything loaded, a prompt → text embedding → MLP_id/MLP_exp →
  extraction at the resolution → expression deformation → OBJ + landmarks written;
- **baseline**: the extraction and deformation of a sampled identity alone (what ``sample head
  --backend neural`` does), so the ratio shows what text and mapping add;
- **cold**: the whole ``cliphead text2head`` command in a fresh interpreter (imports, loading the
  encoder, the mappers and the head model), which is what a user waits for.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cliphead.lab.bench import BenchmarkResult, Target, Timing
from cliphead.lab.reporting import median_seconds

#: The goal for ``cliphead text2head`` at resolution 256 on 2 cores, end to end.
TARGET_SECONDS = 5.0
BENCH_PROMPT = "a laughing old man with a long face and a grey beard"


def benchmark_text2head(resolution: int = 256, repeats: int = 3, prompt: str = BENCH_PROMPT) -> BenchmarkResult:
    from cliphead.heads.generation import neural_head
    from cliphead.mapping.text2head import TextToHead, write_head_geometry

    start = time.perf_counter()
    text_to_head = TextToHead()
    load_seconds = time.perf_counter() - start
    model = text_to_head.head_model
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "head.obj"
        text_to_head(prompt, resolution=64)  # warm-up: thread pools, tokenizer
        warm = median_seconds(lambda: write_head_geometry(out, text_to_head(prompt, resolution=resolution)), repeats)
        z_id, z_exp = model.sample_identity_code(0), model.expression_code("laughing")
        baseline = median_seconds(lambda: neural_head(model, z_id, z_exp, resolution), repeats)
        command = [
            sys.executable,
            "-m",
            "cliphead.cli",
            "text2head",
            prompt,
            "--out",
            str(out),
            "--force",
            "--res",
            str(resolution),
        ]
        cold = []
        for _ in range(repeats):
            begin = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            cold.append(time.perf_counter() - begin)
    return BenchmarkResult(
        f"text2head at resolution {resolution} ({torch.get_num_threads()} threads, median of {repeats}), "
        f"prompt {prompt!r}",
        Timing("extraction + expression of a sampled head", baseline),
        [
            Timing("prompt → files, models loaded", warm),
            Timing("`cliphead text2head` in a fresh process", float(np.median(cold)), f"loading {load_seconds:.2f} s"),
        ],
        [Target("`cliphead text2head` in a fresh process", TARGET_SECONDS)],
        {"prompt": prompt, "resolution": resolution, "load_seconds": round(load_seconds, 3)},
    )
