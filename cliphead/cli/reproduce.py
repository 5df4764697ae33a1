"""``reproduce`` (lab): run the notebooks headless and regenerate ``figures/`` and ``results/``, with a rendered
Markdown copy of each executed notebook in ``results/notebooks/`` and the index ``results/README.md``."""

from __future__ import annotations

import argparse

from cliphead.cli.common import CommandTree, emit


def register(commands: CommandTree) -> None:
    """Add ``reproduce``."""
    reproduce = commands.verb(
        "reproduce",
        run_reproduce,
        help="run the notebooks headless and regenerate figures/ and results/",
        examples=[
            "cliphead reproduce --only 03 --quick",
            "cliphead reproduce --only 02_appearance",
            "cliphead reproduce",
            "cliphead reproduce --index-only",
        ],
        lab=True,
    )
    reproduce.add_argument("--quick", action="store_true", help="small settings (minutes on a CPU); writes under runs/")
    reproduce.add_argument(
        "--only",
        nargs="+",
        metavar="NN",
        help="notebook numbers (03: the notebook numbered 03) or name stems (02_appearance)",
    )
    reproduce.add_argument(
        "--results-dir", help="where results go (default results/, or runs/quick/results with --quick)"
    )
    reproduce.add_argument(
        "--figures-dir", help="where figures go (default figures/, or runs/quick/figures with --quick)"
    )
    reproduce.add_argument(
        "--index-only",
        action="store_true",
        help="run no notebook: render the executed copies already under runs/full/notebooks/ (runs/quick/ with "
        "--quick) into the results folder's notebooks/ and rewrite its README.md index",
    )


def run_reproduce(args: argparse.Namespace) -> None:
    """Lab: :func:`cliphead.lab.reproduce.reproduce` (the report lists the numbers that changed), or with
    ``--index-only`` :func:`cliphead.lab.reproduce.render_and_index`."""
    from cliphead.lab.reproduce import format_report, render_and_index, reproduce

    run = render_and_index if args.index_only else reproduce
    report = run(quick=args.quick, only=args.only, results_dir=args.results_dir, figures_dir=args.figures_dir)
    emit(format_report(report), report)
