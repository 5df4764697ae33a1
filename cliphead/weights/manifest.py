"""The shipped weights' manifest: every file in ``cliphead/weights`` with its sha256, size and command.

Regenerating a shipped file is part of the project: the manifest names the exact command, and the
tests check that every listed file is present with the recorded digest.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from cliphead.files import atomic_path

WEIGHTS_DIR = Path(__file__).resolve().parent
MANIFEST = WEIGHTS_DIR / "MANIFEST.json"
#: Largest weights file the project ships (bytes).
MAX_WEIGHTS_BYTES = 16 * 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_size(path: Path) -> None:
    """Refuse a weights file over the 16 MB a shipped file may have."""
    size = Path(path).stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ValueError(f"{Path(path).name} would be {size / 2**20:.1f} MB, over the 16 MB limit of a shipped file.")


def save_weights(tensors: dict[str, torch.Tensor], path: Path, description: dict) -> Path:
    """Write ``tensors`` as safetensors with ``description`` under the one metadata key ``cliphead``.

    One key, its JSON with sorted keys: safetensors stores metadata as a hash map, so several keys would
    come out in a random order and the same weights would not give the same bytes (and sha256) twice.
    Written atomically; a file over 16 MB is refused.
    """
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata={"cliphead": json.dumps(description, sort_keys=True)})
        check_size(temporary)
    return Path(path)


def read_description(path: Path) -> dict:
    """The ``cliphead`` metadata of a safetensors file written by :func:`save_weights`."""
    with safe_open(path, framework="pt") as handle:
        return json.loads((handle.metadata() or {})["cliphead"])


def write_manifest_entry(path: Path, command: str, description: str) -> dict:
    """Record a shipped weights file (size, sha256, the command that produced it) in the manifest."""
    entries = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    entry = {
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "command": command,
        "description": description,
    }
    entries[path.name] = entry
    with atomic_path(MANIFEST) as temporary:
        temporary.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    return entry


def verify_manifest() -> dict[str, bool]:
    """Whether every file listed in the manifest is present with its recorded sha256."""
    entries = json.loads(MANIFEST.read_text())
    return {
        name: (WEIGHTS_DIR / name).is_file() and sha256_of(WEIGHTS_DIR / name) == e["sha256"]
        for name, e in entries.items()
    }


def install_weights(weights: Path, history: Path, target: Path, command: str, description: str) -> dict:
    """Ship ``weights`` as ``target``, its loss ``history`` beside it, and list it in the manifest."""
    shutil.copyfile(weights, target)
    shutil.copyfile(history, target.with_suffix(".history.csv"))
    entry = write_manifest_entry(target, command, description)
    return {"installed": str(target), "sha256": entry["sha256"]}
