"""The index of a results folder: ``README.md`` beside the CSVs, written from them by code.

One section per table, grouped by the notebook that makes it: a short fixed description of what the table
holds (:data:`TABLES`, kept here as data), where it came from (the command and commit of its provenance
sidecar), links to the notebook and to its rendered copy, and the table itself as Markdown, its floats
rounded to 4 significant digits (long tables are cut, with a link to the whole CSV). ``cliphead reproduce``
writes the index at the end of every run; ``cliphead reproduce --index-only`` writes it without running a
notebook. The text depends only on the folder's files, so rewriting an unchanged folder changes nothing.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cliphead.assets import repository_root

#: Floats in the index carry this many significant digits.
SIGNIFICANT_DIGITS = 4

#: The index's file name inside the results folder.
INDEX_NAME = "README.md"

#: Rendered copies of the executed notebooks live in this sub-folder of the results folder.
RENDERED_DIR = "notebooks"


@dataclass(frozen=True)
class TableNote:
    """What one results table holds and which notebook (file stem) writes it."""

    notebook: str
    description: str
    max_rows: int = 40


#: Every table ``cliphead reproduce`` writes, in the order a reader meets them.
TABLES: dict[str, TableNote] = {
    "head_model_fitting.csv": TableNote(
        "01_neural_head_model",
        "Fitting held-out ICT-FaceKit scans with the embedded neural head model against least-squares fits of the "
        "linear ICT model (20 identity modes, FLAME-like; all 100, an oracle, since the scans come from it): "
        "Chamfer-L1 in mm, normal consistency and F-scores, for identity and expression fitting, on the whole head "
        "and on the face.",
    ),
    "head_model_fitting_per_scan.csv": TableNote(
        "01_neural_head_model", "The same fits, one row per held-out scan, model and region.", max_rows=12
    ),
    "embedded_clip_eval.csv": TableNote(
        "02_appearance_world",
        "The embedded CLIP encoder (`lit-minilm`) on held-out renders of the synthetic appearance world: zero-shot "
        "accuracy per attribute in three prompt wordings against majority-class chance, text-to-image retrieval, and "
        "the beard-colour binding split with its caption oracle. Embedded-CLIP numbers, not OpenCLIP ones.",
    ),
    "pair_statistics.csv": TableNote(
        "03_pair_generation",
        "What the training pairs of the mapping networks hold: counts, the spread of the codes, the yaw range, "
        "retrieval of each image's own template prompt, and the nearest-training-prompt expression accuracy of the "
        "held-out prompt sets (embedded encoder).",
    ),
    "ablation_cyclic.csv": TableNote(
        "04_mapper_training",
        "Supplementary Table 1: held-out MSE of the latents predicted by MLP_id and MLP_exp trained with L2 and with "
        "L2 + cyclic loss, mean and std over seeds, beside the paper's values (other latents and another encoder, "
        "so the numbers are not comparable across the two columns).",
    ),
    "ablation_cyclic_runs.csv": TableNote(
        "04_mapper_training", "The ablation's runs, one row per mapper, loss and seed."
    ),
    "mapper_exp_noise.csv": TableNote(
        "04_mapper_training",
        "The noise on ψ that MLP_exp trains with, chosen on training wordings held out of training: validation "
        "accuracy (nearest labelled code) per noise level.",
    ),
    "text2geometry_eval.csv": TableNote(
        "04_mapper_training",
        "Prompt faithfulness on held-out prompts, one row per prompt and mapper pair: what was measured on the "
        "generated head (expression by deformation, geometry word by population tertile) and whether it is the "
        "requested one.",
        max_rows=12,
    ),
    "text2geometry_summary.csv": TableNote(
        "04_mapper_training",
        "Faithfulness per prompt set, kind, target and mapper pair, with chance.",
        max_rows=24,
    ),
    "uv_metrics.csv": TableNote(
        "05_uv_alignment",
        "Distortion of the aligned UV map in three variants and of ICT-FaceKit's own UV map: median QCE and ASE "
        "over heads beside the paper's medians, flipped faces, and the spread of the landmarks across heads in UV.",
    ),
    "uv_alignment_spread.csv": TableNote(
        "05_uv_alignment",
        "RMS spread of each landmark's UV position across heads (UV units), per aligned variant; whether the "
        "landmark warp pins it.",
        max_rows=12,
    ),
    "uv_metrics_per_head.csv": TableNote(
        "05_uv_alignment",
        "One row per head and method: mesh size, seconds, median QCE and ASE, flipped faces.",
        max_rows=12,
    ),
    "uv_defects_summary.csv": TableNote(
        "05_uv_alignment",
        "The defect corpus through the default repair stage and map: share of heads mapped, median QCE, worst share "
        "of flipped UV faces, how far the repairs moved the kept input surface on heads without handles (mm), the "
        "most zero-area or duplicated faces and unreferenced vertices in one head's repaired and mapped meshes, and "
        "the mean error of the landmarks found on renders (mm).",
    ),
    "uv_defects.csv": TableNote(
        "05_uv_alignment",
        "One row per corpus head (source, seed, defect): mapped or the error, QCE, flipped share, handles removed, "
        "surface moved and added (mm), landmark error (mm), unclean mesh elements, seconds, the repairs made.",
        max_rows=12,
    ),
    "uv_auto_landmarks_summary.csv": TableNote(
        "05_uv_alignment",
        "Landmarks found on renders on 50 held-out project heads: mean error against the known landmarks on the "
        "surface (mm), and the alignment spread of the known landmarks under the map warped with the found ones (UV).",
    ),
    "uv_auto_landmarks.csv": TableNote(
        "05_uv_alignment",
        "One row per held-out head: mean and largest distance of the found landmarks from the known ones (mm).",
        max_rows=12,
    ),
    "texture_model.csv": TableNote(
        "06_controlnet_training",
        "The embedded ControlNet_uv's parts: class, parameters, file size, last training phase and its final loss.",
    ),
    "texture_prompt_knowledge.csv": TableNote(
        "06_controlnet_training",
        "What the denoisers take from the prompt: the share of the variance of region colours (CIELAB L, a, b) "
        "across training textures that the pure-noise prediction for their captions explains, with the prompt read "
        "whole, through its token states alone and through its pooled embedding alone.",
    ),
    "texture_sampling_validation.csv": TableNote(
        "07_rectification",
        "Sampler settings (guidance, guidance rescale, colour clamp) compared on validation prompts and heads the "
        "evaluation does not use: the share of requested attributes found.",
    ),
    "texture_eval.csv": TableNote(
        "07_rectification",
        "The texture evaluation on held-out prompts and heads: attribute accuracy in the layout's regions, CLIP "
        "score with the embedded encoder, diversity, mediapipe detection and the rectification's landmark errors.",
    ),
    "texture_eval_items.csv": TableNote(
        "07_rectification", "The texture evaluation, one row per prompt, head and seed.", max_rows=12
    ),
    "clip_score_table.csv": TableNote(
        "08_clip_score_tables",
        "Table 1: CLIP score per method (CLIP-Head, a ClipFace-style optimisation, retrieval, random) with the "
        "embedded encoder and, when their weights are given, the OpenCLIP evaluators; attribute faithfulness and "
        "seconds per prompt.",
    ),
    "clip_score_items.csv": TableNote(
        "08_clip_score_tables", "Table 1 per prompt and method, with the attribute measured.", max_rows=16
    ),
    "explorer_timings.csv": TableNote(
        "10_explorer",
        "The explorer's changes timed in the kernel (seconds per stage; a stage absent was re-used): a new prompt "
        "runs the whole pipeline, an identity slider extracts the geometry again and keeps the texture, an "
        "expression moves the extracted surface.",
    ),
}


def format_cell(value: object) -> str:
    """One table cell as Markdown text: floats (and strings that are plain numbers) to 4 significant digits,
    whole floats as integers, missing values empty, ``|`` escaped."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value.replace("|", "\\|").replace("\n", " ")
        return format_cell(number) if value.strip().lower() not in {"nan", "inf", "-inf"} else value
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, f".{SIGNIFICANT_DIGITS}g")
    if hasattr(value, "item"):  # numpy scalars
        return format_cell(value.item())
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame, max_rows: int | None = None) -> str:
    """``frame`` as a GitHub Markdown table (numeric columns right-aligned), at most ``max_rows`` rows."""
    shown = frame if max_rows is None else frame.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) for dtype in frame.dtypes]
    header = "| " + " | ".join(format_cell(str(column)) for column in frame.columns) + " |"
    rule = "|" + "|".join("---:" if right else "---" for right in numeric) + "|"
    rows = ["| " + " | ".join(format_cell(value) for value in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _relative_link(target: Path, start: Path) -> str:
    """A POSIX relative path from folder ``start`` to ``target`` (for Markdown links)."""
    return Path(os.path.relpath(target, start)).as_posix()


def notebook_title(stem: str, notebooks_dir: Path) -> str:
    """The notebook's first heading ("04 · The mapping networks, …"), or its stem when it has none."""
    path = notebooks_dir / f"{stem}.ipynb"
    if path.exists():
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            lines = "".join(cell.get("source", "")).splitlines()
            if cell.get("cell_type") == "markdown" and lines and lines[0].startswith("# "):
                return lines[0][2:].strip()
    return stem


def provenance_line(csv_path: Path) -> str:
    """ "made at commit `abc1234` (DATE)" from the table's sidecar, or "" without one (the sidecar has the rest)."""
    sidecar = csv_path.with_suffix(".json")
    if not sidecar.exists():
        return ""
    record = json.loads(sidecar.read_text(encoding="utf-8")).get("provenance", {})
    parts = ["made"]
    if record.get("git_commit"):
        parts.append(f"at commit `{str(record['git_commit'])[:7]}`")
    if record.get("timestamp_utc"):
        parts.append(f"({str(record['timestamp_utc'])[:10]})")
    return " ".join(parts) if len(parts) > 1 else ""


def table_section(csv_path: Path, note: TableNote | None) -> str:
    """The index's section for one CSV: heading, description, provenance, the table (cut at ``max_rows``)."""
    frame = pd.read_csv(csv_path)
    description = note.description if note else "(No description yet: add one to `cliphead.lab.results_index.TABLES`.)"
    limit = note.max_rows if note else 40
    lines = [f"### `{csv_path.name}`", "", description, ""]
    made = provenance_line(csv_path)
    sidecar = csv_path.with_suffix(".json")
    links = f"[CSV]({csv_path.name})" + (f", [provenance]({sidecar.name})" if sidecar.exists() else "")
    lines += [f"{links}{'; ' + made if made else ''}.", "", markdown_table(frame, limit), ""]
    if len(frame) > limit:
        lines += [f"The first {limit} of {len(frame)} rows; all of them are in [{csv_path.name}]({csv_path.name}).", ""]
    return "\n".join(lines)


def notebook_heading(stem: str, results_dir: Path, notebooks_dir: Path) -> str:
    """The heading of one notebook's group: its title, links to the notebook and to its rendered copy."""
    source = _relative_link(notebooks_dir / f"{stem}.ipynb", results_dir)
    rendered = results_dir / RENDERED_DIR / f"{stem}.md"
    links = f"Notebook [`{stem}.ipynb`]({source})"
    if rendered.exists():
        links += f", rendered with its outputs: [{RENDERED_DIR}/{stem}.md]({RENDERED_DIR}/{stem}.md)"
    number = stem[:2]
    return "\n".join(
        [
            f"## {notebook_title(stem, notebooks_dir)}",
            "",
            f"{links}; rerun with `cliphead reproduce --only {number}`.",
            "",
        ]
    )


def _grouped(names: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The CSV names grouped by notebook, notebooks in order, tables in :data:`TABLES` order (unknown ones last)."""
    order = list(TABLES)
    groups: dict[str, list[str]] = {}
    for name in sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n)):
        stem = TABLES[name].notebook if name in TABLES else "unknown"
        groups.setdefault(stem, []).append(name)
    return sorted(groups.items(), key=lambda item: (item[0] == "unknown", item[0]))


def index_text(results_dir: str | os.PathLike, notebooks_dir: str | os.PathLike | None = None) -> str:
    """The Markdown of the index of ``results_dir`` (see the module's docstring)."""
    results_dir = Path(results_dir).resolve()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else repository_root() / "notebooks"
    csvs = {path.name: path for path in results_dir.glob("*.csv")}
    lines = [
        "# Results",
        "",
        "Every table `cliphead reproduce` writes, grouped by the notebook that makes it. This file is generated "
        "by `cliphead.lab.results_index` from the CSVs (floats rounded to 4 significant digits): do not edit it "
        "by hand; `cliphead reproduce --index-only` rewrites it and the rendered notebooks without running "
        "anything. Each CSV has a `.json` sidecar with the command, commit, parameters and versions that made it.",
        "",
    ]
    for stem, names in _grouped(csvs):
        if stem == "unknown":
            lines += ["## Tables without a description", ""]
        else:
            lines.append(notebook_heading(stem, results_dir, notebooks_dir))
        lines += [table_section(csvs[name], TABLES.get(name)) for name in names]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_results_index(results_dir: str | os.PathLike, notebooks_dir: str | os.PathLike | None = None) -> Path:
    """Write ``README.md`` into ``results_dir`` from its CSVs; returns its path."""
    path = Path(results_dir) / INDEX_NAME
    path.write_text(index_text(results_dir, notebooks_dir), encoding="utf-8")
    return path
