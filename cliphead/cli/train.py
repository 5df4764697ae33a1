"""``train head-model|clip|mappers|texture`` (lab): train an embedded model, and with --install ship it; ``build
data``: a recipe's training data, whole or in shards."""

from __future__ import annotations

import argparse
from pathlib import Path

from cliphead.cli.common import CommandTree, add_training_arguments, emit

#: ``train texture --preset``'s choices: the keys of :data:`cliphead.lab.texture.recipe.PRESETS` (named here, so
#: that building the parser imports no lab module).
TEXTURE_PRESETS = ("full", "quick", "gpu")


def register(commands: CommandTree) -> None:
    """Add the four ``train`` commands."""
    _register_head_model(commands)
    _register_clip(commands)
    _register_mappers(commands)
    _register_texture(commands)
    _register_data(commands)


def _run_folder(args: argparse.Namespace, default: str) -> Path:
    """Set torch's CPU threads (--threads) and return the run folder: --out, else ``default`` (``-PRESET`` after it
    for a preset other than ``full``, e.g. ``-quick`` with --quick)."""
    import torch

    torch.set_num_threads(args.threads or torch.get_num_threads())
    preset = _preset(args)
    return Path(args.out or (default if preset == "full" else f"{default}-{preset}"))


def is_launched_copy() -> bool:
    """Whether this process is one of ``accelerate launch``'s copies other than the main one (which reports)."""
    from cliphead.lab.distributed import is_main_process

    return not is_main_process()


def _preset(args: argparse.Namespace) -> str:
    """The training recipe's preset the flags name: --preset where the command has it, ``quick`` with --quick (an
    alias of --preset quick), else ``full``."""
    preset = getattr(args, "preset", None)
    if args.quick and preset not in (None, "quick"):
        raise ValueError(f"--quick is --preset quick; drop --quick or --preset {preset}.")
    return "quick" if args.quick else preset or "full"


def _register_head_model(commands: CommandTree) -> None:
    """Add ``train head-model``."""
    head_model = commands.command(
        "train",
        "head-model",
        run_train_head_model,
        help="train the neural head model on ICT scans (resumable; --quick for a minutes-long run)",
        description="Builds (or loads from the cache) the ICT scan set, trains the auto-decoder with "
        "checkpoints every few hundred steps into --out (rerunning resumes), and writes "
        "OUT/neural_head.safetensors and OUT/history.csv. --install copies them into the package as the "
        "embedded default and records the file's sha256 in cliphead/weights/MANIFEST.json.",
        examples=["cliphead train head-model --quick", "cliphead train head-model --install"],
        lab=True,
    )
    add_training_arguments(head_model, "12 identities, 150 steps, small tri-planes", "runs/head-model")


def run_train_head_model(args: argparse.Namespace) -> None:
    """Train the head model (lab: :func:`cliphead.lab.heads.recipe.train_and_save_head_model`)."""
    from cliphead.lab.heads.recipe import train_and_save_head_model

    out = _run_folder(args, "runs/head-model")
    payload = train_and_save_head_model(out, _preset(args), install=args.install)
    if is_launched_copy():
        return
    emit(f"trained the head model in {payload['seconds']:.0f} s; wrote {payload['weights']}", payload)


def _register_clip(commands: CommandTree) -> None:
    """Add ``train clip``."""
    clip = commands.command(
        "train",
        "clip",
        run_train_clip,
        help="train the lit-minilm image tower on renders of textured synthetic heads (resumable; --quick)",
        description="Builds (or loads from the cache) the head bank and the training and evaluation render "
        "sets, embeds their captions with the locked MiniLM text tower, trains the image tower contrastively "
        "(LiT) with checkpoints into --out (rerunning resumes) and writes OUT/lit_minilm_image.safetensors, "
        "OUT/history.csv and OUT/eval.csv (zero-shot accuracy per attribute, retrieval, paraphrases). "
        "--install ships the weights as the embedded default and records their sha256 in the manifest.",
        examples=["cliphead train clip --quick", "cliphead train clip --install --threads 4"],
        lab=True,
    )
    add_training_arguments(clip, "8 heads, 384 renders, a tiny tower, 30 steps", "runs/clip")


def run_train_clip(args: argparse.Namespace) -> None:
    """Train the image tower (lab: :func:`cliphead.lab.clip.recipe.train_and_save_clip`)."""
    from cliphead.lab.clip.recipe import train_and_save_clip

    out = _run_folder(args, "runs/clip")
    payload = train_and_save_clip(out, _preset(args), install=args.install)
    if is_launched_copy():
        return
    emit(f"trained the lit-minilm image tower in {payload['seconds']:.0f} s; wrote {payload['weights']}", payload)


