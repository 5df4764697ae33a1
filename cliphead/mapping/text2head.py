"""Prompt → (z_id, z_exp) → head mesh: the geometry half of CLIP-Head's pipeline (§2, §2.1).

The prompt's text embedding ψ goes through MLP_id and MLP_exp; the head model extracts the
identity's canonical mesh and the expression deforms it (eq. 1). The mapping is deterministic: the
same prompt gives the same head. ``seed`` draws a variation around the predicted identity
(``variation`` standard deviations of the latent distribution per dimension), for users who want
several heads from one prompt.

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
from cliphead.heads.generation import Extraction, extract_canonical, extract_disk, neural_head
from cliphead.heads.surfaces import Head
from cliphead.mapping.networks import MappingMLP, load_mapper
from cliphead.meshes import MeshError
from cliphead.weights.manifest import WEIGHTS_DIR

DEFAULT_ID_MAPPER = WEIGHTS_DIR / "mapper_id.safetensors"
DEFAULT_EXP_MAPPER = WEIGHTS_DIR / "mapper_exp.safetensors"
#: Above this standardised RMS a prediction is flagged as out of the latent distribution.
OUT_OF_DISTRIBUTION_SIGMA = 2.0


def latent_sigma(z: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> float:
    """RMS of ``(z - mean) / std``: 0 at the mean, about 1 for a sample of the distribution."""
    return float((((z - mean) / std) ** 2).mean().sqrt())


@dataclass
class GeneratedHead:
    """A head from a prompt, with its latents and how typical they are."""

    prompt: str
    head: Head
    z_id: torch.Tensor
    z_exp: torch.Tensor
    identity_sigma: float
    expression_sigma: float
    extraction: Extraction
    seconds: float

    @property
    def uv_ready(self) -> bool:
        """Whether the mesh is a disk (one neck boundary, no handles), as ``cliphead uv align`` needs."""
        return self.extraction.level > 0

    @property
    def out_of_distribution(self) -> bool:
        return max(self.identity_sigma, self.expression_sigma) > OUT_OF_DISTRIBUTION_SIGMA


class TextToHead:
    """The encoder's text tower, MLP_id, MLP_exp and the head model, in one object."""

    def __init__(
        self,
        encoder: ImageTextEncoder | None = None,
        id_mapper: MappingMLP | None = None,
        exp_mapper: MappingMLP | None = None,
        head_model=None,
    ) -> None:
        from cliphead.clip.registry import cached_encoder
        from cliphead.heads.checkpoints import load_head_model

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
        """(n, K) identity and (n, J) expression codes of ``prompts``."""
        psi = self.encoder.encode_text(checked_prompts(prompts))
        with torch.no_grad():
            return self.id_mapper(psi), self.exp_mapper(psi)

    def generate(
        self, prompt: str, seed: int | None = None, variation: float = 0.3, resolution: int = 256
    ) -> GeneratedHead:
        """The head of ``prompt`` (``seed``: a variation of its identity, see the module doc)."""
        start = time.perf_counter()
        model = self.head_model
        z_ids, z_exps = self.latents([prompt])
        z_id, z_exp = z_ids[0], z_exps[0]
        if seed is not None:
            noise = torch.randn(z_id.shape, generator=torch.Generator().manual_seed(seed))
            z_id = z_id + variation * model.latent_std * noise
        try:
            canonical = extract_disk(model, z_id, resolution)
        except MeshError:
            canonical = extract_canonical(model, z_id, resolution)
        head, extraction = neural_head(model, z_id, z_exp, resolution, canonical)
        return GeneratedHead(
            prompt,
            head,
            z_id,
            z_exp,
            latent_sigma(z_id, model.latent_mean, model.latent_std),
            latent_sigma(z_exp, model.expression_latent_mean, model.expression_latent_std),
            extraction,
            time.perf_counter() - start,
        )


def write_generated_head(path: Path, generated: GeneratedHead) -> tuple[Path, Path]:
    """The mesh (OBJ) and ``<stem>.landmarks.json`` (with the prompt and latents) beside it."""
    from cliphead.heads.io import write_head

    metadata = {
        "prompt": generated.prompt,
        "z_id": np.round(generated.z_id.numpy(), 6).tolist(),
        "z_exp": np.round(generated.z_exp.numpy(), 6).tolist(),
        "identity_sigma": round(generated.identity_sigma, 4),
        "expression_sigma": round(generated.expression_sigma, 4),
    }
    return write_head(Path(path), generated.head, metadata)
