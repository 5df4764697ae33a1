"""Weakly supervised training pairs for the mapping networks (CLIP-Head §2.1, Fig. 2 right).

**Identity pairs** (ψ, z_id): a code z_id is drawn from the head model's latent distribution, its
neutral mesh is extracted (a disk, :func:`~cliphead.heads.generation.extract_disk`) and given its
aligned UV map, and for each of a few views the head is turned about the vertical axis, its normal
map rendered, and the appearance step (:mod:`cliphead.lab.mapping.synthesis`) makes an image guided by a
template prompt; ψ is the encoder's *image* embedding of that image. Renders do not depend on the
encoder and are cached once per config (:func:`load_identity_renders`); ψ is cached per encoder
(:func:`identity_pairs`).

Beside ψ, every pair also gets a *caption* embedding: the encoder's *text* embedding of the
template prompt followed by the geometry words the identity's measured shape earns against the
pair population's tertiles (:func:`~cliphead.lab.mapping.prompts.identity_caption`). The paper trains
on image embeddings only; the captions are this project's measured alternative for an encoder
whose image tower sees shape only coarsely (see notebook 04).

**Expression pairs** (ψ, z_exp) (:func:`expression_pairs`): the paper's template prompt with every
training wording of the 23 labelled expressions, ψ from the encoder's *text* tower, z_exp the
head model's trained code of the label.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import partial

import numpy as np
import torch

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.captions import paper_caption
from cliphead.lab.world.geometry import GEOMETRY_MEASURES, geometry_words, measure_geometry
from cliphead.lab.world.renders import BankHead, ViewSettings, random_view
from cliphead.render.lit import view_camera
from cliphead.assets import load_cached_npz
from cliphead.clip.encoder import ImageTextEncoder, fingerprint
from cliphead.heads.checkpoints import cached_head_model, head_fingerprint
from cliphead.heads.expressions import EXPRESSION_LABELS
from cliphead.lab.mapping.prompts import (
    EXPRESSION_WORDINGS,
    NO_FACE_TRAINING,
    expression_training_prompts,
    identity_caption,
)
from cliphead.lab.mapping.synthesis import build_synthesis
from cliphead.lab.shards import ChunkedBuild

PAIRS_FORMAT = 1
#: Identity pairs turn the head about the vertical axis only (§2.1), over the whole front half.
PAIR_VIEWS = ViewSettings(yaw_degrees=60.0, pitch_degrees=0.0)
#: Draws of a new code when an identity's mesh cannot be made a disk (rare; see extract_disk).
_ATTEMPTS = 3


@dataclass(frozen=True)
class IdentityPairConfig:
    """How many identities and views, at which sizes; ``kept`` normal maps are stored for the notebook."""

    n_identities: int = 1000
    views_per_identity: int = 10
    resolution: int = 96
    texture_size: int = 256
    image_size: int = 96
    synthesis: str = "procedural"
    kept: int = 64
    seed: int = 0

    def key(self, head_fingerprint: str) -> str:
        record = "-".join(f"{v}" for v in asdict(self).values()).replace("/", "_").replace(":", "_")
        return f"identity-pairs-v{PAIRS_FORMAT}-{record}-{head_fingerprint}"

    @property
    def n_pairs(self) -> int:
        return self.n_identities * self.views_per_identity


def _pair_identity(model, rng: np.random.Generator, resolution: int) -> tuple[torch.Tensor, BankHead, dict]:
    """A code of the latent distribution whose neutral mesh is a disk, with its aligned UV and measures."""
    from cliphead.heads.generation import extract_disk
    from cliphead.meshes import MeshError
    from cliphead.uv.aligned import aligned_uv
    from cliphead.uv.checks import prepare_head_mesh

    for attempt in range(_ATTEMPTS):
        code_seed = int(rng.integers(2**31))
        z_id = model.sample_identity_code(code_seed)
        try:
            extraction = extract_disk(model, z_id, resolution)
            with torch.no_grad():
                landmarks = model.canonical_landmarks(z_id).double().numpy()
            prepared = prepare_head_mesh(extraction.vertices, extraction.faces)
            aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=landmarks)
        except MeshError:
            if attempt < _ATTEMPTS - 1:
                continue
            raise
        head = BankHead(aligned.vertices, aligned.faces, aligned.uv, landmarks, code_seed, "neutral")
        return z_id, head, measure_geometry(extraction.vertices, landmarks)


def _render_identities(config: IdentityPairConfig, head_weights: str | None, start: int, stop: int) -> dict:
    from cliphead.lab.mapping.synthesis import SynthesisRequest
    from cliphead.render.views import normal_map

    model = cached_head_model(head_weights)
    synthesis = build_synthesis(config.synthesis, config.texture_size)
    out = {key: [] for key in ("codes", "measures", "images", "normals", "yaw", "records", "prompts", "seeds")}
    for identity in range(start, stop):
        rng = np.random.default_rng([config.seed, identity])
        z_id, head, measures = _pair_identity(model, rng, config.resolution)
        out["codes"].append(z_id.numpy())
        out["measures"].append([measures[name] for name in GEOMETRY_MEASURES])
        out["seeds"].append(head.identity_seed)
        for _ in range(config.views_per_identity):
            attributes = sample_attributes(rng)
            view = random_view(rng, PAIR_VIEWS)
            camera = view_camera(head, view, config.image_size)
            normals = normal_map(head.vertices, head.faces, camera, background=(0.5, 0.5, 1.0))
            prompt = paper_caption(attributes, "neutral")
            request = SynthesisRequest(head, view, normals, prompt, attributes, int(rng.integers(2**31)))
            out["images"].append(np.round(synthesis(request) * 255).astype(np.uint8))
            out["normals"].append(np.round(normals * 255).astype(np.uint8))
            out["yaw"].append(view.yaw)
            out["records"].append(json.dumps(asdict(attributes), sort_keys=True))
            out["prompts"].append(prompt)
    return out


#: Identities per chunk of the identity renders (a chunk is the unit of work of a worker and of a shard).
RENDER_CHUNK = 8


def _join_renders(config: IdentityPairConfig, parts: list[dict]) -> dict[str, np.ndarray]:
    """The chunks' renders joined in chunk order into the cached arrays."""

    def joined(key: str) -> list:
        return [item for part in parts for item in part[key]]

    normals = np.stack(joined("normals"))
    return {
        "codes": np.stack(joined("codes")).astype(np.float32),
        "measures": np.array(joined("measures"), dtype=np.float64),
        "identity_seeds": np.array(joined("seeds"), dtype=np.int64),
        "images": np.stack(joined("images")),
        "normals": normals[: config.kept],
        "yaw": np.array(joined("yaw"), dtype=np.float32),
        "records": np.array(joined("records")),
        "prompts": np.array(joined("prompts")),
    }


