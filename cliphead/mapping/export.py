"""``cliphead text2head``: a prompt in, a head mesh and its landmarks (with the prompt and codes) out."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from cliphead.clip.registry import DEFAULT_ENCODER, cached_encoder
from cliphead.mapping.text2head import TextToHead, load_mapper_pair, write_head_geometry


def text_to_head_file(
    prompt: str,
    out: str | os.PathLike,
    *,
    seed: int | None = None,
    variation: float = 0.3,
    resolution: int = 256,
    encoder: str = DEFAULT_ENCODER,
    id_mapper: str | os.PathLike | None = None,
    exp_mapper: str | os.PathLike | None = None,
    mappers: str | None = None,
    force: bool = False,
) -> dict:
    """Map ``prompt`` to a head, extract it at ``resolution`` and write ``out`` (OBJ) and its landmarks.

    Without ``seed`` the head is the prompt's mapped codes (the same prompt always gives the same
    head); with it, the identity moves by ``variation`` standard deviations of the latent distribution,
    the noise drawn from a generator seeded ``seed``. The mappers default to the embedded ones (``mappers``:
    a pair spec such as ``official:DIR``, or ``id_mapper``/``exp_mapper`` files) and must match ``encoder``. An existing ``out`` is refused unless ``force``. Returns the files, the mesh's
    size, how far the codes lie from the latent distribution, whether the mesh is ready for the aligned
    UV map, and the seconds.
    """
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; pass --force to replace it.")
    text_to_head = TextToHead(cached_encoder(encoder), *load_mapper_pair(mappers, id_mapper, exp_mapper))
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    generated = text_to_head(
        prompt, variation=0.0 if seed is None else variation, generator=generator, resolution=resolution
    )
    mesh, landmarks = write_head_geometry(out, generated)
    return {
        "prompt": prompt,
        "mesh": str(mesh),
        "landmarks": str(landmarks),
        "vertices": len(generated.head.vertices),
        "faces": len(generated.head.faces),
        "identity_sigma": round(generated.identity_sigma, 4),
        "expression_sigma": round(generated.expression_sigma, 4),
        "out_of_distribution": generated.out_of_distribution,
        "uv_ready": generated.uv_ready,
        "seconds": round(generated.seconds, 3),
    }
