"""``cliphead``: the command line.

Every command that measures something prints a readable summary and, as the very last line of
standard output, one JSON object with the same figures (DESIGN.md, "Machine-readable output").
Bad input ends with one ``error: …`` line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

EXAMPLES = """examples:
  cliphead generate "a laughing old man with a long face and a grey beard" --out out/generated
  cliphead assets check
  cliphead head sample --seed 3 --expression laughing --remesh 160 --out out/head.obj
  cliphead head sample --backend neural --seed 3 --expression laughing --out out/neural.obj
  cliphead head fit scan.npz --out out/fit
  cliphead train head-model --quick
  cliphead bench extract --res 256
  cliphead uv align out/head.obj --out out/uv
  cliphead render out/uv/mesh.obj --texture out/uv/uv_normal.png --kind textured --out out/views
  cliphead bench uv
  cliphead appearance sample --seed 4 --out out/appearance
  cliphead clip score out/appearance/preview.png --prompt "a face with red hair"
  cliphead train clip --quick
  cliphead bench clip
  cliphead train mappers --quick
  cliphead text2head "a laughing old man with a long face" --out out/laughing.obj
  cliphead bench text2head
  cliphead train texture --quick
  cliphead texture out/uv "a young woman with red hair and freckles" --out out/textured
  cliphead bench texture
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
        "n_landmarks": len(model.landmark_vertices),
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
    from cliphead.heads.io import landmarks_path, write_head

    out = Path(args.out)
    for path in (out, landmarks_path(out)):
        if path.exists() and not args.force:
            raise FileExistsError(f"{path} exists; choose another --out or pass --force to replace it.")
    start = time.perf_counter()
    label = normalise_label(args.expression)
    if args.backend == "neural":
        head, metadata = _neural_sample(args, label)
    else:
        head, metadata = _ict_sample(args, label)
    mesh_path, landmark_path = write_head(out, head, metadata)
    payload = {
        **metadata,
        "mesh": str(mesh_path),
        "landmarks": str(landmark_path),
        "n_vertices": len(head.vertices),
        "n_faces": len(head.faces),
        "seconds": round(time.perf_counter() - start, 3),
    }
    emit(f"wrote {mesh_path} ({len(head.vertices)} vertices) and {landmark_path}", payload)


def _ict_sample(args: argparse.Namespace, label: str):
    from cliphead.heads.ict import load_ict_model
    from cliphead.heads.remesh import remesh_head
    from cliphead.heads.surfaces import Head, sample_identity, skin_head, watertight_skin

    model = load_ict_model()
    skin = skin_head(model, sample_identity(args.seed), label, args.strength)
    head = skin
    if args.remesh:
        closed = watertight_skin(skin)
        head = Head(*remesh_head(closed.vertices, closed.faces, args.remesh), skin.landmarks)
    metadata = {
        "backend": "ict",
        "seed": args.seed,
        "expression": label,
        "strength": args.strength,
        "remesh": args.remesh,
    }
    return head, metadata


def _neural_sample(args: argparse.Namespace, label: str):
    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.generation import head_validity, neural_head

    model = load_head_model(args.weights)
    z_id = model.sample_identity_code(args.seed)
    z_exp = None if label == "neutral" else args.strength * model.expression_code(label)
    head, extraction = neural_head(model, z_id, z_exp, resolution=args.res)
    metadata = {
        "backend": "neural",
        "weights": str(args.weights or "embedded"),
        "seed": args.seed,
        "expression": label,
        "strength": args.strength,
        "resolution": args.res,
        "sdf_queries": extraction.grid.queries,
        "dense_queries": extraction.grid.dense_queries,
        "extraction_seconds": round(extraction.seconds, 3),
        "removed_components": extraction.removed_components,
        "removed_faces": extraction.removed_faces,
        "capped_loops": extraction.capped_loops,
        **head_validity(head.vertices, head.faces),
    }
    return head, metadata


