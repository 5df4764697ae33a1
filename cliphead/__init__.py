"""cliphead: a reproducible, notebook-first companion to CLIP-Head (text-guided textured 3D heads).

The public API, in the diffusers manner::

    import torch
    from cliphead import CLIPHeadPipeline

    pipeline = CLIPHeadPipeline()
    head = pipeline("a laughing old man with a grey beard", generator=torch.Generator().manual_seed(0))

The names below load on first use, so ``import cliphead`` stays cheap.
"""

from importlib import import_module, metadata

try:
    __version__ = metadata.version("cliphead")
except metadata.PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0"

_PUBLIC = {
    "CLIPHeadPipeline": "cliphead.pipeline",
    "PipelineSettings": "cliphead.pipeline",
    "TexturedHead": "cliphead.pipeline",
    "HeadCodes": "cliphead.mapping.text2head",
    "HeadGeometry": "cliphead.mapping.text2head",
    "TextToHead": "cliphead.mapping.text2head",
    "SamplingSettings": "cliphead.texture.sampling",
}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> object:
    """The public names of ``_PUBLIC``, imported from their modules on first access."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cliphead' has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)
