"""``cliphead bench generate``: prompt → textured head on disk with the models loaded, per stage, same-run baseline.

Figures, each a median over the repeats: the whole generation (pipeline + files), each stage's
seconds, and as the baseline the geometry alone (``text2head``: prompt → mesh, what the pipeline
adds texture to), so the ratio shows what the texture half costs. Peak memory is the process's
maximum resident set size, read after the runs.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cliphead.lab.reporting import median_seconds

TARGET_SECONDS = 15.0
BENCH_PROMPT = "a laughing old man with a long face and a grey beard"


def benchmark_generate(repeats: int = 3, prompt: str = BENCH_PROMPT) -> dict:
    from cliphead.outputs import write_textured_head
    from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings

    pipeline = CLIPHeadPipeline()
    settings = PipelineSettings()
    stages: list[dict[str, float]] = []
    totals = []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(repeats + 1):  # the first run warms up thread pools and mediapipe
            start = time.perf_counter()
            head = pipeline(prompt, settings=settings)
            written = time.perf_counter()
            write_textured_head(Path(folder) / f"run{k}", head, pipeline.backends)
            if k:
                stages.append({**head.seconds, "write": time.perf_counter() - written})
                totals.append(time.perf_counter() - start)
    text_to_head = pipeline.text_to_head
    baseline = median_seconds(lambda: text_to_head(prompt, resolution=settings.resolution), repeats)
    total = float(np.median(totals))
    return {
        "prompt": prompt,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "load_seconds": round(pipeline.load_seconds, 3),
        "total_seconds": round(total, 3),
        "stage_seconds": {stage: round(float(np.median([s[stage] for s in stages])), 3) for stage in stages[0]},
        "baseline_seconds": round(baseline, 3),
        "total_over_baseline": round(total / baseline, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_seconds": TARGET_SECONDS,
        "meets_target": total <= TARGET_SECONDS,
    }


def format_generate_benchmark(result: dict) -> str:
    stages = "\n".join(f"    {stage:24s} {seconds:7.3f} s" for stage, seconds in result["stage_seconds"].items())
    return (
        f"generate ({result['threads']} threads, median of {result['repeats']}, models loaded once in "
        f"{result['load_seconds']:.2f} s), prompt {result['prompt']!r}:\n"
        f"  prompt → mesh only (text2head)        {result['baseline_seconds']:7.3f} s  (baseline)\n"
        f"  prompt → textured head on disk        {result['total_seconds']:7.3f} s  "
        f"({result['total_over_baseline']:.2f}× baseline)\n{stages}\n"
        f"  peak memory (max RSS)                 {result['peak_memory_mb']:7.1f} MB\n"
        f"  target ≤ {result['target_seconds']} s per prompt: {'met' if result['meets_target'] else 'NOT met'}"
    )
