"""``cliphead train mappers``: pairs → MLP_id and MLP_exp → weights, curves, evaluation, (optionally) shipping."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cliphead.clip.encoder import fingerprint
from cliphead.clip.registry import DEFAULT_ENCODER, cached_encoder
from cliphead.mapping.networks import save_mapper
from cliphead.lab.mapping.pairs import (
    IdentityPairConfig,
    expression_pairs,
    identity_pairs,
    load_identity_renders,
)
from cliphead.mapping.text2head import DEFAULT_EXP_MAPPER, DEFAULT_ID_MAPPER
from cliphead.lab.distributed import is_main_process
from cliphead.lab.mapping.training import (
    MapperRun,
    MapperTrainingConfig,
    expression_training_set,
    identity_training_set,
    no_face_psi,
    train_mapper,
)
from cliphead.weights.manifest import install_weights

#: The shipped MLP_id's pair source (notebook 04 compares it with the paper's image-only pairs).
SHIPPED_IDENTITY_SOURCE = "image+caption"
#: Noise on ψ while MLP_exp trains (``MapperTrainingConfig.input_noise``): the best of the sweep in
#: notebook 04 (``results/mapper_exp_noise.csv``) on training wordings held out of training, never on
#: the evaluation's wordings (:mod:`cliphead.lab.mapping.wording_validation`).
EXPRESSION_INPUT_NOISE = 0.6


@dataclass(frozen=True)
class MapperRecipe:
    """The pairs ``cliphead train mappers`` trains on (identity renders; template prompts per labelled
    expression) and the mappers' training (supplementary §2)."""

    identity_pairs: IdentityPairConfig = IdentityPairConfig()
    expression_prompts_per_label: int = 400
    training: MapperTrainingConfig = MapperTrainingConfig()


#: ``full`` trains the shipped mappers; ``quick`` a few epochs on a few pairs, in a minute.
PRESETS = {
    "full": MapperRecipe(),
    "quick": MapperRecipe(
        identity_pairs=IdentityPairConfig(n_identities=75, views_per_identity=4, kept=16),
        expression_prompts_per_label=24,
        training=MapperTrainingConfig(epochs=4),
    ),
}


def _write_mapper(run: MapperRun, name: str, target: Path, out: Path, provenance: dict, install: bool) -> dict:
    """Write a trained mapper and its curve into ``out``; with ``install`` ship them (the payload says so)."""
    weights = save_mapper(run.mapper, out / target.name, provenance)
    history = out / target.with_suffix(".history.csv").name
    run.history.to_csv(history, index=False)
    if not install:
        return {}
    description = f"{name}: 8-layer MLP (skip into layer 4), {provenance['encoder']} ψ → head-model latent, fp16"
    installed = install_weights(weights, history, target, "cliphead train mappers --install", description)
    return {f"installed {name}": installed}


def train_mappers(
    out: Path,
    preset: str = "full",
    install: bool = False,
    encoder_spec: str = DEFAULT_ENCODER,
    source: str = SHIPPED_IDENTITY_SOURCE,
    progress: bool = True,
) -> dict:
    """Train MLP_id and MLP_exp of the named preset on the pairs of ``encoder_spec`` and write them (and their
    curves) to ``out``."""
    from cliphead.heads.checkpoints import load_head_model

    if install and (preset != "full" or encoder_spec != DEFAULT_ENCODER):
        raise ValueError("--install ships the full mappers of the embedded encoder; drop --quick and --encoder.")
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    model = load_head_model()
    encoder = cached_encoder(encoder_spec)
    recipe = PRESETS[preset]
    training = {"MLP_id": recipe.training, "MLP_exp": replace(recipe.training, input_noise=EXPRESSION_INPUT_NOISE)}
    pairs = identity_pairs(load_identity_renders(recipe.identity_pairs), encoder)
    expressions = expression_pairs(encoder, model, recipe.expression_prompts_per_label)
    sets = {
        "MLP_id": identity_training_set(pairs, source, no_face_psi(encoder), model.latent_mean),
        "MLP_exp": expression_training_set(expressions),
    }
    command = "cliphead train mappers" + (" --quick" if preset == "quick" else " --install" if install else "")
    payload: dict = {"encoder": encoder.name, "identity_source": source, "pairs": {}, "held_out_mse": {}}
    for (name, data), target in zip(sets.items(), (DEFAULT_ID_MAPPER, DEFAULT_EXP_MAPPER)):
        run = train_mapper(data, training[name], progress=progress, description=name)
        payload["pairs"][name] = len(data.psi)
        payload["held_out_mse"][name] = float(f"{run.held_out_mse:.4g}")
        provenance = {
            "command": command,
            "encoder": encoder.name,
            "encoder_fingerprint": fingerprint(encoder),
            "identity_pairs": asdict(recipe.identity_pairs),
            "identity_source": source,
            "training": asdict(training[name]),
            "held_out_mse": run.held_out_mse,
        }
        if is_main_process():  # under `accelerate launch` the other processes hold the same mapper
            payload.update(_write_mapper(run, name, target, out, provenance, install))
    payload["seconds"] = round(time.perf_counter() - start, 1)
    return payload
