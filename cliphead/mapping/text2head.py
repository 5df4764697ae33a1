"""Prompt → (z_id, z_exp) → head mesh: the geometry half of CLIP-Head's pipeline (§2, §2.1).

The prompt's text embedding ψ goes through MLP_id and MLP_exp; the head model extracts the
identity's canonical mesh and the expression deforms it (eq. 1). The mapping is deterministic: the
same prompt gives the same head. A ``variation`` > 0 draws an identity around the predicted one
(``variation`` standard deviations of the latent distribution per dimension, the noise from the
caller's ``generator``), for users who want several heads from one prompt.

The canonical mesh is extracted as a disk (:func:`~cliphead.heads.generation.extract_disk`: the level
set a fraction of a voxel outside the surface, 0.3 mm at resolution 256, closes the slits that give
marching cubes handles), so a generated head goes straight into the aligned UV map; in the rare case
that no offset gives a disk, the plain zero level set is kept and ``uv_ready`` says so.

How far a prediction lies from the latent distribution is reported as the RMS of its standardised
coordinates, ``sigma = sqrt(mean(((z - mean) / std)²))``: the latent mean has 0, a random sample
of the distribution about 1; values well above :data:`OUT_OF_DISTRIBUTION_SIGMA` say the prompt led
the mapper somewhere it was not trained, and the mesh may be poor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cliphead.clip.encoder import ImageTextEncoder, checked_prompts
from cliphead.clip.registry import cached_encoder
from cliphead.heads.checkpoints import load_head_model
from cliphead.heads.generation import Extraction, ParametricHeadModel, extract_canonical, extract_disk, neural_head
from cliphead.heads.io import write_head
from cliphead.heads.surfaces import Head
from cliphead.mapping.networks import MappingMLP, load_mapper
from cliphead.mapping.official import OfficialMapper, load_official_mappers
from cliphead.meshes import MeshError
from cliphead.weights.manifest import WEIGHTS_DIR

DEFAULT_ID_MAPPER = WEIGHTS_DIR / "mapper_id.safetensors"
DEFAULT_EXP_MAPPER = WEIGHTS_DIR / "mapper_exp.safetensors"
#: Above this standardised RMS a prediction is flagged as out of the latent distribution.
OUT_OF_DISTRIBUTION_SIGMA = 2.0


def latent_sigma(z: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> float:
    """RMS of ``(z - mean) / std``: 0 at the mean, about 1 for a sample of the distribution."""
    return float((((z - mean) / std) ** 2).mean().sqrt())


@dataclass(frozen=True)
class HeadCodes:
    """The head model's codes of one head: identity ``z_id`` (K,) and expression ``z_exp`` (J,) (eq. 1)."""

    z_id: torch.Tensor
    z_exp: torch.Tensor

    def offset(self, identity: torch.Tensor) -> HeadCodes:
        """The same codes with ``identity`` added to ``z_id`` (the explorer's identity sliders)."""
        return HeadCodes(self.z_id + identity, self.z_exp)


@dataclass
class HeadGeometry:
    """The geometry stage's output: a head mesh from a prompt, with its codes and how typical they are."""

    prompt: str
    head: Head
    codes: HeadCodes
    identity_sigma: float
    expression_sigma: float
    extraction: Extraction
    seconds: float

    @property
    def uv_ready(self) -> bool:
        """Whether the mesh is a disk (one neck boundary, no handles), as ``cliphead align uv`` needs."""
        return self.extraction.level > 0

    @property
    def out_of_distribution(self) -> bool:
        return max(self.identity_sigma, self.expression_sigma) > OUT_OF_DISTRIBUTION_SIGMA


def load_mapper_pair(
    mappers: str | None = None, id_mapper: str | Path | None = None, exp_mapper: str | Path | None = None
) -> tuple[MappingMLP | OfficialMapper | None, MappingMLP | OfficialMapper | None]:
    """MLP_id and MLP_exp from a pair spec (``official:…``, :func:`~cliphead.mapping.official.official_mapper_paths`)
    or from the project's own files; None where the embedded one is meant."""
    if mappers not in (None, "embedded"):
        if id_mapper or exp_mapper:
            raise ValueError("give either --mappers or --id-mapper/--exp-mapper, not both")
        if not mappers.startswith("official:"):
            raise ValueError(f"--mappers {mappers!r}: use 'embedded' or 'official:DIR' (the published clip2nphm files)")
        return load_official_mappers(mappers)
    return (
        load_mapper(Path(id_mapper))[0] if id_mapper else None,
        load_mapper(Path(exp_mapper))[0] if exp_mapper else None,
    )