def cmd_head_fit(args: argparse.Namespace) -> None:
    import numpy as np

    from cliphead.files import output_folder
    from cliphead.heads.checkpoints import load_head_model
    from cliphead.heads.fitting import FitSettings, fit_expression, fit_identity
    from cliphead.heads.generation import neural_head
    from cliphead.heads.io import read_point_cloud, write_head
    from cliphead.heads.metrics import sample_surface, surface_metrics
    from cliphead.meshes import load_mesh
    from cliphead.lab.reporting import write_json

    points, normals = read_point_cloud(Path(args.points))
    neutral = read_point_cloud(Path(args.neutral)) if args.neutral else (points, normals)
    out = output_folder(args.out, args.force)
    model = load_head_model(args.weights)
    identity = fit_identity(model, *neutral, FitSettings(iterations=args.iterations), progress=True)
    head, canonical = neural_head(model, identity.code, resolution=args.res)
    seconds = identity.seconds
    expression = None
    if args.neutral:
        expression = fit_expression(
            model,
            points,
            identity.code,
            canonical.vertices,
            FitSettings(iterations=args.iterations),
            progress=True,
        )
        head, _ = neural_head(model, identity.code, expression.code, canonical=canonical)
        seconds += expression.seconds
    mesh_path, landmark_path = write_head(out / "fit.obj", head, {"backend": "neural", "fitted_to": args.points})
    codes = {"z_id": identity.code.tolist(), "z_exp": None if expression is None else expression.code.tolist()}
    payload = {
        "points": len(points),
        "normals": normals is not None,
        "fit_seconds": round(seconds, 3),
        "identity_loss": identity.losses[-1],
        "expression_loss": None if expression is None else expression.losses[-1],
        "mesh": str(mesh_path),
        "landmarks": str(landmark_path),
    }
    if args.reference:
        reference = sample_surface(*load_mesh(Path(args.reference)), args.metric_points, seed=1)
        predicted = sample_surface(head.vertices, head.faces, args.metric_points, seed=2)
        payload |= surface_metrics(predicted, reference)
    write_json(out / "fit.json", payload | codes)
    summary = f"fitted {len(points)} points in {seconds:.1f} s; wrote {mesh_path}, {landmark_path}, {out / 'fit.json'}"
    if args.reference:
        summary += (
            f"\nagainst {args.reference}: Chamfer-L1 {payload['chamfer_l1_mm']:.3f} mm, "
            f"F-score@1mm {payload['f_score_1mm']:.3f}, normal consistency {payload['normal_consistency']:.3f}"
        )
    emit(summary, payload | {"z_id_norm": float(np.linalg.norm(codes["z_id"]))})


def cmd_train_head_model(args: argparse.Namespace) -> None:
    import torch

    from cliphead.heads.checkpoints import DEFAULT_HEAD_WEIGHTS, save_head_model
    from cliphead.heads.ict import load_ict_model
    from cliphead.lab.heads.scans import QUICK_SCANS, ScanConfig, load_scans
    from cliphead.lab.heads.training import QUICK_MODEL, QUICK_TRAINING, TrainingConfig, train_head_model
    from cliphead.weights.manifest import install_weights

    torch.set_num_threads(args.threads or torch.get_num_threads())
    out = Path(args.out or ("runs/head-model-quick" if args.quick else "runs/head-model"))
    start = time.perf_counter()
    scans = load_scans(load_ict_model(), QUICK_SCANS if args.quick else ScanConfig())
    config = QUICK_TRAINING if args.quick else TrainingConfig()
    model, history = train_head_model(scans, out, config, QUICK_MODEL if args.quick else None)
    weights = save_head_model(model, out / DEFAULT_HEAD_WEIGHTS.name)
    payload = {
        "weights": str(weights),
        "bytes": weights.stat().st_size,
        "steps": config.steps,
        "identities": len(scans.identity_weights),
        "expressions": len(scans.expression_weights),
        "final_surface_mm": round(10 * history["surface"].iloc[-1], 4),
        "final_deformation_mm": round(10 * history["deformation"].iloc[-1], 4),
        "final_landmarks_mm": round(10 * history["landmarks"].iloc[-1], 4),
        "seconds": round(time.perf_counter() - start, 1),
    }
    if args.install:
        if args.quick:
            raise ValueError("--install ships the full model; drop --quick.")
        payload |= install_weights(
            weights,
            out / "history.csv",
            DEFAULT_HEAD_WEIGHTS,
            "cliphead train head-model --install",
            "neural head model (NPHM-style tri-plane identity SDF + expression deformation + landmarks), fp16",
        )
    emit(f"trained the head model in {payload['seconds']:.0f} s; wrote {weights}", payload)


def cmd_appearance_sample(args: argparse.Namespace) -> None:
    import numpy as np

    from cliphead.lab.world.records import write_appearance_sample

    overrides = _json_argument(args.attributes) if args.attributes else {}
    payload = write_appearance_sample(
        args.seed, overrides, Path(args.out), args.size, args.captions, preview=not args.no_preview, force=args.force
    )
    summary = "\n".join(f"  {line}" for line in np.atleast_1d(payload.pop("caption_examples")))
    emit(f"wrote {payload['texture']} and its record; captions:\n{summary}", payload)


def _json_argument(text: str) -> dict:
    """A JSON object given inline or as a path to a .json file."""
    source = Path(text)
    raw = source.read_text() if text.strip().endswith(".json") and source.is_file() else text
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"--attributes is neither a JSON object nor a path to a .json file: {error}") from None
    if not isinstance(value, dict):
        raise ValueError('--attributes must be a JSON object, e.g. \'{"hair_colour": "red"}\'')
    return value


