"""``sample world`` (lab): a painted aligned-UV texture of the synthetic appearance world, with its record."""

from __future__ import annotations

import argparse
from pathlib import Path

from cliphead.cli.common import CommandTree, emit, json_argument

PAINTERS = ("plain", "detailed")


def register(commands: CommandTree) -> None:
    """Add ``sample world``."""
    sample = commands.command(
        "sample",
        "world",
        run_sample_world,
        help="paint a texture from a random (or given) attribute record of the appearance world",
        description="Samples an attribute record from --seed (fields in --attributes override it), paints its "
        "aligned-UV texture and writes OUT/texture.png, OUT/attributes.json, OUT/captions.txt and, unless "
        "--no-preview, OUT/preview.png (the texture on a head of the bank, three views).",
        examples=[
            "cliphead sample world --seed 4 --out out/appearance",
            'cliphead sample world --seed 4 --attributes \'{"hair_colour": "red", "beard": "full beard"}\' '
            "--out out/appearance",
            "cliphead sample world --seed 4 --painter detailed --out out/appearance-detailed",
        ],
        lab=True,
    )
    sample.add_argument("--seed", type=int, default=0, help="record and noise seed (default 0)")
    sample.add_argument("--attributes", help="JSON object (inline or a .json path) of fields to fix")
    sample.add_argument("--size", type=int, default=512, choices=(128, 256, 512), help="texture size")
    sample.add_argument(
        "--painter",
        default="plain",
        choices=PAINTERS,
        help="plain (default; what the shipped models were trained on) or detailed (eyes, brow strands, lip line, "
        "nostrils, baked shading)",
    )
    sample.add_argument("--captions", type=int, default=10, help="captions to write (default 10)")
    sample.add_argument("--no-preview", action="store_true", help="skip the rendered preview")
    sample.add_argument("--out", required=True, help="output folder")
    sample.add_argument("--force", action="store_true", help="overwrite an existing output folder")


def run_sample_world(args: argparse.Namespace) -> None:
    """Paint and write a sample (lab: :func:`cliphead.lab.world.records.write_appearance_sample`)."""
    from cliphead.lab.world.records import write_appearance_sample

    overrides = json_argument(args.attributes) if args.attributes else {}
    payload = write_appearance_sample(
        args.seed,
        overrides,
        Path(args.out),
        args.size,
        args.captions,
        preview=not args.no_preview,
        force=args.force,
        painter=args.painter,
    )
    captions = "\n".join(f"  {line}" for line in payload.pop("caption_examples"))
    emit(f"wrote {payload['texture']} and its record; captions:\n{captions}", payload)
