"""The training recipes' data as chunked builds (``cliphead build data KIND``, :mod:`cliphead.lab.shards`)."""

from __future__ import annotations

from cliphead.lab.clip.recipe import PRESETS as CLIP_PRESETS
from cliphead.lab.mapping.pairs import identity_render_build
from cliphead.lab.mapping.recipe import PRESETS as MAPPER_PRESETS
from cliphead.lab.shards import ChunkedBuild
from cliphead.lab.texture.data import texture_triple_build
from cliphead.lab.texture.recipe import PRESETS as TEXTURE_PRESETS
from cliphead.lab.world.dataset import render_set_build
from cliphead.lab.world.renders import head_bank_build

#: The data ``build data`` builds: what each recipe builds (and caches) on first use.
DATA_KINDS = ("pairs", "triples", "renders", "head-bank")


def data_build(kind: str, preset: str = "full") -> ChunkedBuild:
    """The chunked build of a recipe's data: ``pairs`` (train mappers), ``triples`` (train texture), ``renders``
    and ``head-bank`` (train clip's training renders and their heads), of ``preset``."""
    renders = CLIP_PRESETS[preset].train_renders
    builds = {
        "pairs": lambda: identity_render_build(MAPPER_PRESETS[preset].identity_pairs),
        "triples": lambda: texture_triple_build(TEXTURE_PRESETS[preset].data),
        "renders": lambda: render_set_build(renders),
        "head-bank": lambda: head_bank_build(renders.bank_heads, 0),
    }
    if kind not in builds:
        raise ValueError(f"unknown data {kind!r}; choose from {', '.join(DATA_KINDS)}")
    return builds[kind]()
