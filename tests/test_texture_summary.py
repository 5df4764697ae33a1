"""The texture evaluation's table (cliphead.lab.texture.summary), rebuilt from the committed per-texture rows."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

from cliphead.lab.texture.summary import summarise

RESULTS = Path(__file__).resolve().parents[1] / "results"
#: The one row whose value the table's notes give only to 3 decimals: the mean of four noted accuracies.
CEILING = "attribute accuracy: colour attributes, painter textures through the autoencoder"


def _inputs(table: pd.DataFrame) -> tuple[dict, dict, str, dict]:
    """Diversity, instrument and autoencoder accuracies, and the encoder's name, as the table states them."""
    spread, instrument, autoencoder = {}, {}, {}
    encoder = ""
    for measure, note, value in zip(table["measure"], table["note"], table["value"]):
        if measure.startswith("diversity: "):
            spread[measure.removeprefix("diversity: ").replace(" ", "_")] = value
        elif match := re.fullmatch(r"CLIP score \((.+), embedded\): .*", measure):
            encoder = match.group(1)
        elif match := re.search(r"painter textures ([\d.]+), on their autoencoder reconstructions ([\d.]+)", str(note)):
            attribute = measure.removeprefix("attribute accuracy: ")
            instrument[attribute], autoencoder[attribute] = float(match.group(1)), float(match.group(2))
    return spread, instrument, encoder, autoencoder


def test_summary_rebuilds_the_committed_table_row_for_row():
    table = pd.read_csv(RESULTS / "texture_eval.csv")
    items = pd.read_csv(RESULTS / "texture_eval_items.csv")
    spread, instrument, encoder, autoencoder = _inputs(table)
    rebuilt = summarise(items, spread, instrument, encoder, autoencoder)
    rebuilt = pd.read_csv(io.StringIO(rebuilt.to_csv(index=False)))
    assert list(rebuilt["measure"]) == list(table["measure"])
    exact = rebuilt["measure"] != CEILING
    pd.testing.assert_frame_equal(rebuilt[exact], table[exact])
    ceiling = rebuilt[~exact].squeeze()
    assert ceiling["value"] == pytest.approx(table[~exact].squeeze()["value"], abs=5e-4)
    assert rebuilt.loc[~exact, ["n", "bar", "note"]].equals(table.loc[~exact, ["n", "bar", "note"]])
