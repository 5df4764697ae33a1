"""The texture evaluation's table (``results/texture_eval.csv``): one row per figure, in four groups.

:func:`summarise` reads the per-texture rows of :func:`~cliphead.lab.texture.evaluation.evaluate_textures`
and writes, in this order:

- **attribute accuracy** of each requested attribute, the colour attributes pooled, and the ceiling the
  autoencoder's latent space sets on them (:func:`attribute_rows`);
- **CLIP score** (CLIP-Head §3) of the generated texture, of a painter texture of the request and of
  the texture generated for another prompt (:func:`clip_rows`);
- **diversity** within and between prompts (:func:`diversity_rows`);
- **face detection and rectification** (supplementary §3): detection rates and landmark errors of the
  full and partial textures, and what the rectification changed (:func:`detection_rows`,
  :func:`rectification_rows`).

Each row has its count and, where one applies, its bar: :data:`ACCURACY_BAR` for the colour
attributes, :data:`LANDMARK_ERROR_BAR` for the landmark error after rectification.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cliphead.lab.texture.evaluation import COLOUR_ATTRIBUTES, MEASURED_AS, UNSEEN_WORD_ATTRIBUTE

#: Accuracy the colour attributes (:data:`~cliphead.lab.texture.evaluation.COLOUR_ATTRIBUTES`) are held to.
ACCURACY_BAR = 0.8
#: Colour words no training caption uses are held to this multiple of their chance level.
UNSEEN_WORD_CHANCE_MULTIPLE = 3.0
#: Share of generated textures whose face window shows the face detector a face.
WINDOW_DETECTION_BAR = 0.6
#: Landmark error after rectification (fraction of the texture width) the rectification is held to.
LANDMARK_ERROR_BAR = 0.02
#: Note of every landmark-error row.
LANDMARK_UNITS = "fraction of the texture width"


def _row(measure: str, value: float, n: int | None, bar: float | None, note: str) -> dict:
    return {"measure": measure, "value": value, "n": n, "bar": bar, "note": note}


def chance_agreement(group: pd.DataFrame) -> float:
    """Accuracy expected if requests were shuffled: how often the measured value matches a random request.

    The instrument names a colour even where nothing was drawn (a bare chin reads as the beard colour
    nearest the skin), so accuracy is read against this, not against 1 / number of values.
    """
    measured = group["measured"].value_counts(normalize=True)
    requested = group["requested"].value_counts(normalize=True)
    return float((measured * requested.reindex(measured.index, fill_value=0.0)).sum())


def attribute_rows(frame: pd.DataFrame, instrument: dict[str, float], autoencoder: dict[str, float]) -> list[dict]:
    """Accuracy per attribute (in the order first evaluated), the colour attributes pooled, their ceiling.

    Each attribute's note gives the full texture's accuracy before rectification, the chance level
    (:func:`chance_agreement`) and the instrument's accuracy on painter textures as painted
    (``instrument``) and through the autoencoder (``autoencoder``).
    """
    rows = []
    for attribute, group in frame.groupby("attribute", sort=False):
        measured_as = MEASURED_AS.get(attribute, attribute)
        note = (
            f"full texture before rectification {group['found_full'].mean():.3f}; "
            f"chance (requests shuffled) {chance_agreement(group):.3f}; "
            f"instrument on painter textures {instrument.get(measured_as, np.nan):.3f}, "
            f"on their autoencoder reconstructions {autoencoder.get(measured_as, np.nan):.3f}"
        )
        bar = ACCURACY_BAR if attribute in COLOUR_ATTRIBUTES else None
        if attribute == UNSEEN_WORD_ATTRIBUTE:
            bar = UNSEEN_WORD_CHANCE_MULTIPLE * chance_agreement(group)
        rows.append(_row(f"attribute accuracy: {attribute}", group["found"].mean(), len(group), bar, note))
    colour = frame[frame["attribute"].isin(COLOUR_ATTRIBUTES)]
    pooled = "hair colour, skin, lipstick, beard colour pooled"
    rows.append(
        _row("attribute accuracy: colour attributes", colour["found"].mean(), len(colour), ACCURACY_BAR, pooled)
    )
    rows.append(
        _row(
            "attribute accuracy: colour attributes, painter textures through the autoencoder",
            np.mean([autoencoder[a] for a in COLOUR_ATTRIBUTES]),
            None,
            None,
            "the ceiling the latent space sets (mean of the four attributes)",
        )
    )
    return rows


def clip_rows(frame: pd.DataFrame, encoder_name: str) -> list[dict]:
    """Mean CLIP score of the generated texture, the painter reference and another prompt's texture."""
    scored = (
        ("clip_generated", "generated texture"),
        ("clip_reference", "painter texture of the request"),
        ("clip_other_prompt", "generated texture of another prompt"),
    )
    return [
        _row(
            f"CLIP score ({encoder_name}, embedded): {label}",
            frame[column].mean(),
            len(frame),
            None,
            f"std {frame[column].std():.4f}",
        )
        for column, label in scored
    ]


