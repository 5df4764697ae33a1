"""CLIP-like encoders: one interface, the open_clip backend, the embedded LiT-MiniLM, the CLIP score."""

from cliphead.clip.encoder import ImageTextEncoder, image_batch
from cliphead.clip.registry import DEFAULT_ENCODER, build_encoder, cached_encoder

__all__ = ["DEFAULT_ENCODER", "ImageTextEncoder", "build_encoder", "cached_encoder", "image_batch"]
