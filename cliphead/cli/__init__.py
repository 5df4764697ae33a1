"""``cliphead``: the command line, ``cliphead VERB [OBJECT] ARGS…`` (what to do, then what to do it to).

Pipeline verbs take no object word (``generate``, ``text2head``, ``texture``, ``render``, ``explore``,
``reproduce``);
the other verbs name the part they act on (``check assets``, ``sample head``, ``align uv``, ``train clip``,
``bench uv``, …). Each group of commands is one module with ``register(commands)``, which adds its
commands, their arguments, help texts with examples, and handlers (:class:`~cliphead.cli.common.CommandTree`):

- runtime: :mod:`~cliphead.cli.pipeline` (generate, text2head, texture, render), :mod:`~cliphead.cli.explore`
  (the explorer page), :mod:`~cliphead.cli.assets`
  (check/download assets), :mod:`~cliphead.cli.heads` (sample/fit head), :mod:`~cliphead.cli.uv` (align uv),
  :mod:`~cliphead.cli.clip` (score clip);
- lab: :mod:`~cliphead.cli.world` (sample world), ``build layout|landmark-map`` in :mod:`~cliphead.cli.uv`,
  :mod:`~cliphead.cli.train`, :mod:`~cliphead.cli.bench`, :mod:`~cliphead.cli.reproduce`.

A handler parses its arguments, calls one library function, prints a readable summary and then, as
the very last line of standard output, one JSON object with the same figures (:func:`~cliphead.cli.common.emit`).
Bad input ends with one ``error: …`` line on standard error and exit status 2, never a traceback.

Imports: the command modules import at top level only the standard library, :mod:`cliphead.cli.common`
and light runtime modules (expression labels, the weights folder); never the lab. Each handler imports
the library function it calls when it runs: this is the one deliberate lazy-import boundary. It keeps
the lab (``cliphead.lab``) out of ``cliphead --help`` and of every runtime command, since only the
handlers of lab commands import it; and it keeps torch and the models' modules out of ``cliphead
--help`` and of the commands that do not need them (``cliphead --help`` takes about 1 s instead of 6).
"""

from __future__ import annotations

import argparse
import sys

from cliphead.cli import assets, bench, clip, explore, heads, pipeline, reproduce, train, uv, world
from cliphead.cli.common import CommandTree, HelpFormatter

#: The command modules, in the order ``cliphead --help`` lists their commands.
GROUPS = (pipeline, explore, reproduce, assets, heads, world, uv, clip, train, bench)

EXAMPLES = """examples:
  cliphead generate "a laughing old man with a long face and a grey beard" --out out/generated
  cliphead explore
  cliphead check assets
  cliphead sample head --seed 3 --expression laughing --remesh 160 --out out/head.obj
  cliphead sample head --backend neural --seed 3 --expression laughing --out out/neural.obj
  cliphead fit head scan.npz --out out/fit
  cliphead train head-model --quick
  cliphead bench extract --res 256
  cliphead align uv out/head.obj --out out/uv
  cliphead render out/uv/mesh.obj --texture out/uv/uv_normal.png --kind textured --out out/views
  cliphead bench uv
  cliphead sample world --seed 4 --out out/appearance
  cliphead score clip out/appearance/preview.png --prompt "a face with red hair"
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


def build_parser() -> argparse.ArgumentParser:
    """The ``cliphead`` parser: every group's commands, and the grammar with the command list in ``--help``."""
    parser = argparse.ArgumentParser(prog="cliphead", epilog=EXAMPLES, formatter_class=HelpFormatter)
    commands = register_commands(parser)
    parser.description = (
        "CLIP-Head companion: text-guided textured neural parametric heads, reproducibly.\n\n" + commands.grammar()
    )
    return parser


def register_commands(parser: argparse.ArgumentParser) -> CommandTree:
    """Add every group's commands to ``parser``; returns the tree, which knows their names."""
    commands = CommandTree(parser)
    for group in GROUPS:
        group.register(commands)
    return commands


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 (with one ``error:`` line on stderr) on bad input."""
    from cliphead.assets import AssetNotFoundError
    from cliphead.meshes import MeshError

    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (MeshError, AssetNotFoundError, FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    return 0
