"""The pipeline verbs (no object word): ``generate``, ``text2head``, ``texture`` and ``render``."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from cliphead.cli.common import CommandTree, add_sampling_arguments, emit, sampling_settings

GENERATE = "a laughing old man with a long face and a grey beard"
TEXTURE = "an old man with a grey beard"

#: ``--mappers``: the embedded pair or the published one.
MAPPERS_HELP = (
    "'embedded' (default) or official:DIR, the published CLIP-Head mappers (clip2nphm_model_0.pth and "
    "clip2nphm_model_exp_more_exp_L2_134.pth in DIR, or official:ID.pth,EXP.pth); they take open_clip ViT-H-14 "
    "embeddings (--encoder) and give NPHM codes"
)


#: What ``--official-settings`` may change (``cliphead.texture.official.OfficialSettings``, kept equal by a test).
OFFICIAL_FIELDS = (
    "steps guidance full_conditioning face_conditioning seam_conditioning face_fraction pass_size seam_size "
    "warp_size frame dilation prompt_suffix negative_prompt"
).split()


def official_settings(text: str):
    """``--official-settings``: the released settings with the JSON object's fields changed."""
    from cliphead.texture.official import OfficialSettings

    try:
        changes = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--official-settings is not a JSON object: {error}") from None
    unknown = set(changes) - set(OFFICIAL_FIELDS) if isinstance(changes, dict) else {"(not an object)"}
    if unknown:
        raise ValueError(f"--official-settings: unknown {sorted(unknown)}; fields are {', '.join(OFFICIAL_FIELDS)}")
    return OfficialSettings(**changes)


def register(commands: CommandTree) -> None:
    """Add ``generate``, ``text2head``, ``texture`` and ``render``."""
    _register_generate(commands)
    _register_text2head(commands)
    _register_texture(commands)
    _register_render(commands)


