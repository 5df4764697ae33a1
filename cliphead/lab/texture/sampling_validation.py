"""Choosing the sampler's settings on prompts and heads the evaluation does not use.

The texture evaluation (:mod:`.evaluation`) must not choose anything, so the number of solver steps,
the guidance scale, the guidance rescale and the colour clamp (:mod:`cliphead.texture.sampling`) are
compared here on their
own set: every measured attribute (hair, skin, lipstick, beard colour and the stylisations) in
sentence frames and wordings that are not the evaluation's (:data:`~cliphead.lab.texture.evaluation.FRAMES`, each
stylisation's first phrase), on heads that are not its heads (another seed of
:func:`~cliphead.lab.texture.evaluation.evaluation_heads`). Each candidate generates the full texture of
every prompt on every head from the same noise, and the measuring instrument reads the attribute off
it (:func:`~cliphead.lab.texture.measure.measure_attributes`). The choice is the candidate that finds the
most requested attributes of all kinds (``all attributes``), so that a guidance that finds more
colours at the price of the stylisations is not chosen.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import pandas as pd

from cliphead.lab.world.attributes import SKIN_BUCKETS
from cliphead.lab.world.vocabulary import HAIR_WORDS, LIPSTICK_WORDS, STYLE_PHRASES, fix_articles
from cliphead.texture.models import ControlNetUV
from cliphead.texture.sampling import SamplingSettings

#: Sentence frames of the validation prompts, per measured attribute.
VALIDATION_FRAMES = {
    "hair_colour": "a person with {} hair",
    "skin": "a person with {} skin",
    "lipstick": "a woman wearing {} lipstick",
    "beard_colour": "a man with a {} full beard",
    "style": "a person {}",
}
#: Seed of the validation heads (the evaluation's are TextureEvalConfig.seed = 7).
VALIDATION_HEAD_SEED = 11
#: The candidates compared: guidance 3 without corrections, with each correction and with both; guidance
#: 5 to 15 with both; guidance 7.5 and 10 without the rescale, and 10 without the clamp (each at the
#: default's steps); then the default's guidance at 6 to 20 solver steps.
CANDIDATES = (
    SamplingSettings(guidance_scale=3.0, guidance_rescale=0.0, clamp_colours=False),
    SamplingSettings(guidance_scale=3.0, guidance_rescale=0.0, clamp_colours=True),
    SamplingSettings(guidance_scale=3.0, guidance_rescale=0.7, clamp_colours=False),
    SamplingSettings(guidance_scale=3.0, guidance_rescale=0.7, clamp_colours=True),
    SamplingSettings(guidance_scale=5.0, guidance_rescale=0.7, clamp_colours=True),
    SamplingSettings(guidance_scale=7.5, guidance_rescale=0.7, clamp_colours=True),
    SamplingSettings(guidance_scale=10.0, guidance_rescale=0.7, clamp_colours=True),
    SamplingSettings(guidance_scale=15.0, guidance_rescale=0.7, clamp_colours=True),
    SamplingSettings(guidance_scale=7.5, guidance_rescale=0.0, clamp_colours=True),
    SamplingSettings(guidance_scale=10.0, guidance_rescale=0.0, clamp_colours=True),
    SamplingSettings(guidance_scale=10.0, guidance_rescale=0.7, clamp_colours=False),
    *(SamplingSettings(steps=steps) for steps in (6, 8, 12, 20)),
)


def validation_prompts() -> list[tuple[str, str, str]]:
    """(prompt, attribute, requested value) for every value of the measured attributes (stylisations in
    their second phrasing; the evaluation uses the first)."""
    values = {
        "hair_colour": {colour: words[0] for colour, words in HAIR_WORDS.items()},
        "skin": {bucket: bucket for bucket in SKIN_BUCKETS},
        "lipstick": {colour: words[0] for colour, words in LIPSTICK_WORDS.items()},
        "beard_colour": {colour: words[0] for colour, words in HAIR_WORDS.items()},
        "style": {style: phrases[1] for style, phrases in STYLE_PHRASES.items()},
    }
    return [
        (fix_articles(VALIDATION_FRAMES[attribute].format(word)), attribute, value)
        for attribute, words in values.items()
        for value, word in words.items()
    ]


def sampling_sweep(
    model: ControlNetUV,
    candidates: tuple[SamplingSettings, ...] = CANDIDATES,
    n_heads: int = 4,
    prompt_stride: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per candidate: its settings, the accuracy of each attribute, of the colour attributes
    pooled and of all attributes pooled (the choice), seconds."""
    from tqdm.auto import tqdm

    from cliphead.lab.texture.evaluation import COLOUR_ATTRIBUTES, TextureEvalConfig, evaluation_heads
    from cliphead.texture.generate import layout_hints
    from cliphead.lab.texture.measure import attribute_found
    from cliphead.texture.sampling import generate_textures

    prompts = validation_prompts()[::prompt_stride]
    heads = evaluation_heads(TextureEvalConfig(n_heads=n_heads, seed=VALIDATION_HEAD_SEED))
    hints = [layout_hints(head.normal_map, model.texture_size)[0] for head in heads]
    rows = []
    for settings in tqdm(candidates, desc="sampling validation", unit="setting", disable=not progress):
        start = time.perf_counter()
        found: dict[str, list[bool]] = {}
        for h, whole in enumerate(hints):
            textures = generate_textures(
                model,
                np.repeat(whole[None], len(prompts), axis=0),
                [text for text, _, _ in prompts],
                settings,
                seed=1000 * h,
            )
            for (_, attribute, value), texture in zip(prompts, textures):
                found.setdefault(attribute, []).append(attribute_found(texture, attribute, value))
        record = asdict(settings)
        record.update({attribute: float(np.mean(hits)) for attribute, hits in found.items()})
        colours = [hit for attribute, hits in found.items() if attribute in COLOUR_ATTRIBUTES for hit in hits]
        record["colour attributes"] = float(np.mean(colours))
        record["all attributes"] = float(np.mean([hit for hits in found.values() for hit in hits]))
        record["textures"] = sum(len(hits) for hits in found.values())
        record["seconds"] = round(time.perf_counter() - start, 1)
        rows.append(record)
    return pd.DataFrame(rows)
