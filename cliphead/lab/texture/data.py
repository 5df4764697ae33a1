"""Training triples of ControlNet_uv: (UV normal map, UV texture, captions) in the aligned layout (§2.3).

CLIP-Head trains its ControlNet on aligned UV textures of NPHM scans, their UV normal maps and BLIP-2
captions. Here the three come from the project's own worlds:

- **normal maps**: random identities of the neural head model (latent distribution) with a random
  labelled expression, extracted as a disk (:func:`~cliphead.heads.generation.extract_disk`), given
  their aligned UV with the landmark warp, and baked into UV normal maps;
- **textures**: procedural textures painted in the same layout from sampled attribute records
  (:func:`~cliphead.lab.world.painter.paint_texture`), with several captions each.

Every map and texture is stored twice: the whole layout, and its face window (:mod:`cliphead.texture.crop`) zoomed
to the same size, which the rectification's partial texture is generated from (supplementary §3).
Since the layout is shared, a texture fits every head; training pairs a texture with a random head
at each step. Sets are deterministic from their config, built in worker processes and cached.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache, partial

import numpy as np
import torch
import torch.nn.functional as F

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.captions import captions
from cliphead.lab.world.painter import PAINTERS
from cliphead.lab.shards import ChunkedBuild
from cliphead.texture.crop import crop_face
from cliphead.texture.sampling import as_model_images

DATA_FORMAT = 1
#: Maps and textures are made at this size and then reduced, so both views are sharp.
SOURCE_SIZE = 512


@dataclass(frozen=True)
class TextureDataConfig:
    """How many heads and textures, at which size (64–128 px for CPU training, 256–512 for a GPU), and which
    painter paints them (``detailed``: eyes, lips, brows and baked shading that read as a face)."""

    n_heads: int = 192
    n_textures: int = 3000
    size: int = 128
    captions_per_texture: int = 4
    head_resolution: int = 96
    seed: int = 0
    painter: str = "detailed"

    def __post_init__(self) -> None:
        if self.size not in (64, 128, 256, 512):
            raise ValueError(f"texture data size must be 64, 128, 256 or 512, got {self.size}")
        if self.painter not in PAINTERS:
            raise ValueError(f"texture data painter must be one of {PAINTERS}, got {self.painter!r}")

    def key(self, head_fingerprint: str) -> str:
        record = "-".join(f"{v}" for v in asdict(self).values())
        return f"texture-triples-v{DATA_FORMAT}-{record}-{head_fingerprint}"


def _reduce(images: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, S, S, 3) float images in [0, 1] → their whole layout and face window at ``size``, uint8."""
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    whole = F.interpolate(tensor, size=(size, size), mode="area")
    face = crop_face(tensor, size)

    def as_bytes(t: torch.Tensor) -> np.ndarray:
        return np.round(t.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)

    return as_bytes(whole), as_bytes(face)


def head_normal_map(model, z_id: torch.Tensor, expression: str, resolution: int, size: int = SOURCE_SIZE) -> np.ndarray:
    """The UV normal map of one identity of the head model with a labelled expression."""
    from cliphead.uv.aligned import aligned_model_head
    from cliphead.uv.bake import uv_normal_map

    head = aligned_model_head(model, z_id, model.expression_code(expression), resolution)
    return uv_normal_map(head.vertices, head.faces, head.uv, size)


def _normal_maps(config: TextureDataConfig, head_weights: str | None, start: int, stop: int) -> dict:
    from cliphead.heads.checkpoints import cached_head_model
    from cliphead.heads.expressions import EXPRESSION_LABELS
    from cliphead.meshes import MeshError

    model = cached_head_model(head_weights)
    maps, labels = [], []
    for index in range(start, stop):
        rng = np.random.default_rng([config.seed, 1, index])
        expression = EXPRESSION_LABELS[int(rng.integers(len(EXPRESSION_LABELS)))]
        for _ in range(3):  # a code whose mesh is not a disk (about 1 in 20) is redrawn
            try:
                maps.append(
                    head_normal_map(
                        model, model.sample_identity_code(int(rng.integers(2**31))), expression, config.head_resolution
                    )
                )
                break
            except MeshError:
                continue
        else:
            raise MeshError(f"no disk head in 3 draws for texture-data head {index}")
        labels.append(expression)
    whole, face = _reduce(np.stack(maps), config.size)
    return {"whole": whole, "face": face, "expressions": labels}


