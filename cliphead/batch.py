"""``cliphead generate``'s prompts → folders: one prompt, or a file of them, each head in its own folder.

The models load once (:class:`~cliphead.pipeline.CLIPHeadPipeline`); every prompt is generated with a
generator seeded the same, so a head of a batch is the head its prompt gives alone. One prompt is
written into the output folder itself; several go into subfolders named after their prompts.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from cliphead.outputs import write_textured_head
from cliphead.pipeline import CLIPHeadPipeline, PipelineSettings
from cliphead.uv.aligned import AlignedHead
from cliphead.uv.incoming import AlignedMesh

#: Stages a progress bar counts per head: the pipeline's four reports, then writing the files.
PROGRESS_STAGES = 5


def read_prompts(prompt: str | None = None, prompts_file: str | os.PathLike | None = None) -> list[str]:
    """``[prompt]``, or the lines of ``prompts_file`` (one prompt per line; blank lines and ``#`` comments skipped)."""
    if prompts_file:
        path = Path(prompts_file)
        if not path.is_file():
            raise FileNotFoundError(f"No prompt file at {path} (one prompt per line).")
        prompts = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    else:
        prompts = [prompt] if prompt else []
    if not prompts:
        raise ValueError("Give a PROMPT, or --prompts FILE with one prompt per line.")
    return prompts


def folder_name(prompt: str, index: int) -> str:
    """A batch head's subfolder: its index, then the prompt's words joined by ``_`` (48 characters at most)."""
    words = "".join(c if c.isalnum() else " " for c in prompt.lower()).split()
    return f"{index:02d}_" + "_".join(words)[:48]


def generate_heads(
    pipeline: CLIPHeadPipeline,
    prompts: list[str],
    out: Path,
    settings: PipelineSettings,
    seed: int = 0,
    replace: bool = False,
    mesh: tuple[AlignedHead, AlignedMesh] | None = None,
) -> list[dict]:
    """Generate and write the textured head of each prompt (:func:`~cliphead.outputs.write_textured_head`).

    ``out`` is emptied first when ``replace``. ``mesh``: a given head in the aligned layout and its record
    (:func:`cliphead.uv.incoming.aligned_mesh_file`), textured for every prompt instead of the prompt's
    head. A progress bar per head goes to standard error. Returns,
    per head, its prompt, folder, seconds per stage (writing included) and their total, whether it
    was rectified and the landmark error after rectification.
    """
    out = Path(out)
    folders = [out] if len(prompts) == 1 else [out / folder_name(prompt, k) for k, prompt in enumerate(prompts)]
    if replace and out.exists():
        shutil.rmtree(out)
    results = []
    for prompt, folder in zip(prompts, folders):
        with tqdm(total=PROGRESS_STAGES, desc=prompt[:40], unit="stage", file=sys.stderr) as bar:

            def advance(stage: str) -> None:
                """Tick the bar for the stage that ended (none before the first) and show the next."""
                if bar.n or stage != "text":
                    bar.update()
                bar.set_postfix_str(stage)

            generator = torch.Generator().manual_seed(seed)
            given = mesh[0] if mesh else None
            head = pipeline(prompt, settings=settings, generator=generator, mesh=given, progress=advance)
            advance("writing files")
            start = time.perf_counter()
            meta = write_textured_head(folder, head, pipeline.backends, mesh[1] if mesh else None)
            bar.update()
        seconds = {**meta["seconds"], "write": round(time.perf_counter() - start, 3)}
        results.append(
            {
                "prompt": prompt,
                "out": str(folder),
                "seconds": seconds,
                "total_seconds": round(sum(seconds.values()), 3),
                "rectified": meta["rectified"],
                "landmark_error_after": meta["landmark_error_after"],
            }
        )
    return results
