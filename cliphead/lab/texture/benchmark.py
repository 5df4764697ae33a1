"""``cliphead bench texture``: one ControlNet_uv texture, against unguided sampling, same run.

Figures, each a median over the repeats, with the model loaded:

- **texture**: one texture of the whole layout at the model's size with guided UniPC sampling
  (the goal: 128 px at the sampler's default steps, ≤ 5 s on 2 cores);
- **baseline**: the same steps without classifier-free guidance (one denoiser pass per step, not
  two), so the ratio shows what guidance costs;
- **with rectification**: full and partial texture in one batch, mediapipe on both, the TPS warp and
  the paste back (what ``cliphead texture`` does);
- **load**: reading the weights and the text tower.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from cliphead.lab.bench import BenchmarkResult, Target, Timing
from cliphead.lab.reporting import median_seconds

TARGET_SECONDS = 5.0
BENCH_PROMPT = "a laughing old man with a long face and a grey beard"


def benchmark_texture(backend: str = "embedded", steps: int | None = None, repeats: int = 3) -> BenchmarkResult:
    """The figures of the module doc; ``steps`` defaults to the sampler's."""
    from cliphead.lab.world.renders import head_bank
    from cliphead.texture.checkpoints import load_texture_model
    from cliphead.texture.generate import texture_head
    from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings, generate_textures
    from cliphead.uv.bake import uv_normal_map

    start = time.perf_counter()
    model = load_texture_model(backend)
    model.text([BENCH_PROMPT])
    load_seconds = time.perf_counter() - start
    head = head_bank(1, 0)[0]
    normal_map = uv_normal_map(head.vertices, head.faces, head.uv, 512)[None]
    settings = SamplingSettings(steps=steps or DEFAULT_SAMPLING.steps)
    generate_textures(model, normal_map, [BENCH_PROMPT], replace(settings, steps=2))  # warm-up
    texture = median_seconds(lambda: generate_textures(model, normal_map, [BENCH_PROMPT], settings), repeats)
    unguided = replace(settings, guidance_scale=1.0)
    baseline = median_seconds(lambda: generate_textures(model, normal_map, [BENCH_PROMPT], unguided), repeats)
    rectified = median_seconds(lambda: texture_head(model, normal_map[0], BENCH_PROMPT, settings), repeats)
    return BenchmarkResult(
        f"ControlNet_uv ({model.name}, {model.texture_size} px, {settings.steps} UniPC steps, "
        f"{torch.get_num_threads()} threads, median of {repeats})",
        Timing("one texture without guidance", baseline),
        [
            Timing("one texture, classifier-free guidance", texture),
            Timing("full + partial + rectification", rectified),
        ],
        [Target("one texture, classifier-free guidance", TARGET_SECONDS)],
        {
            "backend": model.name,
            "texture_size": model.texture_size,
            "steps": settings.steps,
            "load_seconds": round(load_seconds, 3),
        },
    )
