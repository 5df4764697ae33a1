"""What the command modules share: the grammar's command tree, the output contract and shared flags."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cliphead.texture.sampling import SamplingSettings

#: A command's handler: reads the parsed arguments, calls one library function, prints with :func:`emit`.
Handler = Callable[[argparse.Namespace], None]

#: The verbs that name the part they act on, with the help ``cliphead --help`` lists them with.
VERBS = {
    "check": "check that data the project uses is in place and loads",
    "download": "download data the project uses",
    "sample": "draw at random: a head (ICT or neural model), or a painted appearance (the lab's world)",
    "fit": "fit a model to data: the neural head model to a scan",
    "align": "the aligned UV parametrisation of a head mesh (CLIP-Head §2.2)",
    "build": "regenerate a shipped data file from its source (the fixed UV layout), or training data in shards",
    "score": "score images against a prompt (the CLIP score)",
    "train": "train the embedded models",
    "bench": "benchmarks (timings with ratios against a same-run baseline)",
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, except that indented lines (examples, command lists) stay as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            if not line.strip():
                lines.append("")
            elif line.startswith("  "):
                lines.append(indent + line)
            else:
                lines.append(super()._fill_text(line, width, indent))
        return "\n".join(lines)


def epilog(examples: Sequence[str], note: str | None = None) -> str:
    """A subcommand's epilog: an optional note, then its ``examples:`` block (one command per line)."""
    block = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    return f"{note}\n\n{block}" if note else block


class CommandTree:
    """The parser's commands in the grammar ``cliphead VERB [OBJECT] ARGS…``.

    Pipeline verbs stand alone (:meth:`verb`); the other verbs name the part they act on
    (:meth:`command`), and a verb's parser is made when its first object is added; its epilog gathers
    its objects' examples. Every command gets its handler (``args.handler``), an optional description
    and note, and an ``examples:`` epilog; the tree keeps the command names, lab commands apart, for
    :meth:`grammar`.
    """

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._verbs = parser.add_subparsers(title="commands", dest="verb", required=True, metavar="COMMAND")
        #: Per verb with objects: its parser, its objects' subparsers and their examples (the verb's epilog).
        self._objects: dict[str, tuple[argparse.ArgumentParser, argparse._SubParsersAction, list[str]]] = {}
        self.standalone: list[str] = []
        self.with_object: list[str] = []
        self.lab: list[str] = []

    def verb(
        self,
        name: str,
        handler: Handler,
        help: str,
        examples: Sequence[str],
        *,
        description: str | None = None,
        note: str | None = None,
        lab: bool = False,
    ) -> argparse.ArgumentParser:
        """Add ``cliphead NAME ARGS…`` and return its parser, for the arguments."""
        self.standalone.append(name)
        return self._add(self._verbs, name, name, handler, help, examples, description, note, lab)

    def command(
        self,
        verb: str,
        name: str,
        handler: Handler,
        help: str,
        examples: Sequence[str],
        *,
        description: str | None = None,
        note: str | None = None,
        lab: bool = False,
    ) -> argparse.ArgumentParser:
        """Add ``cliphead VERB NAME ARGS…`` (``VERB`` one of :data:`VERBS`) and return its parser."""
        if verb not in self._objects:
            parser = self._verbs.add_parser(
                verb, help=VERBS[verb], description=VERBS[verb], formatter_class=HelpFormatter
            )
            objects = parser.add_subparsers(title="objects", dest="object", required=True, metavar="OBJECT")
            self._objects[verb] = (parser, objects, [])
        parser, objects, verb_examples = self._objects[verb]
        verb_examples += examples
        parser.epilog = epilog(verb_examples)
        self.with_object.append(f"{verb} {name}")
        return self._add(objects, name, f"{verb} {name}", handler, help, examples, description, note, lab)

    def _add(
        self,
        subparsers: argparse._SubParsersAction,
        name: str,
        command: str,
        handler: Handler,
        help: str,
        examples: Sequence[str],
        description: str | None,
        note: str | None,
        lab: bool,
    ) -> argparse.ArgumentParser:
        """Add one command's parser with its texts and handler; record it as a lab command when ``lab``."""
        if lab:
            self.lab.append(command)
        parser = subparsers.add_parser(
            name, help=help, description=description, epilog=epilog(examples, note), formatter_class=HelpFormatter
        )
        parser.set_defaults(handler=handler)
        return parser

    def grammar(self) -> str:
        """The grammar and the list of commands, for ``cliphead --help``."""
        return "\n".join(
            [
                "Commands read VERB [OBJECT] ARGS…: what to do, then what to do it to.",
                _listing("verb alone:", self.standalone),
                _listing("verb + object:", self.with_object),
                _listing("lab commands:", self.lab),
                "",
                "Lab commands make data, train, measure and reproduce the paper's results (cliphead.lab); "
                "the others are what inference needs. `cliphead COMMAND [OBJECT] --help` explains each, with examples.",
            ]
        )


def _listing(label: str, commands: Sequence[str]) -> str:
    """One labelled, indented list of commands, the objects of a verb joined: ``train clip|mappers``.

    A verb and its objects are joined by a no-break space while the list is wrapped, so that no line
    breaks between them.
    """
    objects: dict[str, list[str]] = {}
    for command in commands:
        verb, _, obj = command.partition(" ")
        objects.setdefault(verb, []).append(obj)
    entries = [f"{verb}\N{NO-BREAK SPACE}{'|'.join(names)}" if any(names) else verb for verb, names in objects.items()]
    text = textwrap.fill(
        ", ".join(entries), 100, initial_indent=f"  {label:<15}", subsequent_indent=" " * 17, break_on_hyphens=False
    )
    return text.replace("\N{NO-BREAK SPACE}", " ")


def emit(summary: str, payload: dict) -> None:
    """Print the human summary, then the JSON line (the last line of standard output)."""
    if summary:
        print(summary)
    print(json.dumps(payload, default=float))


def json_argument(text: str) -> dict:
    """A JSON object given inline or as a path to a .json file (``--attributes``)."""
    source = Path(text)
    raw = source.read_text() if text.strip().endswith(".json") and source.is_file() else text
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"--attributes is neither a JSON object nor a path to a .json file: {error}") from None
    if not isinstance(value, dict):
        raise ValueError('--attributes must be a JSON object, e.g. \'{"hair_colour": "red"}\'')
    return value


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """The texture sampler's flags (``cliphead.texture.sampling.SamplingSettings``; its defaults, tested equal)."""
    parser.add_argument("--steps", type=int, default=8, help="UniPC sampling steps (default 8)")
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


def sampling_settings(args: argparse.Namespace) -> SamplingSettings:
    """The sampler's settings from :func:`add_sampling_arguments`' flags (the noise seed is not one of them)."""
    from cliphead.texture.sampling import SamplingSettings

    return SamplingSettings(
        steps=args.steps,
        guidance_scale=args.guidance,
        control_strength=args.control_strength,
        guidance_rescale=args.guidance_rescale,
        clamp_colours=not args.no_colour_clamp,
    )


def add_training_arguments(parser: argparse.ArgumentParser, quick: str, run_folder: str) -> None:
    """The flags every ``cliphead train`` command shares."""
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--out", help=f"run folder (default {run_folder}, or {run_folder}-quick)")
    parser.add_argument("--install", action="store_true", help="ship the result as the embedded default")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
