"""``explore``: the explorer panel (:mod:`cliphead.explorer`) as a web page on localhost, served by Voilà."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from cliphead.cli.common import CommandTree, emit

DEFAULT_PORT = 8866


def register(commands: CommandTree) -> None:
    """Add ``explore``."""
    explore = commands.verb(
        "explore",
        run_explore,
        help="the interactive explorer as a web page on localhost (prompt → textured head in a 3D view)",
        description="Serves the explorer panel of notebook 10 as a page at http://127.0.0.1:PORT/ through Voilà "
        "(a notebook rendered as an app: no code shown) and opens it in the default browser unless --no-browser. "
        "Type a prompt and press Enter; the seed, expression and identity controls act when released; drag the "
        "head to turn it. Everything is served from this machine: no network is needed. Ctrl-C stops it.",
        examples=["cliphead explore", "cliphead explore --port 9000 --no-browser"],
    )
    explore.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    explore.add_argument("--no-browser", action="store_true", help="do not open a browser; just print the address")
    explore.add_argument("--prompt", default=None, help="the first head's prompt (default: the explorer's)")


def explorer_notebook(prompt: str | None) -> dict:
    """The one-cell notebook Voilà renders: the explorer panel."""
    call = f"explorer(prompt={prompt!r})" if prompt else "explorer()"
    cells = [
        {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# cliphead explorer"},
        {
            "cell_type": "code",
            "id": "explorer",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": f"from cliphead.explorer import explorer\n\n{call}",
        },
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


def run_explore(args: argparse.Namespace) -> None:
    """Serve the explorer until Ctrl-C (or until Voilà stops)."""
    url = f"http://127.0.0.1:{args.port}/"
    with tempfile.TemporaryDirectory(prefix="cliphead-explore-") as folder:
        notebook = Path(folder) / "explorer.ipynb"
        notebook.write_text(json.dumps(explorer_notebook(args.prompt)))
        command = [sys.executable, "-m", "voila", str(notebook), f"--port={args.port}", "--Voila.ip=127.0.0.1"]
        command += ["--no-browser"] if args.no_browser else []
        # Its own session: Ctrl-C reaches this process alone, which stops the server without Jupyter's prompt; so
        # does a SIGTERM (a test's, a job runner's), so the server never outlives this command.
        server = subprocess.Popen(command + ["--theme=light"], cwd=folder, start_new_session=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, frame: server.terminate())
        print(f"explorer: {url} (the first head takes a few seconds; Ctrl-C stops it)", flush=True)
        returncode = server.wait()
        emit("explorer stopped", {"url": url, "returncode": returncode})