def identity_render_build(config: IdentityPairConfig, head_weights: str | None = None) -> ChunkedBuild:
    """The identity renders of ``config`` as a chunked build (:mod:`cliphead.lab.shards`), 8 identities a chunk."""
    starts = range(0, config.n_identities, RENDER_CHUNK)
    tasks = [
        (_render_identities, (config, head_weights, s, min(s + RENDER_CHUNK, config.n_identities))) for s in starts
    ]
    return ChunkedBuild(
        config.key(head_fingerprint(head_weights)),
        tasks,
        partial(_join_renders, config),
        "identity pairs (extract, UV, render)",
    )


@dataclass(frozen=True)
class IdentityRenders:
    """The encoder-independent half of the identity pairs; pair ``i`` shows identity ``i // views``."""

    config: IdentityPairConfig
    key: str  # the cache key (config and head model)
    codes: np.ndarray  # (identities, K) z_id
    measures: np.ndarray  # (identities, 9) the GEOMETRY_MEASURES of each neutral mesh, cm
    images: np.ndarray  # (pairs, S, S, 3) uint8
    normals: np.ndarray  # (kept, S, S, 3) uint8, the first pairs' control hints
    yaw: np.ndarray  # (pairs,) degrees
    records: tuple[Attributes, ...]
    prompts: np.ndarray  # (pairs,) the template prompts

    @property
    def identity(self) -> np.ndarray:
        return np.arange(len(self.images)) // self.config.views_per_identity

    def tertiles(self) -> dict[str, tuple[float, float]]:
        """The 1/3 and 2/3 quantiles of every measure over the pair identities (the model's population)."""
        low, high = np.quantile(self.measures, [1 / 3, 2 / 3], axis=0)
        return {name: (float(low[k]), float(high[k])) for k, name in enumerate(GEOMETRY_MEASURES)}

    def words(self, identity: int) -> dict[str, str | None]:
        values = dict(zip(GEOMETRY_MEASURES, self.measures[identity]))
        return geometry_words(values, self.tertiles())


