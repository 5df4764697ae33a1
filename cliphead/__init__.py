"""cliphead: a reproducible, notebook-first companion to CLIP-Head (text-guided textured 3D heads)."""

from importlib import metadata

try:
    __version__ = metadata.version("cliphead")
except metadata.PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0"
