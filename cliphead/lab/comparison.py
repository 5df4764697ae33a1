"""CLIP-Head against its baselines: the CLIP-score table (§3, Table 1) and prompt faithfulness (notebook 08).

Every method turns each prompt of :data:`COMPARISON_PROMPTS` into a textured head; each head is rendered
the same way (front and three-quarter views, white background) and scored with every encoder given:
the CLIP score is the cosine of the prompt's text embedding and the renders' image embeddings,
averaged over the views (:func:`cliphead.clip.score.clip_score`). Encoders whose weights are absent
are reported as not available, never estimated. Faithfulness is objective: the prompt's requested
attribute measured in its region of the texture (:mod:`cliphead.lab.texture.measure`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ComparisonPrompt:
    text: str
    attribute: str  # the attribute measured for faithfulness
    value: str


#: The documented evaluation prompts: appearance, expression and shape words together, in sentence frames
#: no training caption uses; each names one measured attribute.
#: The README gallery's prompts: six expressions (``figures/gallery_expressions.png``, ``texture_before_after.png``).
GALLERY_PROMPTS = (
    "a laughing old man with a grey beard",
    "a young woman with red hair, smiling",
    "an angry man with black hair",
    "a surprised woman with blonde hair",
    "a sad old woman with white hair",
    "a pouting young man with blue hair",
)
COMPARISON_PROMPTS = (
    ComparisonPrompt("a portrait of a laughing old man whose hair is white", "hair_colour", "white"),
    ComparisonPrompt("a portrait of a smiling young woman whose hair is red", "hair_colour", "red"),
    ComparisonPrompt("a portrait of an angry person whose hair is blue, with a long face", "hair_colour", "blue"),
    ComparisonPrompt("a portrait of a surprised man whose hair is black", "hair_colour", "black"),
    ComparisonPrompt("a portrait of a sad woman whose hair is blonde, with a wide nose", "hair_colour", "blonde"),
    ComparisonPrompt("a portrait of a pouting young person whose hair is pink", "hair_colour", "pink"),
    ComparisonPrompt("somebody whose lips are painted red, with a happy smile", "lipstick", "red"),
    ComparisonPrompt("somebody whose lips are painted purple, looking surprised", "lipstick", "purple"),
    ComparisonPrompt("a portrait of a man whose full beard is grey, with a big laugh", "beard_colour", "grey"),
    ComparisonPrompt("a portrait of a man whose full beard is brown, looking angry", "beard_colour", "brown"),
    ComparisonPrompt("a portrait of someone whose complexion is dark, smiling", "skin", "dark"),
    ComparisonPrompt("a portrait of someone whose complexion is light, with a narrow face", "skin", "light"),
    ComparisonPrompt("a portrait of someone made up as a tiger, roaring", "style", "tiger"),
    ComparisonPrompt("a portrait of someone as a blue-skinned alien", "style", "alien"),
    ComparisonPrompt("a portrait of someone as a gold statue, with a neutral expression", "style", "gold statue"),
    ComparisonPrompt("a portrait of someone wearing clown makeup, laughing", "style", "clown"),
)

#: The views every head is scored from (yaw in degrees).
SCORE_YAWS = (0.0, 35.0)


def render_views(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, texture: np.ndarray, size: int) -> np.ndarray:
    """The textured head from :data:`SCORE_YAWS`, shaded, on white: ``(views, size, size, 3)``."""
    from cliphead.lab.world.renders import BankHead
    from cliphead.render.lit import View, render_head

    head = BankHead(vertices, faces, uv, np.zeros((68, 3)), 0, "")
    return np.stack(
        [
            render_head(head, texture, View(yaw, 0.0, (0.3, 0.4, 0.87), 0.35, (1.0, 1.0, 1.0)), size)
            for yaw in SCORE_YAWS
        ]
    )


def compare_methods(
    methods: Mapping[str, Callable[[str], object]],
    encoders: Mapping[str, object],
    prompts=COMPARISON_PROMPTS,
    render_size: int = 128,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """One row per (method, prompt): seconds, the measured attribute, and a CLIP score per encoder.

    A method maps a prompt to an object with ``vertices``, ``faces``, ``uv``, ``texture`` and
    ``seconds`` (a number, or a dict of stages). Also returns the renders, keyed by (method, prompt).
    """
    from tqdm.auto import tqdm

    from cliphead.clip.score import clip_score
    from cliphead.lab.texture.evaluation import measurable_texture
    from cliphead.lab.texture.measure import measure_attributes

    rows, renders = [], {}
    for method, make in methods.items():
        for prompt in tqdm(prompts, desc=method, unit="prompt", disable=not progress):
            head = make(prompt.text)
            seconds = sum(head.seconds.values()) if isinstance(head.seconds, dict) else head.seconds
            views = render_views(head.vertices, head.faces, head.uv, head.texture, render_size)
            renders[method, prompt.text] = views
            row = {
                "method": method,
                "prompt": prompt.text,
                "attribute": prompt.attribute,
                "requested": prompt.value,
                "measured": measure_attributes(measurable_texture(head.texture))[prompt.attribute],
                "seconds": seconds,
            }
            for name, encoder in encoders.items():
                row[f"clip {name}"] = clip_score(encoder, prompt.text, views)
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame["faithful"] = frame["measured"] == frame["requested"]
    return frame, renders


def table_1(frame: pd.DataFrame, encoder_columns: Mapping[str, str | None]) -> pd.DataFrame:
    """The paper's Table 1 layout: mean ± std CLIP score per method (rows) and encoder (columns).

    ``encoder_columns`` maps a column title to the frame's score column, or to None for an encoder
    whose weights are absent ("not available").
    """
    table = {}
    for title, column in encoder_columns.items():
        if column is None:
            table[title] = {method: "not available" for method in frame["method"].unique()}
        else:
            stats = frame.groupby("method", sort=False)[column].agg(["mean", "std"])
            table[title] = {m: f"{row['mean']:.4f} ± {row['std']:.4f}" for m, row in stats.iterrows()}
    summary = pd.DataFrame(table)
    summary["attribute faithfulness"] = frame.groupby("method", sort=False)["faithful"].mean().round(3)
    summary["seconds per prompt"] = frame.groupby("method", sort=False)["seconds"].median().round(2)
    summary.index.name = "method"
    return summary.reset_index()


def methods_figure(renders: Mapping[tuple[str, str], np.ndarray], methods, prompts, path) -> object:
    """Fig. 4: the methods (rows) on the same prompts (columns), front views."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cliphead.lab.heads.figures import save_figure

    figure, axes = plt.subplots(
        len(methods), len(prompts), figsize=(2.1 * len(prompts), 2.3 * len(methods)), squeeze=False
    )
    for row, method in enumerate(methods):
        for column, prompt in enumerate(prompts):
            axis = axes[row, column]
            axis.imshow(renders[method, prompt.text][0])
            axis.set(xticks=[], yticks=[])
            if column == 0:
                axis.set_ylabel(method, fontsize=9)
            if row == len(methods) - 1:
                axis.set_xlabel("\n".join(textwrap.wrap(prompt.text, 24)), fontsize=6)
    return save_figure(figure, path)