def _register_generate(commands: CommandTree) -> None:
    """Add ``generate``: prompt (or a file of them) → textured heads."""
    generate = commands.verb(
        "generate",
        run_generate,
        help="a textured 3D head from a prompt: the whole CLIP-Head pipeline (text → geometry → UV → texture)",
        description="Runs prompt → ψ → (z_id, z_exp) → mesh → aligned UV → UV normal map → ControlNet_uv texture → "
        "rectification, with the embedded models unless told otherwise, and writes into OUT: head.obj + head.mtl + "
        "texture.png, head.glb, head.landmarks.json, uv_normal.png, preview.png, turntable.gif and meta.json "
        "(prompt, settings, latents, backends with weight hashes, seconds per stage). With --prompts FILE every "
        "line is a prompt, the models load once, and each head goes into its own subfolder of OUT. With --mesh MESH "
        "the head is that mesh instead (repaired and mapped as by `align uv`; meta.json records its frame and "
        "repairs), textured from the prompt.",
        examples=[
            f'cliphead generate "{GENERATE}" --out out/generated',
            'cliphead generate "a young woman with red hair, wearing red lipstick" --seed 3 --out out/red',
            "cliphead generate --prompts prompts.txt --out out/batch",
            'cliphead generate --mesh scan.obj "an old man with a grey beard" --out out/scan',
            'cliphead generate "a smiling man" --expression-strength 0.5 --steps 30 --out out/subtle',
        ],
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
    generate.add_argument(
        "--mesh",
        metavar="MESH",
        help="texture this head mesh instead of generating one: repaired, put in the aligned UV layout (as `align "
        "uv` does; landmarks from <stem>.landmarks.json or found on renders) and textured from the prompt; its "
        "shape and expression are kept and head.obj is written in its own frame",
    )
    generate.add_argument("--frame", metavar="UNITS,UP,FRONT", help="with --mesh: its frame (default: found)")
    add_sampling_arguments(generate)
    generate.add_argument("--no-rectify", action="store_true", help="skip the rectification of the face")
    generate.add_argument("--encoder", default="lit-minilm", help="encoder spec (must match the mappers)")
    generate.add_argument(
        "--texture-backend",
        default="embedded",
        help="'embedded', 'stable-diffusion:BASE_DIR[,CONTROLNET_DIR]', or the released CLIP-Head texture stage "
        "(three passes on the user's weights, needs --layout official:…) as "
        "official:CONTROLNET_DIR,base=SD21_BASE_DIR,inpaint=SD2_INPAINT_DIR[,face_uvs=MediaPipe/geometry.json]",
    )
    generate.add_argument(
        "--layout",
        default="aligned",
        help="UV layout: 'aligned' (default, the project's) or the released code's, "
        "official:REF_OBJ,SEAM_NPY (checkpoints/reference_uv_vt_scaled.obj and 0001_shape_seam.npy of a CLIP-Head "
        "checkout)",
    )
    generate.add_argument(
        "--official-settings",
        metavar="JSON",
        default="{}",
        help="with the official backend: changes to its released settings, e.g. '{\"steps\": 10}' "
        "(fields: " + ", ".join(OFFICIAL_FIELDS) + ")",
    )
    generate.add_argument("--head-weights", help="a neural head model checkpoint (default: the embedded one)")
    generate.add_argument("--mappers", help=MAPPERS_HELP)
    generate.add_argument("--force", action="store_true", help="replace an existing OUT")


def run_generate(args: argparse.Namespace) -> None:
    """Generate each prompt's textured head (:func:`cliphead.batch.generate_heads`); one line per head."""
    from cliphead.batch import generate_heads, read_prompts
    from cliphead.files import output_folder
    from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings
    from cliphead.uv.incoming import aligned_mesh_file

    prompts = read_prompts(args.prompt, args.prompts)
    out = output_folder(args.out, args.force)
    settings = PipelineSettings(
        variation=args.variation,
        expression_strength=args.expression_strength,
        resolution=args.res,
        sampling=sampling_settings(args),
        rectify=not args.no_rectify,
        official=official_settings(args.official_settings),
    )
    mesh = aligned_mesh_file(args.mesh, frame=args.frame) if args.mesh else None
    pipeline = CLIPHeadPipeline(
        args.encoder, args.texture_backend, args.head_weights, mappers=args.mappers, layout=args.layout
    )
    heads = generate_heads(pipeline, prompts, out, settings, seed=args.seed, replace=args.force, mesh=mesh)
    lines = [
        f"{head['out']}: {head['prompt']!r} in {head['total_seconds']:.1f} s "
        f"({', '.join(f'{stage} {seconds:.1f}' for stage, seconds in head['seconds'].items())})"
        for head in heads
    ]
    emit(
        "\n".join([f"models loaded in {pipeline.load_seconds:.1f} s", *lines]),
        {"load_seconds": round(pipeline.load_seconds, 3), "heads": heads},
    )


def _register_text2head(commands: CommandTree) -> None:
    """Add ``text2head``: prompt → head mesh."""
    text2head = commands.verb(
        "text2head",
        run_text2head,
        help="a head mesh from a prompt (geometry only): text → MLP_id, MLP_exp → head model",
        description="Encodes PROMPT with the encoder's text tower, maps it to an identity and an expression code, "
        "extracts the head at --res and writes OUT (OBJ) with OUT's stem + .landmarks.json beside it (68 landmarks, "
        "the prompt and both codes). The same prompt always gives the same head; --seed S draws a variation of the "
        "identity. The distance of the codes from the latent distribution is printed, so an out-of-distribution "
        "prompt shows.",
        examples=[
            'cliphead text2head "a laughing old man with a long face" --out out/laughing.obj',
            'cliphead text2head "a laughing old man with a long face" --seed 1 --variation 0.5 --out out/varied.obj',
        ],
    )
    text2head.add_argument("prompt", help='e.g. "a laughing old man with a long face"')
    text2head.add_argument("--out", required=True, help="output mesh path (.obj)")
    text2head.add_argument("--seed", type=int, help="draw a variation of the identity (default: none, the mapped code)")
    text2head.add_argument("--variation", type=float, default=0.3, help="variation size in σ per dimension (0.3)")
    text2head.add_argument("--res", type=int, default=256, help="marching-cubes grid resolution (default 256)")
    text2head.add_argument("--encoder", default="lit-minilm", help="encoder spec (must match the mappers)")
    text2head.add_argument("--id-mapper", help="an MLP_id .safetensors (default: the embedded one)")
    text2head.add_argument("--exp-mapper", help="an MLP_exp .safetensors (default: the embedded one)")
    text2head.add_argument("--mappers", help=MAPPERS_HELP)
    text2head.add_argument("--force", action="store_true", help="replace existing files")


def run_text2head(args: argparse.Namespace) -> None:
    """Write the prompt's head (:func:`cliphead.mapping.export.text_to_head_file`); warn when out of distribution."""
    from cliphead.mapping.export import text_to_head_file
    from cliphead.mapping.text2head import OUT_OF_DISTRIBUTION_SIGMA

    head = text_to_head_file(
        args.prompt,
        args.out,
        seed=args.seed,
        variation=args.variation,
        resolution=args.res,
        encoder=args.encoder,
        id_mapper=args.id_mapper,
        exp_mapper=args.exp_mapper,
        mappers=args.mappers,
        force=args.force,
    )
    flag = (
        f"\nwarning: the prediction lies outside the latent distribution (> {OUT_OF_DISTRIBUTION_SIGMA} σ); "
        "the prompt may name nothing the mappers know, and the head may be poor"
        if head["out_of_distribution"]
        else ""
    )
    summary = (
        f"{args.prompt!r} → {head['mesh']} ({head['vertices']} vertices) and {head['landmarks']} in "
        f"{head['seconds']:.2f} s\nlatent distance from the mean (RMS in σ; a random sample is about 1): identity "
        f"{head['identity_sigma']:.2f}, expression {head['expression_sigma']:.2f}{flag}"
    )
    emit(summary, head)


def _register_texture(commands: CommandTree) -> None:
    """Add ``texture``: aligned head + prompt → textured head."""
    texture = commands.verb(
        "texture",
        run_texture,
        help="a UV texture for a head from a prompt: ControlNet_uv + rectification (CLIP-Head §2.3)",
        description="Reads MESH_DIR (the output of `cliphead align uv`: mesh.obj and uv_normal.png), generates the "
        "full texture from the whole UV normal map and a partial one from its face window, rectifies the full "
        "texture's facial features with mediapipe landmarks and a thin-plate spline, and writes OUT/texture.png, "
        "OUT/texture_full.png, OUT/texture_partial.png, OUT/head.obj + head.mtl, OUT/preview.png and OUT/meta.json "
        "(landmark errors before/after, seconds). The same seed gives the same texture.",
        examples=[
            f'cliphead text2head "{TEXTURE}" --out out/head.obj',
            "cliphead align uv out/head.obj --out out/uv",
            f'cliphead texture out/uv "{TEXTURE}" --out out/textured',
            'cliphead texture out/uv "a young woman with red hair and freckles" --seed 2 --out out/red',
        ],
    )
    texture.add_argument("mesh_dir", help="output folder of `cliphead align uv`")
    texture.add_argument("prompt", help='e.g. "a young woman with red hair and freckles"')
    texture.add_argument("--out", required=True, help="output folder (refused if it exists, unless --force)")
    texture.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    add_sampling_arguments(texture)
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


def run_texture(args: argparse.Namespace) -> None:
    """Texture an aligned head (:func:`cliphead.texture.export.texture_mesh_folder`); say whether it was rectified."""
    from cliphead.texture.export import texture_mesh_folder

    meta = texture_mesh_folder(
        Path(args.mesh_dir),
        args.prompt,
        Path(args.out),
        sampling_settings(args),
        seed=args.seed,
        rectify=not args.no_rectify,
        backend=args.backend,
        force=args.force,
        upscaler=Path(args.upscale) if args.upscale else None,
    )
    if meta["rectified"]:
        how = f"rectified: landmark error {_percent(meta['landmark_error_before'])} → "
        how += f"{_percent(meta['landmark_error_after'])} of the texture width"
        how += "" if meta["warped"] else " (no face on the full texture: the face window pasted unwarped)"
    elif args.no_rectify:
        how = "not rectified (--no-rectify)"
    else:
        how = f"not rectified: {meta['skipped_because']}"
    emit(
        f"textured {args.mesh_dir} for {args.prompt!r} in {meta['seconds']['total']:.1f} s ({how}); wrote {args.out}",
        meta,
    )


def _register_render(commands: CommandTree) -> None:
    """Add ``render``: mesh → views."""
    render = commands.verb(
        "render",
        run_render,
        help="render a mesh: normal map, shaded or textured views",
        examples=[
            "cliphead render out/head.obj --out out/normals",
            "cliphead render out/head.obj --kind shaded --views front,45,profile --out out/shaded",
            "cliphead render out/uv/mesh.obj --texture out/uv/uv_normal.png --kind textured --out out/views",
        ],
    )
    render.add_argument("mesh", help="mesh file (OBJ/PLY/…; textured needs an OBJ with per-vertex vt)")
    render.add_argument("--texture", help="texture PNG for --kind textured")
    render.add_argument(
        "--views",
        type=_views,
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


def run_render(args: argparse.Namespace) -> None:
    """Render the mesh's views (:func:`cliphead.render.export.render_mesh_file`); list the files written."""
    from cliphead.render.export import render_mesh_file

    payload = render_mesh_file(args.mesh, args.out, args.kind, args.views, args.size, args.texture, args.force)
    emit("wrote " + ", ".join(payload["files"]), payload)


def _views(text: str) -> list[str | float]:
    """``--views``: comma-separated view names, or yaw angles in degrees (numbers)."""
    views = []
    for view in (part.strip() for part in text.split(",")):
        try:
            yaw = float(view)
        except ValueError:
            yaw = None
        if yaw is not None and math.isfinite(yaw):
            views.append(yaw)
        elif view:
            views.append(view)
    return views


def _percent(error: float | None) -> str:
    """A landmark error as a percentage, or "no face found" where none was."""
    return "no face found" if error is None else f"{error:.2%}"