def _register_mappers(commands: CommandTree) -> None:
    """Add ``train mappers``."""
    mappers = commands.command(
        "train",
        "mappers",
        run_train_mappers,
        help="train MLP_id and MLP_exp on generated pairs (CLIP-Head §2.1; --quick for a minute-long run)",
        description="Builds (or loads from the cache) the identity pairs (random codes → neutral meshes → "
        "rotated renders with a painted appearance → image embeddings, plus identity captions) and the "
        "expression pairs (template prompts of the 23 labelled expressions → text embeddings), trains both "
        "8-layer mappers (AdamW, batch 10, 100 epochs, L2; MLP_exp with noise on its input ψ, chosen in "
        "notebook 02) and writes OUT/mapper_id.safetensors, OUT/mapper_exp.safetensors and their loss curves. "
        "--install ships them as the embedded default.",
        examples=[
            "cliphead train mappers --quick",
            "cliphead train mappers --source image --out runs/mappers-image",
            "cliphead train mappers --install",
        ],
        lab=True,
    )
    add_training_arguments(mappers, "75 identities × 4 views, 24 prompts per expression, 4 epochs", "runs/mappers")
    mappers.add_argument("--encoder", default="lit-minilm", help="encoder spec whose ψ the mappers take")
    mappers.add_argument(
        "--source",
        default="image+caption",
        choices=("image", "caption", "image+caption"),
        help="identity ψ: the paper's image embeddings, identity captions, or both (default, shipped)",
    )


def run_train_mappers(args: argparse.Namespace) -> None:
    """Train both mappers (lab: :func:`cliphead.lab.mapping.recipe.train_mappers`); print the held-out MSE."""
    from cliphead.lab.mapping.recipe import train_mappers

    out = _run_folder(args, "runs/mappers")
    payload = train_mappers(out, _preset(args), install=args.install, encoder_spec=args.encoder, source=args.source)
    mse = ", ".join(f"{name} {value:.3g}" for name, value in payload["held_out_mse"].items())
    if is_launched_copy():
        return
    emit(f"trained the mappers in {payload['seconds']:.0f} s (held-out MSE: {mse}); wrote {out}", payload)


def _register_texture(commands: CommandTree) -> None:
    """Add ``train texture``."""
    texture = commands.command(
        "train",
        "texture",
        run_train_texture,
        help="train ControlNet_uv: UV normal map + prompt → UV texture (CLIP-Head §2.3; --quick for a minute, "
        "--preset gpu --device cuda for one H100)",
        description="Builds (or loads from the cache) the training triples (neural-model heads with random "
        "expressions → aligned UV normal maps; painted textures in the same layout with captions; whole layouts and "
        "face windows), then trains the embedded model from scratch: the autoencoder, the UNet on text alone, and "
        "the ControlNet initialised from the UNet. Writes OUT/texture_{vae,unet,controlnet}.safetensors, "
        "OUT/history.csv, OUT/snapshots.npz (textures over training) and OUT/training.json. With --base SD_DIR "
        "(a Stable Diffusion folder in the diffusers layout) it fine-tunes a ControlNet on that frozen base "
        "instead and writes OUT/controlnet/. --install ships the embedded model (of the full or gpu preset). "
        "--preset gpu trains the same networks on more data, with batches of 128 and 8500 steps, on one H100 "
        "(--device cuda) in an estimated 7.6 minutes, at most 9, once the triples are built and cached.",
        examples=[
            "cliphead train texture --quick",
            "cliphead train texture --install",
            "cliphead train texture --preset gpu --device cuda --install",
            "cliphead train texture --anneal --install",
            "cliphead train texture --anneal --anneal-steps 1000 --install",
            "cliphead train texture --base sd15/ --out runs/controlnet-sd15",
        ],
        lab=True,
    )
    add_training_arguments(texture, "6 heads, 96 textures at 64 px, a tiny model, 110 steps", "runs/texture")
    texture.add_argument(
        "--preset",
        choices=TEXTURE_PRESETS,
        help="the recipe (default full; the run folder gets -PRESET after it): full, the shipped model's, for a "
        "CPU (192 heads, 3000 textures at 128 px, batch 16, 7100 steps: many hours); quick, --quick's; gpu, the "
        "same networks on 384 heads and 6000 textures, batch 128, 8500 steps, made for one H100 (--device cuda): "
        "7.6 minutes estimated from its FLOPs, at most 9 (the triples' first build, minutes on 16 cores, not "
        "counted; the estimate's basis is in cliphead/lab/texture/recipe.py), far too long for a CPU",
    )
    texture.add_argument(
        "--device",
        default="cpu",
        help="torch device to train on: cpu (the default, whatever else the machine has: pass cuda explicitly), "
        "cuda or cuda:N. The model is saved from the CPU in fp16 either way",
    )
    texture.add_argument("--base", help="Stable Diffusion folder to fine-tune a ControlNet on (GPU advised)")
    texture.add_argument(
        "--anneal",
        nargs="?",
        const="",
        metavar="WEIGHTS_DIR",
        help="run phase 4 alone (cosine-decayed learning rate, weight average) on trained embedded weights: those "
        "in WEIGHTS_DIR, or the shipped ones; with --install it replaces the shipped UNet and ControlNet. Each repeat "
        "on the same weights draws its own batches and noise (seed + the phase 4 runs their history holds)",
    )
    texture.add_argument(
        "--anneal-steps",
        type=int,
        metavar="N",
        help="with --anneal: run N steps instead of the preset's (full: 3000), the weight average's decay set so "
        "the first step keeps 5%% of it (0.999 at 3000 steps); a continuation that fits a shorter sitting",
    )


