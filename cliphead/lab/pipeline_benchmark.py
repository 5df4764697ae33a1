"""``cliphead bench generate``: prompt → textured head on disk, with the models loaded and as a user runs it.

Figures, each a median over the repeats:

- **baseline**: the geometry alone (``text2head``: prompt → mesh, what the pipeline adds texture to),
  with the models loaded;
- **warm, in process**: the whole generation with the models loaded (pipeline + files), each stage's
  seconds beside it;
- **first run on a fresh clone**: ``cliphead generate`` in a fresh interpreter with an empty user cache:
  what a new user waits for (the installed packages' bytecode is there, as ``pip install`` leaves it);
- **warm run**: the same command again, the cache now in place. The first run should take at most
  :data:`FIRST_RUN_RATIO` times the warm run: inference builds nothing it could have shipped;
- **a given mesh → textured head on disk** (``cliphead generate --mesh``), with the models loaded: repair,
  frame, landmarks found on renders, the aligned map, then texture, rectification and files. The mesh is a
  head of the defect corpus (ICT identity 0 with holes, written without its landmarks) unless one is given.

Peak memory is the process's maximum resident set size, read after the in-process runs.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cliphead.lab.bench import BenchmarkResult, Target, Timing
from cliphead.lab.reporting import median_seconds
from cliphead.lab.uv.defects import corpus_case
from cliphead.meshes import write_obj
from cliphead.outputs import write_textured_head
from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings
from cliphead.uv.incoming import aligned_mesh_file

TARGET_SECONDS = 15.0
#: A fresh clone's first ``cliphead generate`` may take at most this many times a warm run.
FIRST_RUN_RATIO = 1.5
#: ``cliphead generate --mesh``: a given head textured and on disk, models loaded (seconds).
MESH_TARGET_SECONDS = 20.0
BENCH_PROMPT = "a laughing old man with a long face and a grey beard"


def _in_process(pipeline: CLIPHeadPipeline, prompt: str, repeats: int, folder: Path) -> tuple[float, dict]:
    """Median seconds of prompt → files with the models loaded, and the median seconds per stage."""
    stages: list[dict[str, float]] = []
    totals = []
    for k in range(repeats + 1):  # the first run warms up thread pools and mediapipe
        start = time.perf_counter()
        head = pipeline(prompt, settings=PipelineSettings())
        written = time.perf_counter()
        write_textured_head(folder / f"run{k}", head, pipeline.backends)
        if k:
            stages.append({**head.seconds, "write": time.perf_counter() - written})
            totals.append(time.perf_counter() - start)
    per_stage = {stage: float(np.median([s[stage] for s in stages])) for stage in stages[0]}
    return float(np.median(totals)), per_stage


def _given_mesh(mesh: Path | None, folder: Path) -> Path:
    """``mesh``, or the corpus head of the module doc written as an OBJ into ``folder``."""
    if mesh is not None:
        return Path(mesh)
    case = corpus_case("ict", 0, "holes")
    path = folder / "corpus_head.obj"
    write_obj(path, case.vertices, case.faces)
    return path


def _mesh_in_process(pipeline: CLIPHeadPipeline, prompt: str, mesh: Path, repeats: int, folder: Path) -> float:
    """Median seconds of ``generate --mesh``'s work with the models loaded: the mesh file aligned, textured, written."""

    def once(k: int) -> None:
        given, record = aligned_mesh_file(mesh)
        head = pipeline(prompt, settings=PipelineSettings(), mesh=given)
        write_textured_head(folder / f"mesh{k}", head, pipeline.backends, record)

    once(0)  # warms mediapipe's face mesh
    return median_seconds(lambda: once(1), repeats)


def _command_seconds(prompt: str, folder: Path, environment: dict[str, str]) -> float:
    """Wall seconds of ``cliphead generate PROMPT`` in a fresh interpreter."""
    command = [sys.executable, "-m", "cliphead.cli", "generate", prompt, "--out", str(folder / "cli"), "--force"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=environment)
    return time.perf_counter() - start


def benchmark_generate(repeats: int = 3, prompt: str = BENCH_PROMPT, mesh: Path | None = None) -> BenchmarkResult:
    """The figures of the module doc (``mesh``: the head for ``generate --mesh``; default a corpus head)."""
    pipeline = CLIPHeadPipeline()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        total, per_stage = _in_process(pipeline, prompt, repeats, folder)
        baseline = median_seconds(
            lambda: pipeline.text_to_head(prompt, resolution=PipelineSettings().resolution), repeats
        )
        fresh = {**os.environ, "CLIPHEAD_CACHE": str(folder / "cache")}
        first = _command_seconds(prompt, folder, fresh)
        warm = float(np.median([_command_seconds(prompt, folder, fresh) for _ in range(repeats)]))
        mesh_path = _given_mesh(mesh, folder)
        given = _mesh_in_process(pipeline, prompt, mesh_path, repeats, folder)
    stages = ", ".join(f"{stage} {seconds:.2f}" for stage, seconds in per_stage.items())
    return BenchmarkResult(
        f"generate ({torch.get_num_threads()} threads, median of {repeats}, models loaded in "
        f"{pipeline.load_seconds:.2f} s), prompt {prompt!r}",
        Timing("prompt → mesh only (text2head)", baseline),
        [
            Timing("prompt → textured head on disk", total, stages),
            Timing("`cliphead generate`, first run on a fresh clone", first, f"{first / warm:.2f}× the warm run"),
            Timing("`cliphead generate`, warm run", warm),
            Timing("given mesh → textured head on disk (`generate --mesh`)", given, mesh_path.name),
        ],
        [
            Target("prompt → textured head on disk", TARGET_SECONDS),
            Target("`cliphead generate`, first run on a fresh clone", FIRST_RUN_RATIO * warm),
            Target("given mesh → textured head on disk (`generate --mesh`)", MESH_TARGET_SECONDS),
        ],
        {
            "prompt": prompt,
            "mesh": str(mesh) if mesh else "defect corpus: ict 0, holes",
            "load_seconds": round(pipeline.load_seconds, 3),
            "stage_seconds": {stage: round(seconds, 3) for stage, seconds in per_stage.items()},
            "first_run_over_warm_run": round(first / warm, 3),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    )
