"""The GPU smoke script runs on any device: here two of its stages on the CPU, and its refusals."""

from __future__ import annotations

import json

import pytest

from cliphead.lab.gpu_smoke import STAGES, main, run_smoke


def test_the_smoke_script_runs_its_stages_and_records_them(tmp_path):
    out = tmp_path / "smoke.json"
    assert main(["--device", "cpu", "--only", "nphm,official-mappers", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["device"] == "cpu" and [stage["stage"] for stage in record["stages"]] == ["nphm", "official-mappers"]
    nphm, mappers = record["stages"]
    assert nphm["sdf_finite"] and nphm["deformed_points"] == 4096
    assert mappers["code_shapes"] == [[16, 1344], [16, 200]]
    assert len(STAGES) == 6


def test_an_unknown_stage_is_refused_and_a_failing_stage_is_reported(monkeypatch):
    with pytest.raises(ValueError, match="official-texture"):
        run_smoke("cpu", ["dreambooth"])
    records = run_smoke("no-such-device", ["official-mappers"])
    assert records[0]["ok"] is False and "no-such-device" in records[0]["error"]
