"""Reading published PyTorch checkpoints (``torch.save`` files) safely: tensors only, on the CPU."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch


def load_weights_only(path: Path, *, missing: str, save_instead: str) -> object:
    """``torch.load`` of ``path`` with ``weights_only=True`` on the CPU; a missing file raises
    FileNotFoundError(``missing``), a pickled module or a file that is not a ``torch.save`` ValueError, the
    first saying what to save (``save_instead``) so that the load succeeds."""
    if not path.is_file():
        raise FileNotFoundError(missing)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path} holds more than tensors (a pickled module?), which a weights-only load refuses: save "
            f"{save_instead} instead ({str(error).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise ValueError(f"{path} is not a torch.save file ({error}).") from None
