"""Rendered copies of executed notebooks: Markdown with their outputs, readable on any Git host.

``cliphead reproduce`` renders each notebook it ran from the executed copy papermill wrote under
``runs/<mode>/notebooks/`` into ``<results>/notebooks/<name>.md``. Text, tables and pictures come along.
A picture the notebook displayed from a file in the figures folder (every figure the notebooks save) is
linked there by a relative path, not copied; any other picture goes to ``<name>_files/`` beside the
Markdown. The source notebooks in ``notebooks/`` stay without outputs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import nbformat

#: Inline CSS that pandas puts before every HTML table; Git hosts would show it as text.
_STYLE_BLOCK = re.compile(r"<style scoped>.*?</style>\s*", re.DOTALL)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def figure_digests(figures_dir: str | os.PathLike | None) -> dict[str, Path]:
    """sha256 of every picture file in ``figures_dir`` → its path (empty when there is no such folder)."""
    if figures_dir is None or not Path(figures_dir).is_dir():
        return {}
    pictures = sorted(Path(figures_dir).glob("*.png")) + sorted(Path(figures_dir).glob("*.jpg"))
    return {_digest(path.read_bytes()): path for path in pictures}


def _without_noise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without stderr streams (progress bars, warnings), which say nothing to a reader."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                output
                for output in cell.get("outputs", [])
                if not (output.get("output_type") == "stream" and output.get("name") == "stderr")
            ]
    return notebook


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def render_notebook(
    executed: str | os.PathLike,
    out_dir: str | os.PathLike,
    figures_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
) -> Path:
    """Render the executed notebook ``executed`` to ``out_dir/<name>.md``; returns the Markdown's path.

    Pictures whose bytes equal a file of ``figures_dir`` are linked to that file; the others are written
    to ``out_dir/<name>_files/`` (emptied first, so no stale picture stays). ``source``: the notebook the
    copy was executed from, linked in the header.
    """
    from nbconvert import MarkdownExporter

    executed, out_dir = Path(executed), Path(out_dir)
    stem = executed.stem
    files_dir = f"{stem}_files"
    notebook = _without_noise(nbformat.read(executed, as_version=4))
    body, resources = MarkdownExporter().from_notebook_node(
        notebook, resources={"output_files_dir": files_dir, "unique_key": stem}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / files_dir, ignore_errors=True)
    figures = figure_digests(figures_dir)
    for name, data in sorted(resources.get("outputs", {}).items()):
        figure = figures.get(_digest(data))
        if figure is not None:
            body = body.replace(f"]({name})", f"]({_relative(figure, out_dir)})")
        else:
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    header = f"<!-- Rendered by `cliphead reproduce` from the executed copy of `{executed.name}`; do not edit. -->\n"
    if source is not None:
        header += f"\n*Source: [`{Path(source).name}`]({_relative(Path(source), out_dir)}), executed headless.*\n"
    path = out_dir / f"{stem}.md"
    path.write_text(header + "\n" + _tidy(_STYLE_BLOCK.sub("", body)) + "\n", encoding="utf-8")
    return path


def _tidy(markdown: str) -> str:
    """No trailing spaces, no runs of blank lines (the exporter pads every output with them)."""
    lines = "\n".join(line.rstrip() for line in markdown.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip()


def image_links(markdown: str) -> list[str]:
    """The targets of the Markdown image links ``![alt](target)`` in ``markdown``."""
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown)