def diversity_rows(spread: dict[str, float]) -> list[dict]:
    """One row per figure of :func:`~cliphead.lab.texture.evaluation.diversity`."""
    note = "RMS colour difference of full textures, [0, 1] units"
    return [_row(f"diversity: {key.replace('_', ' ')}", value, None, None, note) for key, value in spread.items()]


def _landmark_row(measure: str, value: float, n: int, bar: float | None = None) -> dict:
    return _row(measure, value, n, bar, LANDMARK_UNITS if measure.startswith("landmark error") else "")


def detection_rows(frame: pd.DataFrame) -> list[dict]:
    """MediaPipe's face detector on the final texture's face window (flat, unlit: :mod:`cliphead.lab.world.face_check`;
    absent from item tables written before it was measured), FaceMesh's detection rates on the full and partial
    textures, and their landmark errors where both are found."""
    both = frame[frame["full_detected"] & frame["partial_detected"]]
    partial_better = (both["error_partial"] < both["error_before"]).mean()
    window = []
    if "window_detected" in frame:
        measure = "face detector finds a face in the face window: generated texture"
        window.append(_landmark_row(measure, frame["window_detected"].mean(), len(frame), WINDOW_DETECTION_BAR))
    return [
        *window,
        _landmark_row("detection rate: full texture", frame["full_detected"].mean(), len(frame)),
        _landmark_row("detection rate: partial texture", frame["partial_detected"].mean(), len(frame)),
        _landmark_row(
            "partial texture placed the features better (share, where both found)", partial_better, len(both)
        ),
        _landmark_row("landmark error, where both found: full texture", both["error_before"].mean(), len(both)),
        _landmark_row("landmark error, where both found: partial texture", both["error_partial"].mean(), len(both)),
    ]


def rectification_rows(frame: pd.DataFrame) -> list[dict]:
    """How often the rectification ran (and, where the item table records it, how often it pasted without a warp,
    finding no face on the full texture), the landmark error before and after it, and of the final texture.
    The error before, and whether the rectification lowered it, exist only where it warped."""
    rectified = frame[frame["rectified"]]
    after = rectified["error_after"]
    compared = rectified[rectified["error_before"].notna()]
    lowered = (compared["error_after"] < compared["error_before"]).mean()
    final_error = frame["error_after"].where(frame["rectified"], frame["error_before"])
    unwarped = []
    if "warped" in frame:
        measure = "rectification pasted without a warp (share, where rectified)"
        unwarped.append(_landmark_row(measure, 1.0 - rectified["warped"].mean(), len(rectified)))
    return [
        _landmark_row("rectification ran", frame["rectified"].mean(), len(frame)),
        *unwarped,
        _landmark_row("landmark error before (where rectified)", rectified["error_before"].mean(), len(compared)),
        _landmark_row("landmark error after (where rectified)", after.mean(), after.notna().sum(), LANDMARK_ERROR_BAR),
        _landmark_row("rectification lowered the error (share)", lowered, len(compared)),
        _landmark_row(
            "landmark error of the final texture (where a face is found on it)",
            final_error.mean(),
            final_error.notna().sum(),
        ),
    ]


def summarise(
    frame: pd.DataFrame,
    spread: dict[str, float],
    instrument: dict[str, float],
    encoder_name: str,
    autoencoder: dict[str, float],
) -> pd.DataFrame:
    """The ``texture_eval.csv`` table: one row per figure, with its count and, where one applies, the bar.

    ``frame``: :func:`~cliphead.lab.texture.evaluation.evaluate_textures`; ``spread``:
    :func:`~cliphead.lab.texture.evaluation.diversity`; ``instrument`` and ``autoencoder``:
    :func:`~cliphead.lab.texture.measure.calibration_accuracy` on painter textures as painted and
    through the autoencoder. Values are rounded to 4 decimals.
    """
    rows = [
        *attribute_rows(frame, instrument, autoencoder),
        *clip_rows(frame, encoder_name),
        *diversity_rows(spread),
        *detection_rows(frame),
        *rectification_rows(frame),
    ]
    table = pd.DataFrame(rows)
    table["value"] = table["value"].astype(float).round(4)
    return table
