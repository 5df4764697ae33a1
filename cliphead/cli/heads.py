"""``sample head`` and ``fit head``: heads from the ICT model or the neural head model, and scans fitted."""

from __future__ import annotations

import argparse
from pathlib import Path

from cliphead.cli.common import CommandTree, emit
from cliphead.heads.expressions import EXPRESSION_LABELS


def register(commands: CommandTree) -> None:
    """Add ``sample head`` and ``fit head``."""
    _register_sample(commands)
    _register_fit(commands)


def _register_sample(commands: CommandTree) -> None:
    """Add ``sample head``."""
    sample = commands.command(
        "sample",
        "head",
        run_sample_head,
        help="a random identity with a labelled expression, from the ICT model or the neural head model",
        description="Write a head mesh and its 68 landmarks (<stem>.landmarks.json) beside it. --backend ict "
        "draws ICT identity weights ~ N(0, 1); --backend neural draws z_id from the trained latent "
        "distribution, extracts the SDF coarse-to-fine at --res and applies the expression as a forward "
        "deformation.",
        note="labels: " + ", ".join(EXPRESSION_LABELS),
        examples=[
            "cliphead sample head --seed 3 --expression laughing --remesh 160 --out out/head.obj",
            "cliphead sample head --backend neural --seed 3 --expression laughing --out out/neural.obj",
        ],
    )
    sample.add_argument("--seed", type=int, default=0, help="identity seed (default 0)")
    sample.add_argument("--expression", default="neutral", help="a labelled expression (default neutral)")
    sample.add_argument("--strength", type=float, default=1.0, help="scales the expression's weights (default 1)")
    sample.add_argument(
        "--remesh",
        type=int,
        metavar="RES",
        default=0,
        help="re-mesh by marching cubes on a RES grid and crop at the neck plane, like an NPHM "
        "mesh (160 gives ~40k vertices, 176 ~50k); default: the ICT skin itself",
    )
    sample.add_argument(
        "--backend",
        choices=("ict", "neural"),
        default="ict",
        help="ict: the linear ICT-FaceKit model (default); neural: the neural head model",
    )
    sample.add_argument("--res", type=int, default=256, help="neural: marching-cubes grid resolution (default 256)")
    sample.add_argument("--weights", help="neural: a head model .safetensors (default: the embedded model)")
    sample.add_argument("--out", required=True, help="output mesh path (.obj)")
    sample.add_argument("--force", action="store_true", help="replace existing files")


def run_sample_head(args: argparse.Namespace) -> None:
    """Sample and write a head (:func:`cliphead.heads.export.sample_head_file`)."""
    from cliphead.heads.export import sample_head_file

    payload = sample_head_file(
        Path(args.out),
        args.backend,
        args.seed,
        args.expression,
        args.strength,
        remesh=args.remesh,
        resolution=args.res,
        weights=args.weights,
        force=args.force,
    )
    emit(f"wrote {payload['mesh']} ({payload['n_vertices']} vertices) and {payload['landmarks']}", payload)


def _register_fit(commands: CommandTree) -> None:
    """Add ``fit head``."""
    fit = commands.command(
        "fit",
        "head",
        run_fit_head,
        help="fit the neural head model to a scan (point cloud or mesh): z_id, and z_exp with --neutral",
        description="Optimises the identity code so that the model's SDF vanishes on the points (and its "
        "gradient matches their normals, when given). With --neutral, the identity is fitted to that "
        "neutral scan and the expression code to POINTS. Writes DIR/fit.obj, DIR/fit.landmarks.json and "
        "DIR/fit.json (codes, losses, timings and, with --reference, Chamfer-L1 / normal consistency / "
        "F-scores in mm). Points are in the ICT frame (cm, y up, face towards +z).",
        examples=[
            "cliphead fit head scan.npz --out out/fit",
            "cliphead fit head smile.npz --neutral neutral.npz --reference smile.obj --out out/fit_smile",
        ],
    )
    fit.add_argument("points", help="scan: .npz (points[, normals]), .npy/.xyz (N×3 or N×6) or a mesh file")
    fit.add_argument("--neutral", help="the same person's neutral scan; then POINTS is fitted as an expression")
    fit.add_argument("--reference", help="a mesh to measure the fit against")
    fit.add_argument("--metric-points", type=int, default=200_000, help="points per surface for --reference")
    fit.add_argument("--iterations", type=int, default=300, help="optimisation steps per code (default 300)")
    fit.add_argument("--res", type=int, default=256, help="marching-cubes grid resolution (default 256)")
    fit.add_argument("--weights", help="a head model .safetensors (default: the embedded model)")
    fit.add_argument("--out", required=True, help="output folder")
    fit.add_argument("--force", action="store_true", help="write into a non-empty folder")


def run_fit_head(args: argparse.Namespace) -> None:
    """Fit the scan (:func:`cliphead.heads.export.fit_scan_file`); with --reference, print the surface metrics."""
    from cliphead.heads.export import fit_scan_file

    fit = fit_scan_file(
        args.points,
        args.out,
        neutral=args.neutral,
        reference=args.reference,
        iterations=args.iterations,
        resolution=args.res,
        weights=args.weights,
        metric_points=args.metric_points,
        force=args.force,
    )
    summary = (
        f"fitted {fit['points']} points in {fit['fit_seconds']:.1f} s; wrote {fit['mesh']}, {fit['landmarks']}, "
        f"{Path(args.out) / 'fit.json'}"
    )
    if args.reference:
        summary += (
            f"\nagainst {args.reference}: Chamfer-L1 {fit['chamfer_l1_mm']:.3f} mm, "
            f"F-score@1mm {fit['f_score_1mm']:.3f}, normal consistency {fit['normal_consistency']:.3f}"
        )
    emit(summary, fit)