def run_train_texture(args: argparse.Namespace) -> None:
    """Train ControlNet_uv (lab: :func:`cliphead.lab.texture.recipe.train_texture`); print the final losses."""
    from cliphead.lab.texture.recipe import train_texture
    from cliphead.weights.manifest import WEIGHTS_DIR

    out = _run_folder(args, "runs/texture")
    anneal = None if args.anneal is None else Path(args.anneal) if args.anneal else WEIGHTS_DIR
    payload = train_texture(
        out,
        _preset(args),
        install=args.install,
        base=args.base,
        anneal=anneal,
        anneal_steps=args.anneal_steps,
        device=args.device,
    )
    losses = ", ".join(f"{phase} {value:.4g}" for phase, value in payload["final_loss"].items())
    if is_launched_copy():
        return
    emit(f"trained ControlNet_uv in {payload['seconds']:.0f} s (final losses: {losses}); wrote {out}", payload)


#: ``build data``'s kinds (:data:`cliphead.lab.recipe_data.DATA_KINDS`, named here so that building the parser
#: imports no lab module; kept equal by a test).
DATA_KINDS = ("pairs", "triples", "renders", "head-bank")


def _register_data(commands: CommandTree) -> None:
    """Add ``build data``."""
    data = commands.command(
        "build",
        "data",
        run_build_data,
        help="a recipe's training data into the cache, whole or one shard of it: identity pairs, texture triples, "
        "the image tower's renders, their head bank",
        description="Builds the data a training recipe would build on first use into the user cache, where the "
        "recipe finds it: pairs (the identity pairs' renders of `train mappers`), triples (the texture triples of "
        "`train texture`), renders (the training render set of `train clip`), head-bank (that render set's heads). "
        "The data is made in deterministic chunks, each seeded by its own index: with --shard I/N only chunks k "
        "with k mod N = I - 1 are built, into DIR, so a job array spreads the work over machines; --merge DIR "
        "joins all shards in DIR into the cache, refusing a missing or repeated chunk. Merged shards are byte for "
        "byte the unsharded build: the JSON line gives the arrays' sha256.",
        examples=[
            "cliphead build data pairs --quick",
            "cliphead build data triples --shard 3/8 --out shards/  # on each of 8 machines, I = 1..8",
            "cliphead build data triples --merge shards/",
        ],
        lab=True,
    )
    data.add_argument("kind", choices=DATA_KINDS, help="which data (see above)")
    data.add_argument("--quick", action="store_true", help="the data of the recipe's quick preset")
    data.add_argument("--shard", metavar="I/N", help="build shard I of N (1 <= I <= N) into --out")
    data.add_argument("--out", metavar="DIR", help="with --shard: the folder the shards of all jobs share")
    data.add_argument("--merge", metavar="DIR", help="join the shards in DIR into the cache")
    data.add_argument("--workers", type=int, help="worker processes (default: one a core)")


def run_build_data(args: argparse.Namespace) -> None:
    """Build a recipe's data whole, one shard of it, or merge shards (lab: :mod:`cliphead.lab.shards`)."""
    from cliphead.lab.recipe_data import data_build
    from cliphead.lab.shards import parse_shard

    if args.shard and args.merge or bool(args.shard) != bool(args.out):
        raise ValueError("give --shard I/N with --out DIR, or --merge DIR, or neither (the whole build)")
    build = data_build(args.kind, "quick" if args.quick else "full")
    if args.shard:
        shard = parse_shard(args.shard)
        path = build.shard(shard, Path(args.out), workers=args.workers)
        emit(f"built shard {shard.index}/{shard.count} of {build.key}: {path}", {"shard": str(path)})
        return
    if args.merge:
        payload = build.merge(Path(args.merge))
    else:
        payload = build.record(build.whole(workers=args.workers))
    emit(f"{args.kind} in the cache: {payload['key']}", payload)