def load_identity_renders(
    config: IdentityPairConfig = IdentityPairConfig(), head_weights: str | None = None, workers: int | None = None
) -> IdentityRenders:
    """The renders of ``config`` (built on first use, ~0.1 s a pair per worker, then cached).

    ``workers`` > 1 builds in spawned processes (so scripts need an ``if __name__ == "__main__":``
    guard); the arrays are the same for any number of workers.
    """
    build = identity_render_build(config, head_weights)
    key, arrays = build.key, build.whole(workers)
    records = tuple(Attributes.from_dict(json.loads(str(r))) for r in arrays["records"])
    return IdentityRenders(
        config,
        key,
        arrays["codes"],
        arrays["measures"],
        arrays["images"],
        arrays["normals"],
        arrays["yaw"],
        records,
        arrays["prompts"],
    )


@dataclass(frozen=True)
class IdentityPairs:
    """(ψ, z_id) pairs: ψ of the image (the paper's) and of the identity's caption (see module doc)."""

    renders: IdentityRenders
    encoder: str
    image_psi: np.ndarray  # (pairs, D) float32
    caption_psi: np.ndarray  # (pairs, D) float32
    captions: np.ndarray  # (pairs,)

    @property
    def z_id(self) -> np.ndarray:
        return self.renders.codes[self.renders.identity]


def _encode(encode, items, batch: int, desc: str) -> np.ndarray:
    from tqdm.auto import tqdm

    starts = tqdm(range(0, len(items), batch), desc=desc, unit="batch", leave=False)
    return torch.cat([encode(items[i : i + batch]) for i in starts]).numpy().astype(np.float32)


def identity_pairs(renders: IdentityRenders, encoder: ImageTextEncoder) -> IdentityPairs:
    """ψ of every identity render under ``encoder`` (cached per encoder fingerprint and caption text)."""
    captions = np.array(
        [identity_caption(record, renders.words(int(i))) for record, i in zip(renders.records, renders.identity)]
    )

    def build() -> dict[str, np.ndarray]:
        return {
            "image": _encode(encoder.encode_image, renders.images, 256, f"image embeddings ({encoder.name})"),
            "caption": _encode(lambda t: encoder.encode_text(list(t)), captions, 256, "caption embeddings"),
        }

    captions_digest = hashlib.sha256("\n".join(captions).encode()).hexdigest()[:8]
    arrays = load_cached_npz(f"{renders.key}-psi-{fingerprint(encoder)}-{captions_digest}", build)
    return IdentityPairs(renders, encoder.name, arrays["image"], arrays["caption"], captions)


@dataclass(frozen=True)
class ExpressionPairs:
    """(ψ, z_exp) pairs from the text tower; label ``"no face"`` marks the sentences trained to neutral."""

    psi: np.ndarray  # (pairs, D)
    z_exp: np.ndarray  # (pairs, J)
    labels: tuple[str, ...]
    prompts: tuple[str, ...]


def expression_pairs(
    encoder: ImageTextEncoder,
    model,
    per_label: int = 400,
    seed: int = 0,
    wordings: dict[str, tuple[str, ...]] = EXPRESSION_WORDINGS,
) -> ExpressionPairs:
    """``per_label`` prompts for each of the 23 labels from ``wordings``, plus the no-face sentences (→ neutral)."""
    pairs = expression_training_prompts(per_label, seed, wordings) + [(text, "no face") for text in NO_FACE_TRAINING]
    prompts, labels = zip(*pairs)
    with torch.no_grad():
        codes = {label: model.expression_code(label).numpy() for label in EXPRESSION_LABELS}
    codes["no face"] = codes["neutral"]
    psi = _encode(lambda t: encoder.encode_text(list(t)), list(prompts), 256, "expression prompts")
    return ExpressionPairs(psi, np.stack([codes[label] for label in labels]).astype(np.float32), labels, prompts)