class TextToHead:
    """The encoder's text tower, MLP_id, MLP_exp and the head model: the one owner of prompt → codes → mesh."""

    def __init__(
        self,
        encoder: ImageTextEncoder | None = None,
        id_mapper: MappingMLP | OfficialMapper | None = None,
        exp_mapper: MappingMLP | OfficialMapper | None = None,
        head_model: ParametricHeadModel | None = None,
    ) -> None:
        self.encoder = encoder or cached_encoder()
        self.id_mapper = id_mapper or load_mapper(DEFAULT_ID_MAPPER)[0]
        self.exp_mapper = exp_mapper or load_mapper(DEFAULT_EXP_MAPPER)[0]
        self.head_model = head_model or load_head_model()
        for name, mapper in (("MLP_id", self.id_mapper), ("MLP_exp", self.exp_mapper)):
            if mapper.config.input_dim != self.encoder.dim:
                raise ValueError(
                    f"{name} takes {mapper.config.input_dim}-d embeddings but the encoder {self.encoder.name} gives "
                    f"{self.encoder.dim}-d ones; train mappers for this encoder (`cliphead train mappers --encoder`)."
                )
        config = self.head_model.config
        if (self.id_mapper.config.output_dim, self.exp_mapper.config.output_dim) != (
            config.identity_dim,
            config.expression_dim,
        ):
            raise ValueError("The mappers' output sizes do not match the head model's latent sizes.")

    def latents(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, K) identity and (n, J) expression codes of ``prompts``: MLP_id(ψ), MLP_exp(ψ) (§2.1)."""
        psi = self.encoder.encode_text(checked_prompts(prompts))
        with torch.no_grad():
            return self.id_mapper(psi), self.exp_mapper(psi)

    def codes(
        self,
        prompt: str,
        *,
        variation: float = 0.0,
        expression_strength: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> HeadCodes:
        """The codes of ``prompt``: the mapped ones, the identity moved by ``variation`` standard deviations
        of the latent distribution (noise drawn from ``generator``), the expression's offset from neutral
        scaled by ``expression_strength``."""
        model = self.head_model
        z_ids, z_exps = self.latents([prompt])
        z_id, z_exp = z_ids[0], z_exps[0]
        if variation > 0:
            generator = generator if generator is not None else torch.Generator().manual_seed(0)
            z_id = z_id + variation * model.latent_std * torch.randn(z_id.shape, generator=generator)
        neutral = model.expression_code("neutral")
        z_exp = neutral + expression_strength * (z_exp - neutral)
        return HeadCodes(z_id, z_exp)

    def sigmas(self, codes: HeadCodes) -> tuple[float, float]:
        """How far the identity and expression codes lie from the latent distribution (module doc)."""
        model = self.head_model
        return (
            latent_sigma(codes.z_id, model.latent_mean, model.latent_std),
            latent_sigma(codes.z_exp, model.expression_latent_mean, model.expression_latent_std),
        )

    def geometry(self, prompt: str, codes: HeadCodes, resolution: int = 256) -> HeadGeometry:
        """The head mesh of ``codes``: the canonical mesh extracted as a disk where it can be, then the
        expression applied (eq. 1)."""
        start = time.perf_counter()
        model = self.head_model
        try:
            canonical = extract_disk(model, codes.z_id, resolution)
        except MeshError:
            canonical = extract_canonical(model, codes.z_id, resolution)
        head, extraction = neural_head(model, codes.z_id, codes.z_exp, resolution, canonical)
        return HeadGeometry(prompt, head, codes, *self.sigmas(codes), extraction, time.perf_counter() - start)

    def __call__(
        self,
        prompt: str,
        *,
        variation: float = 0.0,
        generator: torch.Generator | None = None,
        resolution: int = 256,
    ) -> HeadGeometry:
        """The head of ``prompt`` (``variation`` > 0: a variation of its identity drawn from ``generator``)."""
        start = time.perf_counter()
        geometry = self.geometry(prompt, self.codes(prompt, variation=variation, generator=generator), resolution)
        geometry.seconds = time.perf_counter() - start
        return geometry


def write_head_geometry(path: Path, generated: HeadGeometry) -> tuple[Path, Path]:
    """The mesh (OBJ) and ``<stem>.landmarks.json`` (with the prompt and latents) beside it."""
    metadata = {
        "prompt": generated.prompt,
        "z_id": np.round(generated.codes.z_id.numpy(), 6).tolist(),
        "z_exp": np.round(generated.codes.z_exp.numpy(), 6).tolist(),
        "identity_sigma": round(generated.identity_sigma, 4),
        "expression_sigma": round(generated.expression_sigma, 4),
    }
    return write_head(Path(path), generated.head, metadata)
