"""``score clip``: the CLIP score (CLIP-Head §3) of images against a prompt."""

from __future__ import annotations

import argparse

from cliphead.cli.common import CommandTree, emit


def register(commands: CommandTree) -> None:
    """Add ``score clip``."""
    score = commands.command(
        "score",
        "clip",
        run_score_clip,
        help="CLIP score (cosine of text and image embeddings, CLIP-Head §3) of each image",
        description="Prints one CLIP score per image and their mean. Images of any size are centre-cropped "
        "and resized to the encoder's input. --encoder takes lit-minilm (the embedded default), "
        "lit-minilm:WEIGHTS (another image tower) or open_clip:ARCH/PRETRAINED (an open_clip tag, which needs "
        "internet once, or a local checkpoint file; ARCH may be a model-config .json).",
        examples=[
            "cliphead score clip out/appearance/preview.png --prompt 'a face with red hair'",
            "cliphead score clip out/views/textured_*.png --prompt 'an old man' "
            "--encoder open_clip:ViT-B-16/laion2b_s34b_b88k",
        ],
    )
    score.add_argument("images", nargs="+", help="PNG/JPEG images (e.g. renders of a textured head)")
    score.add_argument("--prompt", required=True, help="the text prompt")
    score.add_argument("--encoder", default="lit-minilm", help="encoder spec (default lit-minilm)")


def run_score_clip(args: argparse.Namespace) -> None:
    """Score the images (:func:`cliphead.clip.score.score_image_files`); one line per image."""
    from cliphead.clip.score import score_image_files

    scored = score_image_files(args.images, args.prompt, args.encoder)
    lines = [f"  {score:+.4f}  {path}" for path, score in zip(scored["images"], scored["scores"])]
    emit(f"CLIP score ({scored['encoder']}) of {args.prompt!r}:\n" + "\n".join(lines), scored)
