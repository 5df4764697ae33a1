"""``cliphead reproduce``: run the numbered notebooks headless with papermill, in order.

Executed copies go to ``runs/`` (never into ``notebooks/``, which stays clean). The full setting
writes ``results/`` and ``figures/``; ``--quick`` writes under ``runs/quick/`` unless told otherwise,
so a quick run never overwrites the committed numbers. Afterwards every CSV in the results folder
is compared with what was there before and the numbers that changed are listed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from cliphead.assets import repository_root

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


def reproduce(
    quick: bool = False,
    only: list[str] | None = None,
    results_dir: str | None = None,
    figures_dir: str | None = None,
) -> dict:
    """Execute the notebooks; returns per-notebook seconds and the numbers that changed."""
    import papermill

    root = repository_root()
    run_root = root / "runs" / ("quick" if quick else "full")
    results = Path(results_dir) if results_dir else (run_root / "results" if quick else root / "results")
    figures = Path(figures_dir) if figures_dir else (run_root / "figures" if quick else root / "figures")
    results, figures = results.resolve(), figures.resolve()
    results.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    (run_root / "notebooks").mkdir(parents=True, exist_ok=True)
    before = _snapshot(results)
    parameters = {"quick": quick, "results_dir": _relative(results, root), "figures_dir": _relative(figures, root)}
    seconds = {}
    for path in notebook_paths(only):
        start = time.perf_counter()
        papermill.execute_notebook(
            str(path),
            str(run_root / "notebooks" / path.name),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(root),
            progress_bar=False,
        )
        seconds[path.name] = round(time.perf_counter() - start, 1)
    return {
        "quick": quick,
        "notebooks": list(seconds),
        "seconds": seconds,
        "results_dir": str(results),
        "figures_dir": str(figures),
        "executed_dir": str(run_root / "notebooks"),
        "changed": changed_numbers(before, _snapshot(results)),
    }


def format_report(report: dict) -> str:
    lines = [f"ran {name} in {seconds:.0f} s" for name, seconds in report["seconds"].items()]
    lines.append(f"executed copies in {report['executed_dir']}; results in {report['results_dir']}")
    if not report["changed"]:
        lines.append("no number in the results changed")
    for name, cells in report["changed"].items():
        lines.append(f"{name}: {len(cells)} change(s)")
        lines += [f"  {cell}" for cell in cells[:10]] + ([f"  … {len(cells) - 10} more"] if len(cells) > 10 else [])
    return "\n".join(lines)
