"""``cliphead``: the command line.

Every command that measures something prints a readable summary and, as the very last line of
standard output, one JSON object with the same figures (DESIGN.md, "Machine-readable output").
Bad input ends with one ``error: …`` line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

EXAMPLES = """examples:
  cliphead assets check
  cliphead head sample --seed 3 --expression laughing --remesh 160 --out out/head.obj
  cliphead uv align out/head.obj --out out/uv
  cliphead render out/uv/mesh.obj --texture out/uv/uv_normal.png --kind textured --out out/views
  cliphead bench uv
  cliphead reproduce --only 03 --quick
"""


def emit(summary: str, payload: dict) -> None:
    """Print the human summary, then the JSON line."""
    if summary:
        print(summary)
    print(json.dumps(payload, default=float))


def cmd_assets_check(args: argparse.Namespace) -> None:
    from cliphead import assets
    from cliphead.heads.ict import load_ict_model

    folder = assets.find_ict_facekit()
    start = time.perf_counter()
    model = load_ict_model(folder)
    seconds = time.perf_counter() - start
    payload = {
        "ict_facekit": str(folder),
        "n_vertices": int(model.neutral.shape[0]),
        "n_identity_modes": model.n_identity,
        "n_expression_modes": len(model.expression_names),
        "n_landmarks": int(len(model.landmark_vertices)),
        "load_seconds": round(seconds, 3),
        "cache": str(assets.cache_dir()),
    }
    emit(
        f"ICT-FaceKit: {folder}\n  {payload['n_vertices']} vertices, {model.n_identity} identity modes, "
        f"{payload['n_expression_modes']} expressions, {payload['n_landmarks']} landmarks; loaded in {seconds:.2f} s",
        payload,
    )


def cmd_assets_download(args: argparse.Namespace) -> None:
    from cliphead import assets

    folder = assets.download_ict_facekit()
    emit(f"ICT-FaceKit is in {folder}", {"ict_facekit": str(folder)})


def cmd_head_sample(args: argparse.Namespace) -> None:
    from cliphead.heads.expressions import normalise_label
    from cliphead.heads.ict import load_ict_model
    from cliphead.heads.io import landmarks_path, write_head
    from cliphead.heads.remesh import remesh_head
    from cliphead.heads.surfaces import Head, sample_identity, skin_head, watertight_skin

    out = Path(args.out)
    for path in (out, landmarks_path(out)):
        if path.exists() and not args.force:
            raise FileExistsError(f"{path} exists; choose another --out or pass --force to replace it.")
    start = time.perf_counter()
    model = load_ict_model()
    skin = skin_head(model, sample_identity(args.seed), args.expression, args.strength)
    head = skin
    if args.remesh:
        closed = watertight_skin(skin)
        head = Head(*remesh_head(closed.vertices, closed.faces, args.remesh), skin.landmarks)
    metadata = {
        "seed": args.seed,
        "expression": normalise_label(args.expression),
        "strength": args.strength,
        "remesh": args.remesh,
    }
    mesh_path, landmark_path = write_head(out, head, metadata)
    payload = {
        **metadata,
        "mesh": str(mesh_path),
        "landmarks": str(landmark_path),
        "n_vertices": int(len(head.vertices)),
        "n_faces": int(len(head.faces)),
        "seconds": round(time.perf_counter() - start, 3),
    }
    emit(f"wrote {mesh_path} ({len(head.vertices)} vertices) and {landmark_path}", payload)


def cmd_render(args: argparse.Namespace) -> None:
    import numpy as np
    from PIL import Image

    from cliphead.files import output_folder
    from cliphead.meshes import load_mesh, read_obj_uv
    from cliphead.render import head_cameras, image_grid, render, save_image

    out = output_folder(args.out, args.force)
    vertices, faces = load_mesh(args.mesh)
    uv = texture = None
    if args.kind == "textured":
        if not args.texture:
            raise ValueError("--kind textured needs --texture PNG.")
        uv = read_obj_uv(args.mesh) if Path(args.mesh).suffix.lower() == ".obj" else None
        if uv is None or len(uv) != len(vertices):
            raise ValueError(
                f"{args.mesh} has no per-vertex texture coordinates; align it first (`cliphead uv align`)."
            )
        texture = np.asarray(Image.open(args.texture).convert("RGB"))
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    start = time.perf_counter()
    cameras = head_cameras(vertices, views, args.size)
    images, written = [], []
    for name, camera in cameras.items():
        image = render(args.kind, vertices, faces, camera, uv=uv, texture=texture)
        written.append(str(save_image(out / f"{args.kind}_{name}.png", image)))
        images.append(image)
    written.append(str(save_image(out / f"{args.kind}_views.png", image_grid(images, labels=list(cameras)))))
    payload = {
        "kind": args.kind,
        "views": list(cameras),
        "files": written,
        "seconds": round(time.perf_counter() - start, 3),
    }
    emit("wrote " + ", ".join(written), payload)


def cmd_uv_align(args: argparse.Namespace) -> None:
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


def cmd_uv_layout(args: argparse.Namespace) -> None:
    from cliphead.uv.layout import LAYOUT_FILE, write_layout

    path = write_layout(Path(args.out) if args.out else LAYOUT_FILE)
    emit(f"wrote {path}", {"layout": str(path)})


def cmd_bench_uv(args: argparse.Namespace) -> None:
    from cliphead.uv.benchmark import benchmark_uv, format_benchmark

    result = benchmark_uv(resolution=args.resolution, repeats=args.repeats, seed=args.seed)
    emit(format_benchmark(result), result)


def cmd_reproduce(args: argparse.Namespace) -> None:
    from cliphead.reproduce import format_report, reproduce

    report = reproduce(quick=args.quick, only=args.only, results_dir=args.results_dir, figures_dir=args.figures_dir)
    emit(format_report(report), report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cliphead",
        description="CLIP-Head companion: text-guided textured neural parametric heads, reproducibly.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    assets = commands.add_parser("assets", help="find, check or download the data the project uses")
    assets_commands = assets.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = assets_commands.add_parser("check", help="locate ICT-FaceKit and load it (parses once, then cached)")
    check.set_defaults(run=cmd_assets_check)
    download = assets_commands.add_parser("download", help="download ICT-FaceKit (pinned commit) into the user cache")
    download.set_defaults(run=cmd_assets_download)

    head = commands.add_parser("head", help="sample heads from the ICT-FaceKit model")
    head_commands = head.add_subparsers(dest="action", required=True, metavar="ACTION")
    sample = head_commands.add_parser(
        "sample",
        help="a random identity (weights ~ N(0, 1)) with a labelled expression",
        description="Write a head mesh and its 68 landmarks (<stem>.landmarks.json) beside it.",
        epilog="labels: " + ", ".join(_labels()),
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
    sample.add_argument("--out", required=True, help="output mesh path (.obj)")
    sample.add_argument("--force", action="store_true", help="replace existing files")
    sample.set_defaults(run=cmd_head_sample)

    render = commands.add_parser("render", help="render a mesh: normal map, shaded or textured views")
    render.add_argument("mesh", help="mesh file (OBJ/PLY/…; textured needs an OBJ with per-vertex vt)")
    render.add_argument("--texture", help="texture PNG for --kind textured")
    render.add_argument(
        "--views",
        default="front,three_quarter,profile",
        help="comma-separated view names or yaw angles in degrees (default front,three_quarter,profile)",
    )
    render.add_argument(
        "--kind",
        choices=("normal", "shaded", "textured"),
        default="normal",
        help="normal: camera-space normals, the ControlNet convention (default)",
    )
    render.add_argument("--size", type=int, default=512, help="image size in pixels (default 512)")
    render.add_argument("--out", required=True, help="output folder")
    render.add_argument("--force", action="store_true", help="write into a non-empty folder")
    render.set_defaults(run=cmd_render)

    uv = commands.add_parser("uv", help="the aligned UV parametrisation (CLIP-Head §2.2)")
    uv_commands = uv.add_subparsers(dest="action", required=True, metavar="ACTION")
    align = uv_commands.add_parser(
        "align",
        help="cut along the back seam, map the boundary onto the fixed curve, harmonic inside",
        description="Writes DIR/mesh.obj (with texture coordinates), DIR/uv_normal.png, DIR/preview.png, "
        "DIR/metrics.json (qce_median, ase_median, n_vertices, n_faces, seconds, …) and, when the "
        "head's landmarks are known, DIR/landmarks_uv.json. The mesh must be in the ICT frame "
        "(centimetres, y up, face towards +z, symmetric about x = 0) with an open neck.",
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
    align.set_defaults(run=cmd_uv_align)
    layout = uv_commands.add_parser(
        "layout", help="regenerate the shipped fixed layout (boundary curves + landmark targets) from the template head"
    )
    layout.add_argument("--out", help="where to write it (default: the package's cliphead/uv/layout.json)")
    layout.set_defaults(run=cmd_uv_layout)

    bench = commands.add_parser("bench", help="benchmarks (timings with ratios against a same-run baseline)")
    bench_commands = bench.add_subparsers(dest="action", required=True, metavar="ACTION")
    bench_uv = bench_commands.add_parser("uv", help="time `uv align` step by step on a ~50k-vertex head")
    bench_uv.add_argument("--resolution", type=int, default=176, help="marching-cubes grid (176 gives ~50k vertices)")
    bench_uv.add_argument("--repeats", type=int, default=5, help="timed repeats; the median is reported")
    bench_uv.add_argument("--seed", type=int, default=0)
    bench_uv.set_defaults(run=cmd_bench_uv)

    reproduce = commands.add_parser("reproduce", help="run the notebooks headless and regenerate figures/ and results/")
    reproduce.add_argument("--quick", action="store_true", help="small settings (minutes on a CPU); writes under runs/")
    reproduce.add_argument("--only", nargs="+", metavar="NN", help="notebook numbers to run, e.g. 03")
    reproduce.add_argument(
        "--results-dir", help="where results go (default results/, or runs/quick/results with --quick)"
    )
    reproduce.add_argument(
        "--figures-dir", help="where figures go (default figures/, or runs/quick/figures with --quick)"
    )
    reproduce.set_defaults(run=cmd_reproduce)
    return parser


def _labels() -> list[str]:
    from cliphead.heads.expressions import EXPRESSION_LABELS

    return list(EXPRESSION_LABELS)


def main(argv: list[str] | None = None) -> int:
    from cliphead.assets import AssetNotFoundError
    from cliphead.meshes import MeshError

    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (MeshError, AssetNotFoundError, FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