def cmd_clip_score(args: argparse.Namespace) -> None:
    import numpy as np
    from PIL import Image

    from cliphead.clip.registry import build_encoder
    from cliphead.clip.score import clip_scores

    images = []
    for path in args.images:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no image at {path}")
        images.append(np.asarray(Image.open(path).convert("RGB")))
    encoder = build_encoder(args.encoder)
    scores = clip_scores(encoder, args.prompt, images)
    lines = [f"  {score:+.4f}  {path}" for path, score in zip(args.images, scores)]
    payload = {
        "encoder": encoder.name,
        "prompt": args.prompt,
        "images": list(args.images),
        "scores": [round(float(s), 6) for s in scores],
        "mean": round(float(np.mean(scores)), 6),
    }
    emit(f"CLIP score ({encoder.name}) of {args.prompt!r}:\n" + "\n".join(lines), payload)


def cmd_train_clip(args: argparse.Namespace) -> None:
    import torch

    from cliphead.lab.clip.recipe import train_and_save_clip

    torch.set_num_threads(args.threads or torch.get_num_threads())
    out = Path(args.out or ("runs/clip-quick" if args.quick else "runs/clip"))
    payload = train_and_save_clip(out, quick=args.quick, install=args.install)
    emit(f"trained the lit-minilm image tower in {payload['seconds']:.0f} s; wrote {payload['weights']}", payload)


def cmd_train_mappers(args: argparse.Namespace) -> None:
    import torch

    from cliphead.lab.mapping.recipe import train_mappers

    torch.set_num_threads(args.threads or torch.get_num_threads())
    out = Path(args.out or ("runs/mappers-quick" if args.quick else "runs/mappers"))
    payload = train_mappers(out, quick=args.quick, install=args.install, encoder_spec=args.encoder, source=args.source)
    mse = ", ".join(f"{name} {value:.3g}" for name, value in payload["held_out_mse"].items())
    emit(f"trained the mappers in {payload['seconds']:.0f} s (held-out MSE: {mse}); wrote {out}", payload)


def cmd_train_texture(args: argparse.Namespace) -> None:
    import torch

    from cliphead.lab.texture.recipe import train_texture
    from cliphead.weights.manifest import WEIGHTS_DIR

    torch.set_num_threads(args.threads or torch.get_num_threads())
    out = Path(args.out or ("runs/texture-quick" if args.quick else "runs/texture"))
    anneal = None if args.anneal is None else Path(args.anneal) if args.anneal else WEIGHTS_DIR
    payload = train_texture(out, quick=args.quick, install=args.install, base=args.base, anneal=anneal)
    losses = ", ".join(f"{phase} {value:.4g}" for phase, value in payload["final_loss"].items())
    emit(f"trained ControlNet_uv in {payload['seconds']:.0f} s (final losses: {losses}); wrote {out}", payload)


def cmd_text2head(args: argparse.Namespace) -> None:
    from cliphead.clip.registry import cached_encoder
    from cliphead.mapping.networks import load_mapper
    from cliphead.mapping.text2head import OUT_OF_DISTRIBUTION_SIGMA, TextToHead, write_generated_head

    out = Path(args.out)
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it.")
    text_to_head = TextToHead(
        cached_encoder(args.encoder),
        load_mapper(Path(args.id_mapper))[0] if args.id_mapper else None,
        load_mapper(Path(args.exp_mapper))[0] if args.exp_mapper else None,
    )
    generated = text_to_head.generate(args.prompt, args.seed, args.variation, args.res)
    mesh, landmarks = write_generated_head(out, generated)
    flag = (
        f"\nwarning: the prediction lies outside the latent distribution (> {OUT_OF_DISTRIBUTION_SIGMA} σ); "
        "the prompt may name nothing the mappers know, and the head may be poor"
        if generated.out_of_distribution
        else ""
    )
    summary = (
        f"{args.prompt!r} → {mesh} ({len(generated.head.vertices)} vertices) and {landmarks} in {generated.seconds:.2f} s\n"
        f"latent distance from the mean (RMS in σ; a random sample is about 1): identity "
        f"{generated.identity_sigma:.2f}, expression {generated.expression_sigma:.2f}{flag}"
    )
    payload = {
        "prompt": args.prompt,
        "mesh": str(mesh),
        "landmarks": str(landmarks),
        "vertices": len(generated.head.vertices),
        "faces": len(generated.head.faces),
        "identity_sigma": round(generated.identity_sigma, 4),
        "expression_sigma": round(generated.expression_sigma, 4),
        "out_of_distribution": generated.out_of_distribution,
        "uv_ready": generated.uv_ready,
        "seconds": round(generated.seconds, 3),
    }
    emit(summary, payload)


