"""``cliphead reproduce``: run the numbered notebooks headless with papermill, in order.

Executed copies go to ``runs/`` (never into ``notebooks/``, which stays clean). The full setting
writes ``results/`` and ``figures/``; ``--quick`` writes under ``runs/quick/`` unless told otherwise,
so a quick run never overwrites the committed numbers. Afterwards every CSV in the results folder
is compared with what was there before and the numbers that changed are listed.

Each executed copy is rendered to Markdown with its pictures into ``<results>/notebooks/``
(:mod:`cliphead.lab.notebook_markdown`), and the results folder gets its index ``README.md``
(:mod:`cliphead.lab.results_index`). :func:`render_and_index` does only these two steps, from the executed
copies already under ``runs/<mode>/notebooks/`` (``cliphead reproduce --index-only``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from cliphead.assets import repository_root
from cliphead.lab.notebook_markdown import render_notebook
from cliphead.lab.results_index import RENDERED_DIR, write_results_index

KERNEL = "python3"


def notebook_paths(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks, in order; ``only`` keeps those with a given number (``"03"``, the notebook
    numbered 03) or whose name starts with a given stem (``"02_appearance"``)."""
    paths = sorted((repository_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return paths

    def selects(item: str, path: Path) -> bool:
        return path.name[:2] == item.zfill(2) if item.isdigit() else path.stem.startswith(item)

    unknown = [item for item in only if not any(selects(item, path) for path in paths)]
    if unknown:
        raise ValueError(f"No notebook matches {', '.join(unknown)}; have {[p.name for p in paths]}.")
    return [path for path in paths if any(selects(item, path) for item in only)]


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to the checkout when inside it (the notebooks run there), so records carry no machine paths."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _snapshot(results_dir: Path) -> dict[str, pd.DataFrame]:
    return {path.name: pd.read_csv(path) for path in sorted(results_dir.glob("*.csv"))}


def changed_numbers(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Per CSV, the cells whose numbers differ (or 'new file' / 'shape changed')."""
    changes: dict[str, list[str]] = {}
    for name, new in after.items():
        old = before.get(name)
        if old is None:
            changes[name] = ["new file"]
        elif old.shape != new.shape or list(old.columns) != list(new.columns):
            changes[name] = [f"shape {old.shape} -> {new.shape}"]
        else:
            cells = []
            for column in new.select_dtypes("number").columns:
                for row, (a, b) in enumerate(zip(old[column], new[column])):
                    if not (pd.isna(a) and pd.isna(b)) and a != b:
                        cells.append(f"row {row} {column}: {a:.6g} -> {b:.6g}")
            if cells:
                changes[name] = cells
    return changes


def _folders(quick: bool, results_dir: str | None, figures_dir: str | None) -> tuple[Path, Path, Path]:
    """The run folder (``runs/quick`` or ``runs/full``), the results folder and the figures folder."""
    root = repository_root()
    run_root = root / "runs" / ("quick" if quick else "full")
    results = Path(results_dir) if results_dir else (run_root / "results" if quick else root / "results")
    figures = Path(figures_dir) if figures_dir else (run_root / "figures" if quick else root / "figures")
    return run_root, results.resolve(), figures.resolve()


def render_executed(executed: Path, results: Path, figures: Path) -> Path:
    """The rendered Markdown copy of one executed notebook, in ``results/notebooks/``."""
    source = repository_root() / "notebooks" / executed.name
    return render_notebook(executed, results / RENDERED_DIR, figures, source=source if source.exists() else None)


def render_and_index(
    quick: bool = False,
    only: list[str] | None = None,
    results_dir: str | None = None,
    figures_dir: str | None = None,
) -> dict:
    """Render the executed copies that exist under ``runs/<mode>/notebooks/`` (those of ``only``, if given)
    and rewrite the results folder's index, running no notebook."""
    run_root, results, figures = _folders(quick, results_dir, figures_dir)
    names = {path.name for path in notebook_paths(only)}
    executed = [path for path in sorted((run_root / "notebooks").glob("*.ipynb")) if path.name in names]
    results.mkdir(parents=True, exist_ok=True)
    rendered = [str(render_executed(path, results, figures)) for path in executed]
    return {
        "quick": quick,
        "rendered": rendered,
        "index": str(write_results_index(results)),
        "results_dir": str(results),
        "executed_dir": str(run_root / "notebooks"),
    }


def reproduce(
    quick: bool = False,
    only: list[str] | None = None,
    results_dir: str | None = None,
    figures_dir: str | None = None,
) -> dict:
    """Execute the notebooks, render each and index the results; returns per-notebook seconds, the rendered
    copies and the numbers that changed."""
    import papermill

    root = repository_root()
    run_root, results, figures = _folders(quick, results_dir, figures_dir)
    results.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    (run_root / "notebooks").mkdir(parents=True, exist_ok=True)
    before = _snapshot(results)
    parameters = {"quick": quick, "results_dir": _relative(results, root), "figures_dir": _relative(figures, root)}
    seconds, rendered = {}, []
    for path in notebook_paths(only):
        start = time.perf_counter()
        executed = run_root / "notebooks" / path.name
        papermill.execute_notebook(
            str(path),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(root),
            progress_bar=False,
        )
        seconds[path.name] = round(time.perf_counter() - start, 1)
        rendered.append(str(render_executed(executed, results, figures)))
    return {
        "quick": quick,
        "notebooks": list(seconds),
        "seconds": seconds,
        "results_dir": str(results),
        "figures_dir": str(figures),
        "executed_dir": str(run_root / "notebooks"),
        "rendered": rendered,
        "index": str(write_results_index(results)),
        "changed": changed_numbers(before, _snapshot(results)),
    }


def format_report(report: dict) -> str:
    """The human-readable summary of a :func:`reproduce` or :func:`render_and_index` report."""
    lines = [f"ran {name} in {seconds:.0f} s" for name, seconds in report.get("seconds", {}).items()]
    lines.append(f"executed copies in {report['executed_dir']}; results in {report['results_dir']}")
    lines += [f"rendered {path}" for path in report.get("rendered", [])]
    if report.get("index"):
        lines.append(f"results index {report['index']}")
    if "changed" not in report:
        return "\n".join(lines)
    if not report["changed"]:
        lines.append("no number in the results changed")
    for name, cells in report["changed"].items():
        lines.append(f"{name}: {len(cells)} change(s)")
        lines += [f"  {cell}" for cell in cells[:10]] + ([f"  … {len(cells) - 10} more"] if len(cells) > 10 else [])
    return "\n".join(lines)
