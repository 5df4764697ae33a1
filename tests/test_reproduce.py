"""`cliphead reproduce --only NN --quick`: the notebooks run headless through papermill and write their tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from cliphead.lab.notebook_markdown import image_links
from cliphead.lab.reproduce import changed_numbers, notebook_paths
from cliphead.lab.results_index import format_cell


def reproduce_quick(tmp_path: Path, *only: str) -> dict:
    """``cliphead reproduce --quick --only ONLY…`` into ``tmp_path``'s results/ and figures/; asserts it succeeded
    and returns its report (the JSON line it ends with)."""
    command = [sys.executable, "-m", "cliphead.cli", "reproduce", "--only", *only, "--quick"]
    command += ["--results-dir", str(tmp_path / "results"), "--figures-dir", str(tmp_path / "figures")]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def assert_figures_drawn(figures: Path, names: tuple[str, ...]) -> None:
    """Each named figure exists in ``figures`` and is a real picture (over 200 px on its short side)."""
    for name in names:
        assert min(Image.open(figures / name).size) > 200, name


def test_notebooks_are_committed_clean():
    import nbformat

    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path
        assert any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells), path


@pytest.mark.slow
def test_reproduce_05_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    report = reproduce_quick(tmp_path, "05")
    assert report["notebooks"] == ["05_uv_alignment.ipynb"] and report["quick"] is True
    assert "uv_metrics.csv" in report["changed"]  # a new file in an empty results folder

    metrics = pd.read_csv(results / "uv_metrics.csv").set_index("method")
    assert {"aligned-conformal+landmarks", "aligned-conformal", "aligned-circle", "ict-original"} <= set(metrics.index)
    aligned = metrics.loc["aligned-conformal+landmarks"]
    assert 1.0 <= aligned.qce_median < 2.0  # the paper's aligned map: 4.311
    assert aligned.spread_max < 0.01 < metrics.loc["aligned-circle"].spread_max
    provenance = json.loads((results / "uv_metrics.json").read_text())
    assert provenance["provenance"]["parameters"]["quick"] is True and provenance["provenance"]["git_commit"]
    assert pd.read_csv(results / "uv_alignment_spread.csv").shape[0] >= 68
    assert_figures_drawn(
        figures, ("uv_qce_heatmap.png", "uv_layout_overlay.png", "uv_qce_per_head.png", "uv_defects.png")
    )
    # Meshes from elsewhere: the quick defect corpus (one head per kind of defect) all maps, landmarks found.
    defects = pd.read_csv(results / "uv_defects_summary.csv").iloc[0]
    assert defects.heads == 9 and defects.mapped_fraction == 1.0 and defects.qce_median < 2.0
    assert defects.surface_moved_mm_max_not_remeshed <= 1.0 and defects.flipped_fraction_max <= 0.001
    assert defects.unclean_elements_max == 0  # no zero-area or duplicated face, no unreferenced vertex written
    assert pd.read_csv(results / "uv_auto_landmarks_summary.csv").iloc[0].mean_error_mm < 4.0

    # The rendered copy: the notebook's headings and outputs, its figures linked (not copied) from figures/.
    rendered = results / "notebooks" / "05_uv_alignment.md"
    assert report["rendered"] == [str(rendered)]
    markdown = rendered.read_text()
    assert "# 05 · The aligned UV parametrisation" in markdown and "## Against the paper, honestly" in markdown
    links = image_links(markdown)
    assert links and all((rendered.parent / link).resolve().is_file() for link in links)
    assert {(rendered.parent / link).resolve() for link in links} >= {(figures / "uv_qce_heatmap.png").resolve()}
    # The index of the results folder, with the row the notebook wrote.
    index = (results / "README.md").read_text()
    assert "### `uv_metrics.csv`" in index and "(notebooks/05_uv_alignment.md)" in index
    assert f"| aligned-conformal+landmarks | {format_cell(aligned.qce_median)} |" in index

    index_only = subprocess.run(
        [sys.executable, "-m", "cliphead.cli", "reproduce"]
        + ["--index-only", "--only", "05", "--quick", "--results-dir", str(results), "--figures-dir", str(figures)],
        capture_output=True,
        text=True,
    )
    assert index_only.returncode == 0, index_only.stderr[-3000:]
    assert json.loads(index_only.stdout.strip().splitlines()[-1])["rendered"] == [str(rendered)]
    assert image_links(rendered.read_text()) == links and (results / "README.md").read_text() == index


def test_only_selects_by_unique_number_or_stem():
    assert [path.name for path in notebook_paths(["03"])] == ["03_pair_generation.ipynb"]
    assert [path.name for path in notebook_paths(["02_appearance"])] == ["02_appearance_world.ipynb"]
    names = [path.name[:2] for path in notebook_paths()]
    assert names == sorted(set(names))  # one notebook a number, in the order a learner reads them


def test_changed_numbers_lists_cells():
    before = {"t.csv": pd.DataFrame({"a": [1.0, 2.0]})}
    after = {"t.csv": pd.DataFrame({"a": [1.0, 2.5]}), "u.csv": pd.DataFrame({"b": [0]})}
    assert changed_numbers(before, after) == {"t.csv": ["row 1 a: 2 -> 2.5"], "u.csv": ["new file"]}


@pytest.mark.slow
def test_reproduce_01_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    assert reproduce_quick(tmp_path, "01_neural")["notebooks"] == ["01_neural_head_model.ipynb"]
    table = pd.read_csv(results / "head_model_fitting.csv").set_index(["task", "region", "model"])
    assert len(table) == 12 and (table["n_scans"] == 2).all()
    # The oracle (the full linear model the scans come from) is exact up to the protocol's sampling noise.
    oracle = table.loc[("identity", "whole_head", "ict_100")]
    assert oracle.chamfer_l1_mm < 0.5 and oracle.normal_consistency > 0.99
    assert table.loc[("identity", "whole_head", "ict_20")].chamfer_l1_mm > oracle.chamfer_l1_mm
    neural = table.loc[("identity", "face", "neural")]
    assert neural.f_score_5mm > 0.95 and neural.chamfer_l1_mm < 1.5
    assert_figures_drawn(
        figures,
        (
            "head_model_training.png",
            "head_model_samples.png",
            "head_model_interpolation.png",
            "head_model_expression_transfer.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_appearance_world_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    assert reproduce_quick(tmp_path, "02_appearance")["notebooks"] == ["02_appearance_world.ipynb"]
    table = pd.read_csv(results / "embedded_clip_eval.csv")
    zero = table[(table.metric == "zero-shot accuracy") & (table.prompt_set == "training wording")]
    assert {"hair_colour", "skin_bucket", "lipstick_colour", "beard_colour", "face_width"} <= set(zero.attribute)
    assert {"training wording", "held-out frames", "held-out words and frames"} == set(table.prompt_set) - {
        "each render's first caption"
    }
    hair = zero.set_index("attribute").loc["hair_colour"]
    assert hair.images > 60 and hair.value > hair.chance + 0.4  # the shipped tower, on renders it never saw
    assert set(table.metric) >= {"text-to-image R@1", "text-to-image R@5", "beard colour caption oracle: right"}
    oracle = table.set_index("metric").loc["beard colour caption oracle: naming the hair colour"]
    assert oracle.images == 810 and oracle.value > 0.6  # the locked text tower binds a colour to the hair
    assert_figures_drawn(
        figures,
        (
            "appearance_regions.png",
            "appearance_textures.png",
            "appearance_attributes.png",
            "embedded_clip_training.png",
            "embedded_clip_zero_shot.png",
            "embedded_clip_retrieval.png",
            "embedded_clip_beard_binding.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_03_and_04_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    assert reproduce_quick(tmp_path, "03", "04")["notebooks"] == [
        "03_pair_generation.ipynb",
        "04_mapper_training.ipynb",
    ]
    statistics = pd.read_csv(results / "pair_statistics.csv").set_index("statistic")["value"]
    assert int(statistics["identity pairs"]) == 300 and int(statistics["identities"]) == 75
    assert 90 < float(statistics["yaw range (degrees)"]) <= 120
    frames, words = (
        float(statistics[f"nearest-prompt expression accuracy, {name} (lit-minilm)"])
        for name in ("held-out frames", "held-out words and frames")
    )
    assert frames > words > 1 / 23  # training wordings in new frames stay nearer their label than new words
    ablation = pd.read_csv(results / "ablation_cyclic.csv").set_index(["mapper", "loss"])
    assert len(ablation) == 4 and (ablation["seeds"] == 2).all()
    assert (
        ablation.loc[("MLP_id", "L2"), "paper"] == 8.33e-5
        and ablation.loc[("MLP_exp", "L2 + cyclic"), "paper"] == 6.87e-4
    )
    assert (ablation["held_out_mse_mean"] > 0).all()
    sweep = pd.read_csv(results / "mapper_exp_noise.csv")
    assert list(sweep["input_noise"]) == [0.0, 0.6] and sweep["validation_accuracy"].between(0, 1).all()
    faithfulness = pd.read_csv(results / "text2geometry_eval.csv")
    assert set(faithfulness["kind"]) == {"expression", "geometry"}
    assert set(faithfulness["kind"][faithfulness["mappers"].str.startswith("paper MLP_exp")]) == {"expression"}
    assert set(faithfulness["found"][faithfulness["kind"] == "geometry"]) <= {"low", "middle", "high"}
    # The shipped mappers on held-out wordings: far above the 1/23 chance of the expression labels.
    shipped = faithfulness[faithfulness["mappers"].str.startswith("shipped") & (faithfulness["kind"] == "expression")]
    assert shipped["faithful"].mean() > 0.5
    assert_figures_drawn(
        figures,
        (
            "pairs_samples.png",
            "pairs_statistics.png",
            "pairs_expression_similarity.png",
            "mappers_training.png",
            "text2geometry_faithfulness.png",
            "text2head_gallery.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_06_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    assert reproduce_quick(tmp_path, "06")["notebooks"] == ["06_controlnet_training.ipynb"]
    model = pd.read_csv(results / "texture_model.csv").set_index("part")
    assert list(model.index) == ["vae", "unet", "controlnet"] and (model["file_mb"] <= 16).all()
    knowledge = pd.read_csv(results / "texture_prompt_knowledge.csv")
    assert (
        len(knowledge) == 6 and (knowledge["n"] == 32).all() and (knowledge[["r2_L", "r2_a", "r2_b"]] <= 1).all().all()
    )
    assert_figures_drawn(
        figures,
        (
            "texture_training_triples.png",
            "texture_training_curves.png",
            "texture_snapshots.png",
            "texture_control_strength.png",
            "texture_held_out_prompts.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_07_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    assert reproduce_quick(tmp_path, "07")["notebooks"] == ["07_rectification.ipynb"]
    # 8 of the 38 validation prompts (every attribute among them), on one head
    validation = pd.read_csv(results / "texture_sampling_validation.csv")
    assert len(validation) == 2 and (validation["textures"] == 8).all()
    accuracies = ["hair_colour", "skin", "lipstick", "beard_colour", "style", "colour attributes", "all attributes"]
    assert validation[accuracies].stack().between(0, 1).all()
    summary = pd.read_csv(results / "texture_eval.csv").set_index("measure")
    assert 0 <= summary.loc["attribute accuracy: colour attributes", "value"] <= 1
    assert 0 <= summary.loc["detection rate: full texture", "value"] <= 1
    items = pd.read_csv(results / "texture_eval_items.csv")
    assert len(items) == 5 and items["clip_generated"].between(-1, 1).all()
    assert_figures_drawn(
        figures,
        (
            "rectification.png",
            "rectification_applied.png",
            "rectification_detection_inputs.png",
            "texture_evaluation.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_08_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    reproduce_quick(tmp_path, "08")
    table = pd.read_csv(results / "clip_score_table.csv").set_index("method")
    assert list(table.index) == ["CLIP-Head (ours)", "optimisation (ClipFace-style)", "retrieval", "random"]
    assert (table[["ViT-B/16", "ViT-L/14", "ViT-H/14"]] == "not available").all().all()  # no weights, no numbers
    assert table["lit-minilm (embedded)"].str.contains("±").all()
    items = pd.read_csv(results / "clip_score_items.csv")
    assert len(items) == 8 and items["clip lit-minilm (embedded)"].between(-1, 1).all()  # 2 prompts, 4 methods
    assert_figures_drawn(
        figures,
        (
            "comparison_methods.png",
            "gallery_expressions.png",
            "gallery_stylisations.png",
            "explore_identity_sweep.png",
        ),
    )


@pytest.mark.slow
def test_reproduce_10_quick(tmp_path):
    results, figures = tmp_path / "results", tmp_path / "figures"
    report = reproduce_quick(tmp_path, "10")
    timings = pd.read_csv(results / "explorer_timings.csv").set_index("change")
    assert list(timings.index) == ["new prompt", "identity 1 → +2σ", "identity 1 → −2σ", "expression → surprised"]
    assert timings.loc["new prompt", "texture"] > 0 and (timings.iloc[1:]["texture"] == 0).all()  # texture re-used
    assert (timings["geometry"] > 0).all()
    assert_figures_drawn(figures, ("explorer_one_texture.png",))
    # The panel, rendered without a front end, is the picture of its head.
    rendered = results / "notebooks" / "10_explorer.md"
    assert report["rendered"] == [str(rendered)]
    links = image_links(rendered.read_text())
    assert len(links) == 2 and all((rendered.parent / link).resolve().is_file() for link in links)


def test_reproduce_09_without_weights_explains_and_skips(tmp_path):
    report = reproduce_quick(tmp_path, "09")
    assert report["notebooks"] == ["09_official_weights.ipynb"]
    markdown = (tmp_path / "results" / "notebooks" / "09_official_weights.md").read_text()
    assert "skipped: give nphm_dir" in markdown and "cliphead sample head --head-weights nphm:" in markdown
    assert not (tmp_path / "figures").exists() or not any((tmp_path / "figures").iterdir())  # nothing drawn
