"""``cliphead train mappers``: pairs → MLP_id and MLP_exp → weights, curves, evaluation, (optionally) shipping."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

from cliphead.clip.encoder import fingerprint
from cliphead.clip.registry import DEFAULT_ENCODER, cached_encoder
from cliphead.mapping.networks import save_mapper
from cliphead.lab.mapping.pairs import (
    QUICK_IDENTITY_PAIRS,
    IdentityPairConfig,
    expression_pairs,
    identity_pairs,
    load_identity_renders,
)
from cliphead.mapping.text2head import DEFAULT_EXP_MAPPER, DEFAULT_ID_MAPPER
from cliphead.lab.mapping.training import (
    QUICK_MAPPER_TRAINING,
    MapperTrainingConfig,
    expression_training_set,
    identity_training_set,
    no_face_psi,
    train_mapper,
)
from cliphead.weights.manifest import install_weights

#: The shipped MLP_id's pair source (notebook 04 compares it with the paper's image-only pairs).
SHIPPED_IDENTITY_SOURCE = "image+caption"
#: Template prompts per labelled expression in the expression pairs.
EXPRESSION_PROMPTS_PER_LABEL = 400
QUICK_EXPRESSION_PROMPTS_PER_LABEL = 24
#: Noise on ψ while MLP_exp trains (``MapperTrainingConfig.input_noise``): the best of the sweep in
#: notebook 04 (``results/mapper_exp_noise.csv``) on training wordings held out of training, never on
#: the evaluation's wordings (:mod:`cliphead.lab.mapping.wording_validation`).
EXPRESSION_INPUT_NOISE = 0.6


def train_mappers(
    out: Path,
    quick: bool = False,
    install: bool = False,
    encoder_spec: str = DEFAULT_ENCODER,
    source: str = SHIPPED_IDENTITY_SOURCE,
    progress: bool = True,
) -> dict:
    """Train MLP_id and MLP_exp on the pairs of ``encoder_spec`` and write them (and their curves) to ``out``."""
    from cliphead.heads.checkpoints import load_head_model

    if install and (quick or encoder_spec != DEFAULT_ENCODER):
        raise ValueError("--install ships the full mappers of the embedded encoder; drop --quick and --encoder.")
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    model = load_head_model()
    encoder = cached_encoder(encoder_spec)
    pair_config = QUICK_IDENTITY_PAIRS if quick else IdentityPairConfig()
    base = QUICK_MAPPER_TRAINING if quick else MapperTrainingConfig()
    training = {"MLP_id": base, "MLP_exp": replace(base, input_noise=EXPRESSION_INPUT_NOISE)}
    pairs = identity_pairs(load_identity_renders(pair_config), encoder)
    expressions = expression_pairs(
        encoder, model, QUICK_EXPRESSION_PROMPTS_PER_LABEL if quick else EXPRESSION_PROMPTS_PER_LABEL
    )
    sets = {
        "MLP_id": identity_training_set(pairs, source, no_face_psi(encoder), model.latent_mean),
        "MLP_exp": expression_training_set(expressions),
    }
    command = "cliphead train mappers" + (" --quick" if quick else " --install" if install else "")
    payload: dict = {"encoder": encoder.name, "identity_source": source, "pairs": {}, "held_out_mse": {}}
    for (name, data), target in zip(sets.items(), (DEFAULT_ID_MAPPER, DEFAULT_EXP_MAPPER)):
        run = train_mapper(data, training[name], progress=progress, description=name)
        provenance = {
            "command": command,
            "encoder": encoder.name,
            "encoder_fingerprint": fingerprint(encoder),
            "identity_pairs": asdict(pair_config),
            "identity_source": source,
            "training": asdict(training[name]),
            "held_out_mse": run.held_out_mse,
        }
        weights = save_mapper(run.mapper, out / target.name, provenance)
        history = out / target.with_suffix(".history.csv").name
        run.history.to_csv(history, index=False)
        payload["pairs"][name] = len(data.psi)
        payload["held_out_mse"][name] = float(f"{run.held_out_mse:.4g}")
        if install:
            payload[f"installed {name}"] = install_weights(
                weights,
                history,
                target,
                "cliphead train mappers --install",
                f"{name}: 8-layer MLP (skip into layer 4), {encoder.name} ψ → head-model latent, fp16",
            )
    payload["seconds"] = round(time.perf_counter() - start, 1)
    return payload
