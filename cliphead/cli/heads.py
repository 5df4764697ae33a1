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
        "deformation. --head-weights nphm:EXP_DIR loads NPHM's published checkpoints instead (the paper's "
        "head model; --backend is then ignored): the head of the codes in --codes (z_id, 1344 numbers, and "
        "optionally z_exp, 200) is extracted on NPHM's grid at --res and written without landmarks (NPHM has "
        "no 68 Multi-PIE landmarks); without z_exp the neutral identity is written undeformed.",
        note="labels: " + ", ".join(EXPRESSION_LABELS),
        examples=[
            "cliphead sample head --seed 3 --expression laughing --remesh 160 --out out/head.obj",
            "cliphead sample head --backend neural --seed 3 --expression laughing --out out/neural.obj",
            "cliphead sample head --head-weights nphm:nphm_exp,anchors=NPHM/assets/anchors_39.npy "
            "--codes codes.npz --out out/nphm.obj",
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
    sample.add_argument(
        "--res", type=int, default=256, help="neural, nphm: marching-cubes grid resolution (default 256)"
    )
    sample.add_argument(
        "--weights",
        "--head-weights",
        dest="weights",
        metavar="WEIGHTS",
        help="neural: a head model .safetensors (default: the embedded model); or NPHM's published checkpoints, "
        "nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]: EXP_DIR holds nphm_identity_space_pretrained/ and "
        "nphm_expression_space_pretrained/ (each configs.yaml + checkpoints/checkpoint_epoch_N.tar, loaded "
        "weights-only and strictly); anchors= is assets/anchors_39.npy of your NPHM checkout (default: "
        "EXP_DIR/anchors_39.npy or EXP_DIR/assets/anchors_39.npy; nphm_lat_mean.npy and nphm_lat_std.npy beside "
        "it, when present, let --seed draw a code); epochs= picks the checkpoints (default 15000:2500)",
    )
    sample.add_argument(
        "--codes",
        metavar="CODES.npz",
        help="nphm: the codes to extract: z_id (1344 numbers) and optionally z_exp (200); default: a --seed draw "
        "from NPHM's latent statistics, when given",
    )
    sample.add_argument(
        "--frame",
        choices=("ict", "nphm"),
        default="ict",
        help="nphm: write the mesh in the project's ICT frame (cm; default) or in NPHM's own coordinates (FLAME x 4)",
    )
    sample.add_argument("--out", required=True, help="output mesh path (.obj)")
    sample.add_argument("--force", action="store_true", help="replace existing files")


def run_sample_head(args: argparse.Namespace) -> None:
    """Sample and write a head (:func:`cliphead.heads.export.sample_head_file`, or for NPHM's checkpoints
    :func:`cliphead.heads.nphm_export.sample_nphm_file`)."""
    if args.weights and args.weights.startswith("nphm:"):
        return _run_sample_nphm(args)
    if args.codes or args.frame != "ict":
        raise ValueError("--codes and --frame nphm need NPHM's checkpoints: --head-weights nphm:EXP_DIR.")
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


def _run_sample_nphm(args: argparse.Namespace) -> None:
    """Extract and write the NPHM head of ``--codes`` (:func:`cliphead.heads.nphm_export.sample_nphm_file`)."""
    if args.expression.strip().lower() != "neutral" or args.remesh:
        raise ValueError(
            "NPHM has no labelled expressions and is not re-meshed: give its expression code as z_exp in --codes "
            "(and drop --expression/--remesh)."
        )
    from cliphead.heads.nphm_export import sample_nphm_file

    payload = sample_nphm_file(
        Path(args.out), args.weights, args.codes, args.seed, resolution=args.res, frame=args.frame, force=args.force
    )
    expression = "with its expression" if payload["expression"] else "neutral"
    summary = (
        f"wrote {payload['mesh']} ({payload['n_vertices']} vertices, {expression}, {args.frame.upper()} frame) from "
        f"{args.weights}; extracted on NPHM's grid at {args.res} in {payload['extraction_seconds']:.1f} s"
    )
    emit(summary, payload)


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
