"""The results index (``results/README.md``, written from the CSVs) and the rendered notebook copies."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from cliphead.assets import repository_root
from cliphead.lab.notebook_markdown import image_links, render_notebook
from cliphead.lab.results_index import TABLES, format_cell, index_text, markdown_table, write_results_index


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_index_holds_the_rows_of_a_csv(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame(
        {"method": ["aligned", "original"], "qce_median": [1.1183248, 4.3110], "n_heads": [46, 46], "flips": [0.0, 3.0]}
    ).to_csv(results / "uv_metrics.csv", index=False)
    pd.DataFrame({"x": [0.000123456]}).to_csv(results / "something_new.csv", index=False)
    (results / "notebooks").mkdir()
    (results / "notebooks" / "05_uv_alignment.md").write_text("# 05\n")

    text = write_results_index(results).read_text()
    assert "| aligned | 1.118 | 46 | 0 |" in text and "| original | 4.311 | 46 | 3 |" in text
    assert "|---|---:|---:|---:|" in text  # numbers right-aligned
    assert TABLES["uv_metrics.csv"].description in text
    assert "## 05 · The aligned UV parametrisation" in text  # the notebook's own title
    assert "(notebooks/05_uv_alignment.md)" in text and "cliphead reproduce --only 05" in text
    assert "## Tables without a description" in text and "| 0.0001235 |" in text
    assert text.index("uv_metrics.csv") < text.index("something_new.csv")


def test_long_tables_are_cut_with_a_link(tmp_path):
    pd.DataFrame({"head": range(200), "qce": [1.5] * 200}).to_csv(tmp_path / "uv_metrics_per_head.csv", index=False)
    text = index_text(tmp_path)
    limit = TABLES["uv_metrics_per_head.csv"].max_rows
    assert f"| {limit - 1} | 1.5 |" in text and f"| {limit} | 1.5 |" not in text
    assert f"The first {limit} of 200 rows" in text


def test_cells_are_rounded_and_escaped():
    assert [format_cell(v) for v in (0.009861171245, 8.33e-05, 12.0, float("nan"), "a|b", "0.9978171", True)] == [
        "0.009861",
        "8.33e-05",
        "12",
        "",
        "a\\|b",
        "0.9978",
        "True",
    ]
    assert markdown_table(pd.DataFrame({"a": ["x"], "b": [2.5]})) == "| a | b |\n|---|---:|\n| x | 2.5 |"


def test_committed_index_is_current():
    results = repository_root() / "results"
    assert (results / "README.md").read_text() == index_text(results), "run: cliphead reproduce --index-only"
    assert set(path.name for path in results.glob("*.csv")) <= set(TABLES)  # every table is described


def test_rendered_notebook_has_headings_and_resolving_pictures(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "saved.png").write_bytes(_png("red"))
    picture = {"image/png": base64.b64encode(_png("red")).decode(), "text/plain": "<Image>"}
    inline = {"image/png": base64.b64encode(_png("blue")).decode(), "text/plain": "<Figure>"}
    notebook = new_notebook(
        cells=[
            new_markdown_cell("# 05 · A title\n\nSome lesson text."),
            new_code_cell(
                "show()",
                outputs=[
                    new_output("display_data", data=picture),
                    new_output("display_data", data=inline),
                    new_output("stream", name="stderr", text="progress bar 100%"),
                    new_output("stream", name="stdout", text="median QCE 1.118"),
                ],
            ),
            new_markdown_cell("## Against the paper"),
        ],
        metadata={"language_info": {"name": "python"}},
    )
    executed = tmp_path / "runs" / "05_demo.ipynb"
    executed.parent.mkdir()
    nbformat.write(notebook, executed)

    out = tmp_path / "results" / "notebooks"
    markdown = render_notebook(executed, out, figures).read_text()
    assert "# 05 · A title" in markdown and "## Against the paper" in markdown and "Some lesson text." in markdown
    assert "median QCE 1.118" in markdown and "progress bar" not in markdown
    links = image_links(markdown)
    assert len(links) == 2 and all((out / link).resolve().is_file() for link in links)
    assert (out / links[0]).resolve() == (figures / "saved.png").resolve()  # linked, not copied
    assert [path.name for path in (out / "05_demo_files").iterdir()] == [Path(links[1]).name]
