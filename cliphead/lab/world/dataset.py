"""Render sets: textured synthetic heads with their records and captions, the LiT training data.

A render set draws, for every image, an attribute record (``sample_attributes``), a head of the bank
(``head_bank``), a painted texture and a random view, and writes the image with the record, the
head's expression and geometry words (from its neutral shape) and several captions. The training and
evaluation sets use disjoint heads of the bank and different seeds, so evaluation renders are of
identities, records, textures and views the image tower never saw. Sets are deterministic from their
config, built in parallel worker processes, and cached in the user cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache, partial

import numpy as np

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.captions import captions
from cliphead.lab.world.painter import paint_texture
from cliphead.lab.world.renders import ViewSettings, head_bank, random_view
from cliphead.render.lit import render_head
from cliphead.lab.shards import ChunkedBuild

RENDER_SET_FORMAT = 2


@dataclass(frozen=True)
class RenderSetConfig:
    """What a render set holds; ``split`` picks the bank's heads: the first ``train_heads`` or the rest."""

    n_images: int = 16000
    split: str = "train"
    bank_heads: int = 192
    train_heads: int = 160
    texture_size: int = 256
    image_size: int = 96
    captions_per_image: int = 3
    seed: int = 0

    def key(self) -> str:
        record = "-".join(f"{v}" for v in asdict(self).values())
        return f"renders-v{RENDER_SET_FORMAT}-{record}"

    def heads(self) -> range:
        if self.split == "train":
            return range(self.train_heads)
        if self.split == "eval":
            return range(self.train_heads, self.bank_heads)
        raise ValueError(f"split must be 'train' or 'eval', got {self.split!r}")


#: The held-out renders of the evaluation (notebook 02_appearance_world, ``cliphead train clip``): 2000
#: renders of the 100 identities 500-599 of a 600-head bank, whose first 192 heads are the training bank's
#: (the bank's identity seeds come from one generator), so none was seen in training (heads 0-159).
#: Geometry words are a property of the identity, so measuring them needs many identities, not many renders.
EVAL_RENDERS = RenderSetConfig(n_images=2000, split="eval", bank_heads=600, train_heads=500)


@lru_cache(maxsize=None)
def neutral_geometry_words(identity_seed: int) -> dict[str, str | None]:
    """Geometry words of an ICT identity measured on its neutral shape (see ``appearance.geometry``)."""
    from cliphead.lab.world.geometry import geometry_words, measure_geometry, population_tertiles
    from cliphead.heads.ict import load_ict_model
    from cliphead.heads.surfaces import sample_identity, skin_head

    skin = skin_head(load_ict_model(), sample_identity(identity_seed))
    return geometry_words(measure_geometry(skin.vertices, skin.landmarks), population_tertiles())


def _render_chunk(config: RenderSetConfig, start: int, stop: int) -> dict:
    bank = head_bank(config.bank_heads, 0)
    heads = list(config.heads())
    images, records, head_index, caption_rows = [], [], [], []
    for index in range(start, stop):
        rng = np.random.default_rng([config.seed, 1 if config.split == "eval" else 0, index])
        attributes = sample_attributes(rng)
        head_id = heads[int(rng.integers(len(heads)))]
        head = bank[head_id]
        texture = paint_texture(attributes, config.texture_size, seed=int(rng.integers(2**31)))
        image = render_head(head, texture, random_view(rng, ViewSettings()), config.image_size)
        words = neutral_geometry_words(head.identity_seed)
        images.append(np.round(image * 255).astype(np.uint8))
        records.append(json.dumps(asdict(attributes), sort_keys=True))
        head_index.append(head_id)
        caption_rows.append(captions(attributes, head.expression, words, rng, config.captions_per_image))
    return {"images": images, "records": records, "heads": head_index, "captions": caption_rows}


#: Images per chunk of a render set (a chunk is the unit of work of a worker and of a shard).
RENDER_CHUNK = 64


def _join(parts: list[dict]) -> dict[str, np.ndarray]:
    return {
        "images": np.stack([image for part in parts for image in part["images"]]),
        "records": np.array([record for part in parts for record in part["records"]]),
        "heads": np.array([head for part in parts for head in part["heads"]], dtype=np.int64),
        "captions": np.array([row for part in parts for row in part["captions"]]),
    }


def render_set_build(config: RenderSetConfig) -> ChunkedBuild:
    """The render set of ``config`` as a chunked build (:mod:`cliphead.lab.shards`); its head bank is built (or
    found) first, in this process, not in every worker."""
    starts = range(0, config.n_images, RENDER_CHUNK)
    tasks = [(_render_chunk, (config, start, min(start + RENDER_CHUNK, config.n_images))) for start in starts]
    prepare = partial(head_bank, config.bank_heads, 0)
    return ChunkedBuild(config.key(), tasks, _join, f"rendering {config.split} set", prepare)


@dataclass(frozen=True)
class RenderSet:
    config: RenderSetConfig
    images: np.ndarray  # (n, S, S, 3) uint8
    records: tuple[Attributes, ...]
    heads: np.ndarray  # (n,) index into the head bank
    captions: np.ndarray  # (n, k) str

    def expressions(self) -> list[str]:
        bank = head_bank(self.config.bank_heads, 0)
        return [bank[int(h)].expression for h in self.heads]

    def geometry(self) -> list[dict[str, str | None]]:
        bank = head_bank(self.config.bank_heads, 0)
        return [neutral_geometry_words(bank[int(h)].identity_seed) for h in self.heads]


def load_render_set(config: RenderSetConfig, workers: int | None = None) -> RenderSet:
    """The render set of ``config``, built on first use (about 0.05 s an image per worker) and cached.

    ``workers`` > 1 renders in spawned processes, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard (the ``cliphead`` command, pytest and notebooks have it);
    ``workers=1`` renders in this process. The images are the same either way.
    """
    arrays = render_set_build(config).whole(workers)
    records = tuple(Attributes.from_dict(json.loads(str(r))) for r in arrays["records"])
    return RenderSet(config, arrays["images"], records, arrays["heads"], arrays["captions"])
