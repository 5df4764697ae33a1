"""``bench extract|clip|text2head|texture|generate|uv`` (lab): timings against a baseline measured in the same run.

Each benchmark returns a :class:`cliphead.lab.bench.BenchmarkResult`; its table is the summary, its
payload the JSON line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cliphead.cli.common import CommandTree, emit

REPEATS = "timed repeats; the median is reported"


def register(commands: CommandTree) -> None:
    """Add the six ``bench`` commands."""
    extract = commands.command(
        "bench",
        "extract",
        run_bench_extract,
        help="neural head extraction: coarse-to-fine vs dense grid, decoder queries and seconds",
        description="Extracts one sampled identity both ways in the same run and prints the query and "
        "time ratios (medians over --repeats).",
        examples=["cliphead bench extract --res 256", "cliphead bench extract --res 128 --repeats 1"],
        lab=True,
    )
    extract.add_argument("--res", type=int, default=256, help="grid resolution (default 256)")
    extract.add_argument("--repeats", type=int, default=3, help=REPEATS)
    extract.add_argument("--seed", type=int, default=0, help="identity seed")
    extract.add_argument("--weights", help="a head model .safetensors (default: the embedded model)")

    clip = commands.command(
        "bench",
        "clip",
        run_bench_clip,
        help="time texture painting (512²) and encoding 64 images / captions, against same-run baselines",
        examples=["cliphead bench clip"],
        lab=True,
    )
    clip.add_argument("--encoder", default="lit-minilm", help="encoder spec (default lit-minilm)")

    text2head = commands.command(
        "bench",
        "text2head",
        run_bench_text2head,
        help="time prompt → head files (warm and in a fresh process) against extracting a sampled head",
        examples=["cliphead bench text2head", "cliphead bench text2head --res 128 --repeats 1"],
        lab=True,
    )
    text2head.add_argument("--res", type=int, default=256, help="grid resolution (default 256)")
    text2head.add_argument("--repeats", type=int, default=3, help=REPEATS)

    generate = commands.command(
        "bench",
        "generate",
        run_bench_generate,
        help="time prompt → textured head on disk per stage (models loaded once), a given mesh textured "
        "(generate --mesh), peak memory",
        examples=[
            "cliphead bench generate",
            "cliphead bench generate --repeats 1",
            "cliphead bench generate --mesh scan.obj",
        ],
        lab=True,
    )
    generate.add_argument("--repeats", type=int, default=3, help=REPEATS)
    generate.add_argument(
        "--mesh", help="the head mesh to texture for the generate --mesh timing (default: a defect-corpus head)"
    )

    texture = commands.command(
        "bench",
        "texture",
        run_bench_texture,
        help="time one ControlNet_uv texture (guided, the sampler's default steps) against unguided sampling, same run",
        examples=["cliphead bench texture", "cliphead bench texture --steps 20 --repeats 1"],
        lab=True,
    )
    texture.add_argument("--backend", default="embedded", help="texture backend (default embedded)")
    texture.add_argument("--steps", type=int, help="sampling steps (default: the sampler's, 8)")
    texture.add_argument("--repeats", type=int, default=3, help=REPEATS)

    uv = commands.command(
        "bench",
        "uv",
        run_bench_uv,
        help="time `align uv` step by step on a ~50k-vertex head",
        examples=["cliphead bench uv", "cliphead bench uv --resolution 64 --repeats 1"],
        lab=True,
    )
    uv.add_argument("--resolution", type=int, default=176, help="marching-cubes grid (176 gives ~50k vertices)")
    uv.add_argument("--repeats", type=int, default=5, help=REPEATS)
    uv.add_argument("--seed", type=int, default=0)


def run_bench_extract(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.heads.benchmark.benchmark_extraction`."""
    from cliphead.lab.heads.benchmark import benchmark_extraction

    result = benchmark_extraction(args.res, args.repeats, args.seed, args.weights)
    emit(result.summary(), result.payload())


def run_bench_clip(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.clip.benchmark.benchmark_clip`."""
    from cliphead.lab.clip.benchmark import benchmark_clip

    result = benchmark_clip(args.encoder)
    emit(result.summary(), result.payload())


def run_bench_text2head(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.mapping.benchmark.benchmark_text2head`."""
    from cliphead.lab.mapping.benchmark import benchmark_text2head

    result = benchmark_text2head(args.res, args.repeats)
    emit(result.summary(), result.payload())


def run_bench_generate(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.pipeline_benchmark.benchmark_generate`."""
    from cliphead.lab.pipeline_benchmark import benchmark_generate

    result = benchmark_generate(args.repeats, mesh=Path(args.mesh) if args.mesh else None)
    emit(result.summary(), result.payload())


def run_bench_texture(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.texture.benchmark.benchmark_texture`."""
    from cliphead.lab.texture.benchmark import benchmark_texture

    result = benchmark_texture(args.backend, args.steps, args.repeats)
    emit(result.summary(), result.payload())


def run_bench_uv(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.uv.benchmark.benchmark_uv`."""
    from cliphead.lab.uv.benchmark import benchmark_uv

    result = benchmark_uv(resolution=args.resolution, repeats=args.repeats, seed=args.seed)
    emit(result.summary(), result.payload())