def cmd_bench_text2head(args: argparse.Namespace) -> None:
    from cliphead.lab.mapping.benchmark import benchmark_text2head, format_text2head_benchmark

    result = benchmark_text2head(args.res, args.repeats)
    emit(format_text2head_benchmark(result), result)


def _prompt_list(args: argparse.Namespace) -> list[str]:
    if args.prompts:
        path = Path(args.prompts)
        if not path.is_file():
            raise FileNotFoundError(f"No prompt file at {path} (one prompt per line).")
        prompts = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    else:
        prompts = [args.prompt] if args.prompt else []
    if not prompts:
        raise ValueError("Give a PROMPT, or --prompts FILE with one prompt per line.")
    return prompts


def _slug(text: str, index: int) -> str:
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return f"{index:02d}_" + "_".join(words)[:48]


def cmd_generate(args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from cliphead.files import output_folder
    from cliphead.outputs import write_textured_head
    from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings

    prompts = _prompt_list(args)
    out = output_folder(Path(args.out), args.force)
    targets = [out] if len(prompts) == 1 else [out / _slug(prompt, k) for k, prompt in enumerate(prompts)]
    settings = PipelineSettings(
        seed=args.seed,
        variation=args.variation,
        expression_strength=args.expression_strength,
        resolution=args.res,
        steps=args.steps,
        guidance_scale=args.guidance,
        guidance_rescale=args.guidance_rescale,
        clamp_colours=not args.no_colour_clamp,
        control_strength=args.control_strength,
        rectify=not args.no_rectify,
    )
    pipeline = CLIPHeadPipeline(args.encoder, args.texture_backend, args.head_weights)
    if args.force and out.exists():
        shutil.rmtree(out)
    results = []
    for prompt, target in zip(prompts, targets):
        with tqdm(total=5, desc=prompt[:40], unit="stage", file=sys.stderr) as bar:

            def advance(stage: str) -> None:
                if bar.n or stage != "text":
                    bar.update()
                bar.set_postfix_str(stage)

            head = pipeline(prompt, settings, progress=advance)
            advance("writing files")
            start = time.perf_counter()
            meta = write_textured_head(target, head, pipeline.backends)
            bar.update()
        seconds = {**meta["seconds"], "write": round(time.perf_counter() - start, 3)}
        results.append(
            {
                "prompt": prompt,
                "out": str(target),
                "seconds": seconds,
                "total_seconds": round(sum(seconds.values()), 3),
                "rectified": meta["rectified"],
                "landmark_error_after": meta["landmark_error_after"],
            }
        )
    lines = [
        f"{r['out']}: {r['prompt']!r} in {r['total_seconds']:.1f} s "
        f"({', '.join(f'{k} {v:.1f}' for k, v in r['seconds'].items())})"
        for r in results
    ]
    emit(
        "\n".join([f"models loaded in {pipeline.load_seconds:.1f} s", *lines]),
        {"load_seconds": round(pipeline.load_seconds, 3), "heads": results},
    )


def cmd_bench_generate(args: argparse.Namespace) -> None:
    from cliphead.lab.pipeline_benchmark import benchmark_generate, format_generate_benchmark

    result = benchmark_generate(args.repeats)
    emit(format_generate_benchmark(result), result)


def cmd_bench_texture(args: argparse.Namespace) -> None:
    from cliphead.lab.texture.benchmark import benchmark_texture, format_texture_benchmark

    result = benchmark_texture(args.backend, args.steps, args.repeats)
    emit(format_texture_benchmark(result), result)


def cmd_texture(args: argparse.Namespace) -> None:
    from cliphead.texture.export import texture_mesh_folder
    from cliphead.texture.sampling import SamplingSettings

    settings = SamplingSettings(
        args.steps, args.guidance, args.control_strength, args.seed, args.guidance_rescale, not args.no_colour_clamp
    )
    meta = texture_mesh_folder(
        Path(args.mesh_dir),
        args.prompt,
        Path(args.out),
        settings,
        not args.no_rectify,
        args.backend,
        args.force,
        Path(args.upscale) if args.upscale else None,
    )
    if meta["rectified"]:
        how = (
            f"rectified: landmark error {meta['landmark_error_before']:.2%} → {meta['landmark_error_after']:.2%} "
            "of the texture width"
        )
    elif args.no_rectify:
        how = "not rectified (--no-rectify)"
    else:
        how = f"not rectified: {meta['skipped_because']}"
    emit(
        f"textured {args.mesh_dir} for {args.prompt!r} in {meta['seconds']['total']:.1f} s ({how}); wrote {args.out}",
        meta,
    )


def cmd_bench_clip(args: argparse.Namespace) -> None:
    from cliphead.lab.clip.benchmark import benchmark_clip, format_clip_benchmark

    result = benchmark_clip(args.encoder)
    emit(format_clip_benchmark(result), result)


def cmd_bench_extract(args: argparse.Namespace) -> None:
    from cliphead.lab.heads.benchmark import benchmark_extraction, format_extraction_benchmark

    result = benchmark_extraction(args.res, args.repeats, args.seed, args.weights)
    emit(format_extraction_benchmark(result), result)


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
    from cliphead.lab.uv.layout_build import write_layout
    from cliphead.uv.layout import LAYOUT_FILE

    path = write_layout(Path(args.out) if args.out else LAYOUT_FILE)
    emit(f"wrote {path}", {"layout": str(path)})


def cmd_bench_uv(args: argparse.Namespace) -> None:
    from cliphead.lab.uv.benchmark import benchmark_uv, format_benchmark

    result = benchmark_uv(resolution=args.resolution, repeats=args.repeats, seed=args.seed)
    emit(format_benchmark(result), result)


def cmd_reproduce(args: argparse.Namespace) -> None:
    from cliphead.lab.reproduce import format_report, reproduce

    report = reproduce(quick=args.quick, only=args.only, results_dir=args.results_dir, figures_dir=args.figures_dir)
    emit(format_report(report), report)


def _add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """The texture sampler's flags (``cliphead.texture.sampling.SamplingSettings``; its defaults, tested equal)."""
    parser.add_argument("--steps", type=int, default=20, help="UniPC sampling steps (default 20)")
    parser.add_argument("--guidance", type=float, default=7.5, help="classifier-free guidance scale (default 7.5)")
    parser.add_argument(
        "--guidance-rescale",
        type=float,
        default=0.0,
        help="mix of the guided prediction rescaled to the conditional one's spread, 0..1 "
        "(Lin et al. 2024; default 0: off, it did not help the embedded model's colours)",
    )
    parser.add_argument(
        "--no-colour-clamp",
        action="store_true",
        help="do not clamp the embedded model's predicted colour anchor to the colours a texture "
        "can have (no effect on a Stable Diffusion backend)",
    )
    parser.add_argument(
        "--control-strength",
        type=float,
        default=0.9,
        help="ControlNet residual scale; below 1 leaves room for diversity (default 0.9)",
    )


def _add_training_arguments(parser: argparse.ArgumentParser, quick: str, run_folder: str) -> None:
    """The flags every ``cliphead train`` command shares."""
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--out", help=f"run folder (default {run_folder}, or {run_folder}-quick)")
    parser.add_argument("--install", action="store_true", help="ship the result as the embedded default")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")


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

    head = commands.add_parser("head", help="sample heads (ICT linear model or the neural head model), fit scans")
    head_commands = head.add_subparsers(dest="action", required=True, metavar="ACTION")
    sample = head_commands.add_parser(
        "sample",
        help="a random identity with a labelled expression, from the ICT model or the neural head model",
        description="Write a head mesh and its 68 landmarks (<stem>.landmarks.json) beside it. --backend ict "
        "draws ICT identity weights ~ N(0, 1); --backend neural draws z_id from the trained latent "
        "distribution, extracts the SDF coarse-to-fine at --res and applies the expression as a forward "
        "deformation.",
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
    sample.set_defaults(run=cmd_head_sample)
    fit = head_commands.add_parser(
        "fit",
        help="fit the neural head model to a scan (point cloud or mesh): z_id, and z_exp with --neutral",
        description="Optimises the identity code so that the model's SDF vanishes on the points (and its "
        "gradient matches their normals, when given). With --neutral, the identity is fitted to that "
        "neutral scan and the expression code to POINTS. Writes DIR/fit.obj, DIR/fit.landmarks.json and "
        "DIR/fit.json (codes, losses, timings and, with --reference, Chamfer-L1 / normal consistency / "
        "F-scores in mm). Points are in the ICT frame (cm, y up, face towards +z).",
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
    fit.set_defaults(run=cmd_head_fit)

    train = commands.add_parser("train", help="train the embedded models")
    train_commands = train.add_subparsers(dest="action", required=True, metavar="MODEL")
    head_model = train_commands.add_parser(
        "head-model",
        help="train the neural head model on ICT scans (resumable; --quick for a minutes-long run)",
        description="Builds (or loads from the cache) the ICT scan set, trains the auto-decoder with "
        "checkpoints every few hundred steps into --out (rerunning resumes), and writes "
        "OUT/neural_head.safetensors and OUT/history.csv. --install copies them into the package as the "
        "embedded default and records the file's sha256 in cliphead/weights/MANIFEST.json.",
    )
    _add_training_arguments(head_model, "12 identities, 150 steps, small tri-planes", "runs/head-model")
    head_model.set_defaults(run=cmd_train_head_model)

    clip_model = train_commands.add_parser(
        "clip",
        help="train the lit-minilm image tower on renders of textured synthetic heads (resumable; --quick)",
        description="Builds (or loads from the cache) the head bank and the training and evaluation render "
        "sets, embeds their captions with the locked MiniLM text tower, trains the image tower contrastively "
        "(LiT) with checkpoints into --out (rerunning resumes) and writes OUT/lit_minilm_image.safetensors, "
        "OUT/history.csv and OUT/eval.csv (zero-shot accuracy per attribute, retrieval, paraphrases). "
        "--install ships the weights as the embedded default and records their sha256 in the manifest.",
    )
    _add_training_arguments(clip_model, "8 heads, 384 renders, a tiny tower, 30 steps", "runs/clip")
    clip_model.set_defaults(run=cmd_train_clip)

    mappers = train_commands.add_parser(
        "mappers",
        help="train MLP_id and MLP_exp on generated pairs (CLIP-Head §2.1; --quick for a minute-long run)",
        description="Builds (or loads from the cache) the identity pairs (random codes → neutral meshes → "
        "rotated renders with a painted appearance → image embeddings, plus identity captions) and the "
        "expression pairs (template prompts of the 23 labelled expressions → text embeddings), trains both "
        "8-layer mappers (AdamW, batch 10, 100 epochs, L2; MLP_exp with noise on its input ψ, chosen in "
        "notebook 02) and writes OUT/mapper_id.safetensors, OUT/mapper_exp.safetensors and their loss curves. --install ships them as the embedded default.",
    )
    _add_training_arguments(mappers, "75 identities × 4 views, 24 prompts per expression, 4 epochs", "runs/mappers")
    mappers.add_argument("--encoder", default="lit-minilm", help="encoder spec whose ψ the mappers take")
    mappers.add_argument(
        "--source",
        default="image+caption",
        choices=("image", "caption", "image+caption"),
        help="identity ψ: the paper's image embeddings, identity captions, or both (default, shipped)",
    )
    mappers.set_defaults(run=cmd_train_mappers)

    texture_model = train_commands.add_parser(
        "texture",
        help="train ControlNet_uv: UV normal map + prompt → UV texture (CLIP-Head §2.3; --quick for a minute)",
        description="Builds (or loads from the cache) the training triples (neural-model heads with random "
        "expressions → aligned UV normal maps; painted textures in the same layout with captions; whole layouts and "
        "face windows), then trains the embedded model from scratch: the autoencoder, the UNet on text alone, and "
        "the ControlNet initialised from the UNet. Writes OUT/texture_{vae,unet,controlnet}.safetensors, "
        "OUT/history.csv, OUT/snapshots.npz (textures over training) and OUT/training.json. With --base SD_DIR "
        "(a Stable Diffusion folder in the diffusers layout) it fine-tunes a ControlNet on that frozen base "
        "instead and writes OUT/controlnet/. --install ships the embedded model.",
    )
    _add_training_arguments(texture_model, "6 heads, 96 textures at 64 px, a tiny model, 110 steps", "runs/texture")
    texture_model.add_argument("--base", help="Stable Diffusion folder to fine-tune a ControlNet on (GPU advised)")
    texture_model.add_argument(
        "--anneal",
        nargs="?",
        const="",
        metavar="WEIGHTS_DIR",
        help="run phase 4 alone (cosine-decayed learning rate, weight average) on trained embedded weights: those "
        "in WEIGHTS_DIR, or the shipped ones; with --install it replaces the shipped UNet and ControlNet. Each repeat "
        "on the same weights draws its own batches and noise (seed + the phase 4 runs their history holds)",
    )
    texture_model.set_defaults(run=cmd_train_texture)

    text2head = commands.add_parser(
        "text2head",
        help="a head mesh from a prompt (geometry only): text → MLP_id, MLP_exp → head model",
        description="Encodes PROMPT with the encoder's text tower, maps it to an identity and an expression code, "
        "extracts the head at --res and writes OUT (OBJ) with OUT's stem + .landmarks.json beside it (68 landmarks, "
        "the prompt and both codes). The same prompt always gives the same head; --seed S draws a variation of the "
        "identity. The distance of the codes from the latent distribution is printed, so an out-of-distribution "
        "prompt shows.",
    )
    text2head.add_argument("prompt", help='e.g. "a laughing old man with a long face"')
    text2head.add_argument("--out", required=True, help="output mesh path (.obj)")
    text2head.add_argument("--seed", type=int, help="draw a variation of the identity (default: none, the mapped code)")
    text2head.add_argument("--variation", type=float, default=0.3, help="variation size in σ per dimension (0.3)")
    text2head.add_argument("--res", type=int, default=256, help="marching-cubes grid resolution (default 256)")
    text2head.add_argument("--encoder", default="lit-minilm", help="encoder spec (must match the mappers)")
    text2head.add_argument("--id-mapper", help="an MLP_id .safetensors (default: the embedded one)")
    text2head.add_argument("--exp-mapper", help="an MLP_exp .safetensors (default: the embedded one)")
    text2head.add_argument("--force", action="store_true", help="replace existing files")
    text2head.set_defaults(run=cmd_text2head)

    generate = commands.add_parser(
        "generate",
        help="a textured 3D head from a prompt: the whole CLIP-Head pipeline (text → geometry → UV → texture)",
        description="Runs prompt → ψ → (z_id, z_exp) → mesh → aligned UV → UV normal map → ControlNet_uv texture → "
        "rectification, with the embedded models unless told otherwise, and writes into OUT: head.obj + head.mtl + "
        "texture.png, head.glb, head.landmarks.json, uv_normal.png, preview.png, turntable.gif and meta.json "
        "(prompt, settings, latents, backends with weight hashes, seconds per stage). With --prompts FILE every "
        "line is a prompt, the models load once, and each head goes into its own subfolder of OUT.",
        epilog="examples:\n"
        '  cliphead generate "a laughing old man with a long face and a grey beard" --out out/generated\n'
        '  cliphead generate "a young woman with red hair, wearing red lipstick" --seed 3 --out out/red\n'
        "  cliphead generate --prompts prompts.txt --out out/batch\n"
        '  cliphead generate "a smiling man" --expression-strength 0.5 --steps 30 --out out/subtle',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument("prompt", nargs="?", help='e.g. "a laughing old man with a grey beard"')
    generate.add_argument("--prompts", metavar="FILE", help="a text file with one prompt per line (instead of PROMPT)")
    generate.add_argument("--out", required=True, help="output folder (refused if it holds anything, unless --force)")
    generate.add_argument("--seed", type=int, default=0, help="texture noise (and identity variation) seed")
    generate.add_argument(
        "--variation",
        type=float,
        default=0.0,
        help="identity variation around the prompt's, in σ per dimension (default 0: none)",
    )
    generate.add_argument(
        "--expression-strength",
        type=float,
        default=1.0,
        help="scale of the expression's offset from neutral (0 neutral, 1 as mapped)",
    )
    generate.add_argument("--res", type=int, default=192, help="marching-cubes grid resolution (default 192)")
    _add_sampling_arguments(generate)
    generate.add_argument("--no-rectify", action="store_true", help="skip the rectification of the face")
    generate.add_argument("--encoder", default="lit-minilm", help="encoder spec (must match the mappers)")
    generate.add_argument(
        "--texture-backend", default="embedded", help="'embedded' or 'stable-diffusion:BASE_DIR[,CONTROLNET_DIR]'"
    )
    generate.add_argument("--head-weights", help="a neural head model checkpoint (default: the embedded one)")
    generate.add_argument("--force", action="store_true", help="replace an existing OUT")
    generate.set_defaults(run=cmd_generate)

    texture = commands.add_parser(
        "texture",
        help="a UV texture for a head from a prompt: ControlNet_uv + rectification (CLIP-Head §2.3)",
        description="Reads MESH_DIR (the output of `cliphead uv align`: mesh.obj and uv_normal.png), generates the "
        "full texture from the whole UV normal map and a partial one from its face window, rectifies the full "
        "texture's facial features with mediapipe landmarks and a thin-plate spline, and writes OUT/texture.png, "
        "OUT/texture_full.png, OUT/texture_partial.png, OUT/head.obj + head.mtl, OUT/preview.png and OUT/meta.json "
        "(landmark errors before/after, seconds). The same seed gives the same texture.",
        epilog='example: cliphead text2head "an old man with a grey beard" --out out/head.obj && '
        "cliphead uv align out/head.obj --out out/uv && "
        'cliphead texture out/uv "an old man with a grey beard" --out out/textured',
    )
    texture.add_argument("mesh_dir", help="output folder of `cliphead uv align`")
    texture.add_argument("prompt", help='e.g. "a young woman with red hair and freckles"')
    texture.add_argument("--out", required=True, help="output folder (refused if it exists, unless --force)")
    texture.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    _add_sampling_arguments(texture)
    texture.add_argument("--no-rectify", action="store_true", help="keep the full texture as it comes")
    texture.add_argument(
        "--backend", default="embedded", help="'embedded' (default) or 'stable-diffusion:BASE_DIR[,CONTROLNET_DIR]'"
    )
    texture.add_argument(
        "--upscale",
        metavar="WEIGHTS",
        help="super-resolve the texture ×4 with Real-ESRGAN weights (e.g. RealESRGAN_x4plus.pth); "
        "off by default, slow on a CPU",
    )
    texture.add_argument("--force", action="store_true", help="replace an existing OUT")
    texture.set_defaults(run=cmd_texture)

    appearance = commands.add_parser("appearance", help="the procedural appearance world: painted aligned-UV textures")
    appearance_commands = appearance.add_subparsers(dest="action", required=True, metavar="ACTION")
    appearance_sample = appearance_commands.add_parser(
        "sample",
        help="paint a texture from a random (or given) attribute record",
        description="Samples an attribute record from --seed (fields in --attributes override it), paints its "
        "aligned-UV texture and writes OUT/texture.png, OUT/attributes.json, OUT/captions.txt and, unless "
        "--no-preview, OUT/preview.png (the texture on a head of the bank, three views).",
        epilog="example: cliphead appearance sample --seed 4 "
        '--attributes \'{"hair_colour": "red", "beard": "full beard"}\' --out out/appearance',
    )
    appearance_sample.add_argument("--seed", type=int, default=0, help="record and noise seed (default 0)")
    appearance_sample.add_argument("--attributes", help="JSON object (inline or a .json path) of fields to fix")
    appearance_sample.add_argument("--size", type=int, default=512, choices=(128, 256, 512), help="texture size")
    appearance_sample.add_argument("--captions", type=int, default=10, help="captions to write (default 10)")
    appearance_sample.add_argument("--no-preview", action="store_true", help="skip the rendered preview")
    appearance_sample.add_argument("--out", required=True, help="output folder")
    appearance_sample.add_argument("--force", action="store_true", help="overwrite an existing output folder")
    appearance_sample.set_defaults(run=cmd_appearance_sample)

    clip = commands.add_parser("clip", help="CLIP encoders: the CLIP score of images against a prompt")
    clip_commands = clip.add_subparsers(dest="action", required=True, metavar="ACTION")
    score = clip_commands.add_parser(
        "score",
        help="CLIP score (cosine of text and image embeddings, CLIP-Head §3) of each image",
        description="Prints one CLIP score per image and their mean. Images of any size are centre-cropped "
        "and resized to the encoder's input. --encoder takes lit-minilm (the embedded default), "
        "lit-minilm:WEIGHTS (another image tower) or open_clip:ARCH/PRETRAINED (an open_clip tag, which needs "
        "internet once, or a local checkpoint file; ARCH may be a model-config .json).",
        epilog="example: cliphead clip score out/appearance/preview.png --prompt 'a face with red hair'",
    )
    score.add_argument("images", nargs="+", help="PNG/JPEG images (e.g. renders of a textured head)")
    score.add_argument("--prompt", required=True, help="the text prompt")
    score.add_argument("--encoder", default="lit-minilm", help="encoder spec (default lit-minilm)")
    score.set_defaults(run=cmd_clip_score)

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
    bench_extract = bench_commands.add_parser(
        "extract",
        help="neural head extraction: coarse-to-fine vs dense grid, decoder queries and seconds",
        description="Extracts one sampled identity both ways in the same run and prints the query and "
        "time ratios (medians over --repeats).",
    )
    bench_extract.add_argument("--res", type=int, default=256, help="grid resolution (default 256)")
    bench_extract.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    bench_extract.add_argument("--seed", type=int, default=0, help="identity seed")
    bench_extract.add_argument("--weights", help="a head model .safetensors (default: the embedded model)")
    bench_extract.set_defaults(run=cmd_bench_extract)
    bench_clip = bench_commands.add_parser(
        "clip", help="time texture painting (512²) and encoding 64 images / captions, against same-run baselines"
    )
    bench_clip.add_argument("--encoder", default="lit-minilm", help="encoder spec (default lit-minilm)")
    bench_clip.set_defaults(run=cmd_bench_clip)
    bench_text2head = bench_commands.add_parser(
        "text2head",
        help="time prompt → head files (warm and in a fresh process) against extracting a sampled head",
    )
    bench_text2head.add_argument("--res", type=int, default=256, help="grid resolution (default 256)")
    bench_text2head.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    bench_text2head.set_defaults(run=cmd_bench_text2head)

    bench_generate = bench_commands.add_parser(
        "generate", help="time prompt → textured head on disk per stage (models loaded once), peak memory"
    )
    bench_generate.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    bench_generate.set_defaults(run=cmd_bench_generate)
    bench_texture = bench_commands.add_parser(
        "texture", help="time one ControlNet_uv texture (guided, 20 steps) against unguided sampling, same run"
    )
    bench_texture.add_argument("--backend", default="embedded", help="texture backend (default embedded)")
    bench_texture.add_argument("--steps", type=int, default=20, help="sampling steps (default 20)")
    bench_texture.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    bench_texture.set_defaults(run=cmd_bench_texture)

    reproduce = commands.add_parser("reproduce", help="run the notebooks headless and regenerate figures/ and results/")
    reproduce.add_argument("--quick", action="store_true", help="small settings (minutes on a CPU); writes under runs/")
    reproduce.add_argument(
        "--only",
        nargs="+",
        metavar="NN",
        help="notebook numbers (03: every notebook numbered 03) or name stems (00_appearance)",
    )
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
