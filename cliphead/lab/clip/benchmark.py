"""`cliphead bench clip`: texture painting and image encoding times, with same-run baselines.

- painting: one 512² texture from a random attribute record (median over records), against the
  plainest record (skin, eyes and brows only) painted in the same run;
- encoding: 64 renders through the embedded image tower, against torchvision's ResNet-18 (random
  weights, the smallest standard CNN) on the same images at the same size, in the same run;
- text: 64 captions through the locked MiniLM text tower.
"""

from __future__ import annotations

import numpy as np
import torch

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.painter import paint_texture
from cliphead.lab.bench import BenchmarkResult, Target, Timing
from cliphead.lab.reporting import median_seconds

PAINT_TARGET_SECONDS = 0.2
ENCODE_TARGET_SECONDS = 1.0


def benchmark_clip(encoder_spec: str = "lit-minilm", records: int = 20, repeats: int = 5) -> BenchmarkResult:
    import torchvision

    from cliphead.clip.registry import build_encoder

    rng = np.random.default_rng(0)
    samples = [sample_attributes(rng) for _ in range(records)]
    paint_texture(samples[0], 512)  # warm-up: region masks for 512 built and cached
    paint = float(np.median([median_seconds(lambda a=a: paint_texture(a, 512, seed=1), 1) for a in samples]))
    plain = median_seconds(lambda: paint_texture(Attributes(), 512, seed=1), records)

    encoder = build_encoder(encoder_spec)
    images = torch.rand(64, 3, encoder.image_size, encoder.image_size, generator=torch.Generator().manual_seed(0))
    encoder.encode_image(images[:4])
    encode = median_seconds(lambda: encoder.encode_image(images), repeats)
    resnet = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        baseline = median_seconds(lambda: resnet(images), repeats)
    captions = [f"a face of a young person with {c} hair, smiling" for c in ("red", "black", "blue", "grey")] * 16
    encoder.encode_text(captions[:4])
    text = median_seconds(lambda: encoder.encode_text(captions), repeats)
    return BenchmarkResult(
        f"appearance + {encoder.name} on {torch.get_num_threads()} threads (medians)",
        Timing("paint the plainest record (512²)", plain),
        [
            Timing("paint a random record (512²)", paint),
            Timing(f"encode 64 images ({encoder.image_size}²)", encode, f"ResNet-18: {baseline:.4f} s"),
            Timing("encode 64 captions", text),
        ],
        [
            Target("paint a random record (512²)", PAINT_TARGET_SECONDS),
            Target(f"encode 64 images ({encoder.image_size}²)", ENCODE_TARGET_SECONDS),
        ],
        {
            "encoder": encoder.name,
            "resnet18_64_seconds": round(baseline, 4),
            "encode_ratio": round(encode / baseline, 3),
        },
    )
