"""Choosing MLP_exp's input noise on wordings held out of its own training wordings.

The evaluation's held-out wordings (:data:`~cliphead.lab.mapping.prompts.HELD_OUT_EXPRESSIONS`) must not
choose anything, so the noise on ψ (``MapperTrainingConfig.input_noise``) is chosen on a split of the
training wordings: the last :data:`VALIDATION_WORDINGS` of each label's
:data:`~cliphead.lab.mapping.prompts.EXPRESSION_WORDINGS` are left out, MLP_exp trains on prompts of the
rest, and it is scored on the left-out wordings in the evaluation's sentence frames. The score is the
share of prompts whose predicted code is nearest, in latent space, to the requested label's code:
a stand-in for the deformation measure of :mod:`cliphead.lab.mapping.evaluation`, which needs a mesh per
prompt.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from cliphead.heads.expressions import EXPRESSION_LABELS
from cliphead.lab.mapping.pairs import expression_pairs
from cliphead.lab.mapping.prompts import EVALUATION_FRAMES, EXPRESSION_WORDINGS
from cliphead.lab.mapping.training import MapperTrainingConfig, expression_training_set, train_mapper

#: Training wordings per label left out to validate on (of the 8 each label has).
VALIDATION_WORDINGS = 2


def wording_split(n_validation: int = VALIDATION_WORDINGS) -> tuple[dict, dict]:
    """Each label's training wordings without its last ``n_validation``, and those left-out ones."""
    kept = {label: wordings[:-n_validation] for label, wordings in EXPRESSION_WORDINGS.items()}
    left_out = {label: wordings[-n_validation:] for label, wordings in EXPRESSION_WORDINGS.items()}
    return kept, left_out


def nearest_label_accuracy(predicted: np.ndarray, labels: list[str], codes: np.ndarray) -> float:
    """Share of predicted codes ``(n, J)`` nearest to their label's code (``codes``: one row per label, in order)."""
    nearest = np.argmin(((predicted[:, None] - codes[None]) ** 2).sum(-1), axis=1)
    return float(np.mean([EXPRESSION_LABELS[k] == label for k, label in zip(nearest, labels)]))


def noise_sweep(
    encoder,
    model,
    noises: tuple[float, ...],
    training: MapperTrainingConfig,
    per_label: int,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Validation accuracy of MLP_exp trained with each input noise (one row per noise; see the module doc)."""
    kept, left_out = wording_split()
    pairs = expression_pairs(encoder, model, per_label, seed, wordings=kept)
    data = expression_training_set(pairs)
    prompts = [
        (frame.format(wording), label)
        for label in EXPRESSION_LABELS
        for wording in left_out[label]
        for frame in EVALUATION_FRAMES
    ]
    psi = encoder.encode_text([text for text, _ in prompts])
    with torch.no_grad():
        codes = np.stack([model.expression_code(label).numpy() for label in EXPRESSION_LABELS])
    rows = []
    for noise in noises:
        run = train_mapper(
            data,
            replace(training, input_noise=noise, held_out=0.0, seed=seed),
            progress=progress,
            description=f"MLP_exp, noise {noise}",
        )
        with torch.no_grad():
            predicted = run.mapper(psi).numpy()
        accuracy = nearest_label_accuracy(predicted, [label for _, label in prompts], codes)
        rows.append(
            {
                "input_noise": noise,
                "validation_accuracy": accuracy,
                "validation_prompts": len(prompts),
                "epochs": training.epochs,
                "seconds": round(run.seconds, 1),
            }
        )
    return pd.DataFrame(rows)
