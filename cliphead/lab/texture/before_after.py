"""ControlNet_uv before and after a change of its weights, on the same heads (the README's comparison figure).

Earlier weights are read from the repository's history (``git show COMMIT:cliphead/weights/…``), so the
figure is redrawn from the documented command on any full clone. Both models texture the same head of
each prompt: the pipeline's geometry and the texture's noise depend on the generator's seed alone.
"""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from cliphead.lab.heads.figures import save_figure
from cliphead.lab.world.face_check import face_detected, face_window
from cliphead.texture.checkpoints import PARTS, load_embedded, part_path
from cliphead.texture.models import ControlNetUV
from cliphead.weights.manifest import WEIGHTS_DIR

#: The last commit whose ControlNet_uv was trained on the plain painter's textures alone.
PLAIN_PAINTER_WEIGHTS = "ea6af7f"


def weights_at(commit: str, folder: Path) -> Path:
    """Write the texture model's three weight files as they were at ``commit`` into ``folder``; return it."""
    root = Path(__file__).resolve().parents[3]
    folder.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        relative = part_path(WEIGHTS_DIR, part).relative_to(root).as_posix()
        shown = subprocess.run(["git", "show", f"{commit}:{relative}"], cwd=root, capture_output=True)
        if shown.returncode != 0:
            raise FileNotFoundError(
                f"{relative} at {commit} is not in this checkout's history ({shown.stderr.decode().strip()}); "
                "a shallow clone lacks it: `git fetch --unshallow`."
            )
        part_path(folder, part).write_bytes(shown.stdout)
    return folder


def model_at(commit: str, folder: Path) -> ControlNetUV:
    """The embedded texture model as it was shipped at ``commit`` (its weights written into ``folder``)."""
    return load_embedded(weights_at(commit, folder))


def before_after_heads(pipeline, before: ControlNetUV, prompts: Sequence[str], seed: int = 0, settings=None) -> list:
    """``(before, after)`` textured heads of each prompt: the pipeline's own texture model is the after."""
    earlier = copy.copy(pipeline)
    earlier.texture_model = before
    pairs = []
    for prompt in prompts:
        after_head = pipeline(prompt, settings=settings, generator=torch.Generator().manual_seed(seed))
        before_head = earlier(prompt, settings=settings, generator=torch.Generator().manual_seed(seed))
        pairs.append((before_head, after_head))
    return pairs


def before_after_figure(
    prompts: Sequence[str], pairs: Sequence[tuple], renders: Sequence[tuple[np.ndarray, np.ndarray]], path: Path
) -> Path:
    """One row per prompt: the before and after textured renders and their textures' face windows (flat,
    unlit; each titled with whether MediaPipe's face detector finds a face in it)."""
    figure, axes = plt.subplots(len(prompts), 4, figsize=(8.4, 2.2 * len(prompts)), squeeze=False)
    titles = ("before: render", "after: render", "before: face window", "after: face window")
    for row, (prompt, (before, after), (before_view, after_view)) in enumerate(zip(prompts, pairs, renders)):
        panels = (before_view, after_view, face_window(before.texture), face_window(after.texture))
        for column, panel in enumerate(panels):
            axis = axes[row, column]
            axis.imshow(np.clip(panel, 0, 1))
            axis.set(xticks=[], yticks=[])
            title = titles[column] if row == 0 else ""
            if column >= 2:
                found = face_detected((before, after)[column - 2].texture)
                title = f"{title}\n" if title else ""
                title += "face found" if found else "no face found"
            axis.set_title(title, fontsize=8)
        axes[row, 0].set_ylabel(prompt, fontsize=7, wrap=True)
    figure.suptitle(
        "ControlNet_uv before (plain painter) and after (detailed painter), same heads and seeds", fontsize=9
    )
    return save_figure(figure, path)