def _textures(config: TextureDataConfig, start: int, stop: int) -> dict:
    from cliphead.lab.world.painter import paint_texture
    from cliphead.heads.expressions import EXPRESSION_LABELS

    painted, records, texts = [], [], []
    for index in range(start, stop):
        rng = np.random.default_rng([config.seed, 2, index])
        attributes = sample_attributes(rng)
        painted.append(paint_texture(attributes, SOURCE_SIZE, seed=int(rng.integers(2**31)), painter=config.painter))
        # The texture does not depend on the expression: captions name random ones, so the model learns to ignore them.
        expression = EXPRESSION_LABELS[int(rng.integers(len(EXPRESSION_LABELS)))]
        texts.append(captions(attributes, expression, {}, rng, config.captions_per_texture))
        records.append(json.dumps(asdict(attributes), sort_keys=True))
    whole, face = _reduce(np.stack(painted), config.size)
    return {"whole": whole, "face": face, "records": records, "captions": texts}


#: Heads and textures per chunk of the texture triples (a chunk is the unit of work of a worker and of a shard).
HEAD_CHUNK, TEXTURE_CHUNK = 16, 64


def _join(heads_chunks: int, parts: list[dict]) -> dict[str, np.ndarray]:
    """The chunks' heads (the first ``heads_chunks`` parts) and textures joined into the cached arrays."""
    heads, textures = parts[:heads_chunks], parts[heads_chunks:]
    return {
        "normals_whole": np.concatenate([part["whole"] for part in heads]),
        "normals_face": np.concatenate([part["face"] for part in heads]),
        "expressions": np.array([label for part in heads for label in part["expressions"]]),
        "textures_whole": np.concatenate([part["whole"] for part in textures]),
        "textures_face": np.concatenate([part["face"] for part in textures]),
        "records": np.array([record for part in textures for record in part["records"]]),
        "captions": np.array([texts for part in textures for texts in part["captions"]]),
    }


def texture_triple_build(config: TextureDataConfig, head_weights: str | None = None) -> ChunkedBuild:
    """The triples of ``config`` as a chunked build (:mod:`cliphead.lab.shards`): chunks of 16 heads (extract, UV,
    bake), then chunks of 64 painted textures."""
    from cliphead.heads.checkpoints import head_fingerprint

    head_starts, texture_starts = range(0, config.n_heads, HEAD_CHUNK), range(0, config.n_textures, TEXTURE_CHUNK)
    heads = [(_normal_maps, (config, head_weights, s, min(s + HEAD_CHUNK, config.n_heads))) for s in head_starts]
    textures = [(_textures, (config, s, min(s + TEXTURE_CHUNK, config.n_textures))) for s in texture_starts]
    return ChunkedBuild(
        config.key(head_fingerprint(head_weights)),
        heads + textures,
        partial(_join, len(heads)),
        "texture data: heads (extract, UV, bake), then painted textures",
    )


@dataclass(frozen=True)
class TextureTriples:
    """The cached set: ``normals_*`` (heads, S, S, 3) and ``textures_*`` (textures, S, S, 3) uint8."""

    config: TextureDataConfig
    normals_whole: np.ndarray
    normals_face: np.ndarray
    expressions: np.ndarray
    textures_whole: np.ndarray
    textures_face: np.ndarray
    records: tuple[Attributes, ...]
    captions: np.ndarray  # (textures, captions_per_texture) str

    def sample(
        self, rng: np.random.Generator, batch: int, face_share: float = 0.5
    ) -> tuple[torch.Tensor, torch.Tensor, list[str], np.ndarray]:
        """A batch: hints and textures in [-1, 1] (batch, 3, S, S), captions, and which items are face windows."""
        heads = rng.integers(len(self.normals_whole), size=batch)
        textures = rng.integers(len(self.textures_whole), size=batch)
        face = rng.random(batch) < face_share
        hints = np.where(face[:, None, None, None], self.normals_face[heads], self.normals_whole[heads])
        images = np.where(face[:, None, None, None], self.textures_face[textures], self.textures_whole[textures])
        texts = [str(self.captions[t, rng.integers(self.captions.shape[1])]) for t in textures]
        return as_model_images(hints), as_model_images(images), texts, face


@lru_cache(maxsize=2)
def load_texture_triples(
    config: TextureDataConfig, head_weights: str | None = None, workers: int | None = None
) -> TextureTriples:
    """The triples of ``config``, built once (in ``workers`` processes, default all cores) and cached."""
    arrays = texture_triple_build(config, head_weights).whole(workers)
    return TextureTriples(
        config=config,
        normals_whole=arrays["normals_whole"],
        normals_face=arrays["normals_face"],
        expressions=arrays["expressions"],
        textures_whole=arrays["textures_whole"],
        textures_face=arrays["textures_face"],
        records=tuple(Attributes.from_dict(json.loads(str(r))) for r in arrays["records"]),
        captions=arrays["captions"],
    )
