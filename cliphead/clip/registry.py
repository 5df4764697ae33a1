"""Building an encoder from a spec string, as the CLI's ``--encoder`` and the notebooks take it.

- ``lit-minilm`` — the embedded default: the locked MiniLM text tower and the image tower the
  project trains (``cliphead train clip``); ``lit-minilm:PATH`` loads another image-tower file.
- ``open_clip:ARCH/PRETRAINED`` — an open_clip model; ``ARCH`` is an open_clip model name (e.g.
  ``ViT-B-16``, the paper's evaluators are ViT-B-16, ViT-L-14, ViT-H-14) or a path to a model config
  ``.json``; ``PRETRAINED`` is an open_clip tag (needs internet the first time) or a local checkpoint.
"""

from __future__ import annotations

from functools import lru_cache

from cliphead.clip.encoder import ImageTextEncoder

DEFAULT_ENCODER = "lit-minilm"
SPEC_HELP = (
    "lit-minilm[:WEIGHTS] (embedded default) or open_clip:ARCH/PRETRAINED (e.g. open_clip:ViT-B-16/laion2b_s34b_b88k)"
)


def build_encoder(spec: str = DEFAULT_ENCODER) -> ImageTextEncoder:
    """The encoder that ``spec`` names (see the module doc); raises ``ValueError`` on a bad spec."""
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    if kind == "lit-minilm":
        from cliphead.clip.lit import load_lit_minilm

        return load_lit_minilm(rest or None)
    if kind == "open_clip":
        from cliphead.clip.open_clip_backend import OpenCLIPEncoder

        return OpenCLIPEncoder.from_spec(rest)
    raise ValueError(f"unknown encoder spec {spec!r}; expected {SPEC_HELP}")


@lru_cache(maxsize=4)
def cached_encoder(spec: str = DEFAULT_ENCODER) -> ImageTextEncoder:
    """``build_encoder`` once per spec in a process (the notebooks and the pipeline share them)."""
    return build_encoder(spec)
