"""Which texture stage a backend spec names, and which UV layout it needs.

``embedded`` and ``stable-diffusion:…`` are ControlNet_uv models the project samples itself
(:mod:`cliphead.texture.checkpoints`), trained on the aligned layout; ``official:…`` is the released
CLIP-Head texture stage (:mod:`cliphead.texture.official`), whose ControlNet_uv was trained on the released
layout (:mod:`cliphead.uv.official`). A backend is refused with a layout it was not trained on.
"""

from __future__ import annotations

from cliphead.texture.checkpoints import load_texture_model
from cliphead.texture.models import ControlNetUV
from cliphead.texture.official import OfficialTexturer, load_official_texturer
from cliphead.uv.official import LAYOUT_HELP

TextureBackend = ControlNetUV | OfficialTexturer


def load_texture_backend(spec: str) -> TextureBackend:
    """The texture stage of ``spec``: the released three passes for ``official:…``, else a ControlNet_uv."""
    return load_official_texturer(spec) if spec.startswith("official:") else load_texture_model(spec)


def check_layout(texture_backend: str, layout: str) -> None:
    """Refuse a layout the backend was not trained on (module doc), or a layout spec that names none."""
    official_layout = layout.startswith("official:")
    if layout != "aligned" and not official_layout:
        raise ValueError(f"Unknown UV layout {layout!r}: use 'aligned' (default) or {LAYOUT_HELP}.")
    if texture_backend.startswith("official:") != official_layout:
        raise ValueError(
            "The official texture backend and the official layout go together (the released ControlNet_uv was "
            f"trained on that layout, the others on the aligned one): give --layout {LAYOUT_HELP} with "
            "--texture-backend official:…, and neither otherwise."
        )
