"""``align uv``, ``build layout`` and ``build landmark-map``: the aligned UV parametrisation (CLIP-Head §2.2), its
fixed layout, and the map that finds the landmarks of a head that comes without them."""

from __future__ import annotations

import argparse
from pathlib import Path

from cliphead.cli.common import CommandTree, emit


def register(commands: CommandTree) -> None:
    """Add ``align uv`` and (lab) ``build layout`` and ``build landmark-map``."""
    align = commands.command(
        "align",
        "uv",
        run_align_uv,
        help="cut along the back seam, map the boundary onto the fixed curve, harmonic inside",
        description="Writes DIR/mesh.obj (with texture coordinates), DIR/uv_normal.png, DIR/preview.png, "
        "DIR/metrics.json (qce_median, ase_median, n_vertices, n_faces, seconds, landmarks: given, detected or "
        "none, …) and DIR/landmarks_uv.json. The head's 68 landmarks, which pull its features onto the layout's, "
        "come from --landmarks, else <mesh stem>.landmarks.json, else FaceMesh on renders of the mesh. Before the "
        "map, a repair stage splits non-manifold edges and vertices, caps holes besides the neck, cuts a ragged neck "
        "again cleanly (and a closed head at its neck) and closes handles (tunnels) by re-meshing, each listed in "
        "metrics.json (repairs, repair, with the Hausdorff distance of a re-meshing); --no-repair refuses them "
        "instead. The map works in the ICT frame (centimetres, y up, face towards +z, symmetric about x = 0): the "
        "mesh's frame is found from its size and neck (or given with --frame) and mesh.obj is written back in it.",
        examples=[
            "cliphead align uv out/head.obj --out out/uv",
            "cliphead align uv closed_head.obj --crop-neck -12 --out out/closed_uv",
            "cliphead align uv scan.obj --no-repair --out out/strict_uv",
        ],
    )
    align.add_argument("mesh", help="head mesh (OBJ, PLY, STL, OFF, …), open at the neck or closed")
    align.add_argument("--out", required=True, help="output folder")
    align.add_argument(
        "--curve",
        choices=("conformal", "circle"),
        default="conformal",
        help="the fixed boundary curve (default conformal: the template's LSCM boundary)",
    )
    align.add_argument(
        "--landmarks", help="68 landmarks JSON (default: <mesh stem>.landmarks.json if present, else found on renders)"
    )
    align.add_argument("--no-landmarks", action="store_true", help="skip the landmark warp (the paper's plain map)")
    align.add_argument("--size", type=int, default=512, help="UV normal map size (default 512)")
    align.add_argument(
        "--no-repair",
        action="store_true",
        help="refuse non-manifold edges or vertices, holes besides the neck and handles instead of repairing them "
        "(by default they are split, capped and closed by re-meshing; every repair is listed in metrics.json)",
    )
    align.add_argument(
        "--frame",
        metavar="UNITS,UP,FRONT",
        help="the mesh's frame, e.g. 'mm,z,-y' (millimetres, z up, face towards -y) or 'ict' (cm, y up, face "
        "towards +z); default: found from the head's size and neck (without --no-repair). The outputs stay in "
        "the mesh's frame",
    )
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

    landmark_map = commands.command(
        "build",
        "landmark-map",
        run_build_landmark_map,
        help="refit the shipped map from FaceMesh points on renders to the 68 landmarks (automatic landmarks)",
        description="Renders heads of the ICT and neural models whose 68 landmarks are known (seeds 1000-1029 of "
        "each), finds FaceMesh's points on them and fits each landmark as a convex combination of those points. "
        "Deterministic; a few minutes on a CPU.",
        examples=["cliphead build landmark-map", "cliphead build landmark-map --out out/landmark_map.json"],
        lab=True,
    )
    landmark_map.add_argument("--out", help="where to write it (default: the package's cliphead/uv/landmark_map.json)")


def run_align_uv(args: argparse.Namespace) -> None:
    """Align the mesh's UV map (:func:`cliphead.uv.export.align_file`); the summary lists the repairs."""
    from cliphead.uv.export import align_file

    metrics = align_file(
        Path(args.mesh),
        Path(args.out),
        curve=args.curve,
        landmarks=args.landmarks,
        use_landmarks=not args.no_landmarks,
        size=args.size,
        repair=not args.no_repair,
        crop_neck=args.crop_neck,
        frame=args.frame,
        force=args.force,
    )
    emit(
        f"aligned UV of {args.mesh}: {metrics['n_vertices']} vertices, median QCE {metrics['qce_median']:.3f}, "
        f"median ASE {metrics['ase_median']:.3f}, {metrics['flipped_faces']} flipped faces, "
        f"landmark warp {'on (landmarks: ' + metrics['landmarks'] + ')' if metrics['landmark_warp'] else 'off'}, "
        f"{metrics['seconds']:.2f} s\n"
        f"repairs: {'; '.join(metrics['repairs']) or 'none'}\n"
        f"wrote {args.out}/mesh.obj, uv_normal.png, preview.png, metrics.json",
        metrics,
    )


def run_build_layout(args: argparse.Namespace) -> None:
    """Regenerate the layout file (lab: :func:`cliphead.lab.uv.layout_build.write_layout`)."""
    from cliphead.lab.uv.layout_build import write_layout

    path = write_layout(Path(args.out)) if args.out else write_layout()
    emit(f"wrote {path}", {"layout": str(path)})


def run_build_landmark_map(args: argparse.Namespace) -> None:
    """Refit the landmark map (lab: :func:`cliphead.lab.uv.landmark_map.write_landmark_map`)."""
    from cliphead.lab.uv.landmark_map import write_landmark_map

    path = write_landmark_map(Path(args.out)) if args.out else write_landmark_map()
    emit(f"wrote {path}", {"landmark_map": str(path)})
