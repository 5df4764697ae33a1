"""``align uv`` and ``build layout``: the aligned UV parametrisation (CLIP-Head §2.2) and its fixed layout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cliphead.cli.common import CommandTree, emit


def register(commands: CommandTree) -> None:
    """Add ``align uv`` and (lab) ``build layout``."""
    align = commands.command(
        "align",
        "uv",
        run_align_uv,
        help="cut along the back seam, map the boundary onto the fixed curve, harmonic inside",
        description="Writes DIR/mesh.obj (with texture coordinates), DIR/uv_normal.png, DIR/preview.png, "
        "DIR/metrics.json (qce_median, ase_median, n_vertices, n_faces, seconds, …) and, when the "
        "head's landmarks are known, DIR/landmarks_uv.json. The mesh must be in the ICT frame "
        "(centimetres, y up, face towards +z, symmetric about x = 0) with an open neck.",
        examples=[
            "cliphead align uv out/head.obj --out out/uv",
            "cliphead align uv closed_head.obj --crop-neck -12 --fill-holes --out out/closed_uv",
        ],
    )
    align.add_argument("mesh", help="open head mesh (one neck boundary)")
    align.add_argument("--out", required=True, help="output folder")
    align.add_argument(
        "--curve",
        choices=("conformal", "circle"),
        default="conformal",
        help="the fixed boundary curve (default conformal: the template's LSCM boundary)",
    )
    align.add_argument("--landmarks", help="68 landmarks JSON (default: <mesh stem>.landmarks.json if present)")
    align.add_argument("--no-landmarks", action="store_true", help="skip the landmark warp (the paper's plain map)")
    align.add_argument("--size", type=int, default=512, help="UV normal map size (default 512)")
    align.add_argument("--fill-holes", action="store_true", help="cap holes other than the neck instead of failing")
    align.add_argument("--crop-neck", type=float, metavar="Y", help="crop a closed mesh at y = Y first")
    align.add_argument("--force", action="store_true", help="write into a non-empty folder")

    layout = commands.command(
        "build",
        "layout",
        run_build_layout,
        help="regenerate the shipped fixed layout (boundary curves + landmark targets) from the template head",
        examples=["cliphead build layout", "cliphead build layout --out out/layout.json"],
        lab=True,
    )
    layout.add_argument("--out", help="where to write it (default: the package's cliphead/uv/layout.json)")


def run_align_uv(args: argparse.Namespace) -> None:
    """Align the mesh's UV map (:func:`cliphead.uv.export.align_file`); repairs go to stderr as notes."""
    from cliphead.uv.export import align_file

    metrics = align_file(
        Path(args.mesh),
        Path(args.out),
        curve=args.curve,
        landmarks=args.landmarks,
        use_landmarks=not args.no_landmarks,
        size=args.size,
        fill_holes=args.fill_holes,
        crop_neck=args.crop_neck,
        force=args.force,
    )
    for note in metrics["repairs"]:
        print(f"note: {note}", file=sys.stderr)
    emit(
        f"aligned UV of {args.mesh}: {metrics['n_vertices']} vertices, median QCE {metrics['qce_median']:.3f}, "
        f"median ASE {metrics['ase_median']:.3f}, {metrics['flipped_faces']} flipped faces, "
        f"landmark warp {'on' if metrics['landmark_warp'] else 'off'}, {metrics['seconds']:.2f} s\n"
        f"wrote {args.out}/mesh.obj, uv_normal.png, preview.png, metrics.json",
        metrics,
    )


def run_build_layout(args: argparse.Namespace) -> None:
    """Regenerate the layout file (lab: :func:`cliphead.lab.uv.layout_build.write_layout`)."""
    from cliphead.lab.uv.layout_build import write_layout

    path = write_layout(Path(args.out)) if args.out else write_layout()
    emit(f"wrote {path}", {"layout": str(path)})
