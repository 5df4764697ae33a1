"""Evaluation of ControlNet_uv's textures on held-out prompts and heads (``results/texture_eval.csv``).

Four measures, each on textures of heads the model never saw (identities of the head model drawn
with another seed than the training triples') for prompts whose sentence frames no training caption
uses (:func:`evaluation_prompts`):

- **attribute accuracy**: the requested hair colour, skin bucket, lipstick, beard colour or
  stylisation found in its region of the layout by :mod:`cliphead.lab.texture.measure`, an instrument
  calibrated on painter textures (its own accuracy is reported beside, and its accuracy on painter
  textures passed through the model's autoencoder: the most a texture decoded from the latent space
  can reach, :func:`autoencoder_round_trip`);
- **CLIP score** (CLIP-Head §3: cosine of the prompt's text embedding and the textured render's image
  embedding, averaged over views) with the embedded ``lit-minilm`` encoder, for the generated texture,
  a painter texture of a record that satisfies the prompt (a reference), and the generated texture of
  another prompt on the same head (a floor);
- **diversity**: mean RMS difference between textures of one prompt under different seeds, against
  that between textures of different prompts;
- **rectification** (supplementary §3): mediapipe's detection rate on full and partial textures, the
  landmark error (fraction of the texture width) of both where both are found, before and after
  where the rectification runs, and of the texture that comes out.

:func:`evaluate_textures` gives one row per generated texture (``results/texture_eval_items.csv``) and
:func:`~cliphead.lab.texture.summary.summarise` the table. :func:`prompt_knowledge` reads what the
denoisers take from the prompt alone (``results/texture_prompt_knowledge.csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from cliphead.clip.encoder import ImageTextEncoder
from cliphead.lab.texture.data import SOURCE_SIZE, TextureTriples
from cliphead.lab.world.attributes import SKIN_BUCKETS
from cliphead.lab.world.vocabulary import HAIR_WORDS, LIPSTICK_WORDS, STYLE_PHRASES, fix_articles
from cliphead.texture.models import ControlNetUV
from cliphead.texture.sampling import DEFAULT_SAMPLING, SamplingSettings

#: Held-out sentence frames: the attribute in the training captions' words, the sentence in none of theirs.
FRAMES = {
    "hair_colour": "a portrait of someone whose hair is {}",
    "skin": "a portrait of someone whose complexion is {}",
    "lipstick": "somebody whose lips are painted {}",
    "beard_colour": "a portrait of a man whose full beard is {}",
    "style": "a portrait of someone {}",
}
#: Colour attributes, held to an accuracy bar (:data:`~cliphead.lab.texture.summary.ACCURACY_BAR`);
#: stylisation is reported beside.
COLOUR_ATTRIBUTES = ("hair_colour", "skin", "lipstick", "beard_colour")
#: Colour words that no training caption uses (:func:`~cliphead.lab.world.vocabulary.training_vocabulary`),
#: each with the hair colour it names; asked in the hair frame and measured as the hair colour. Fixed
#: before the detailed-painter model was trained, never tuned on.
UNSEEN_HAIR_WORDS = {
    "raven": "black",
    "chestnut": "brown",
    "flaxen": "blonde",
    "crimson": "red",
    "silvery": "grey",
    "snowy": "white",
    "azure": "blue",
    "cobalt": "blue",
    "magenta": "pink",
    "fuchsia": "pink",
    "emerald": "green",
    "violet": "purple",
    "lilac": "purple",
}
#: The attribute name of the unseen-word prompts, and the measured attribute each evaluated attribute reads.
UNSEEN_WORD_ATTRIBUTE = "hair_colour, unseen word"
MEASURED_AS = {UNSEEN_WORD_ATTRIBUTE: "hair_colour"}
#: Monk tone painted for the reference texture of each skin bucket (its middle tone).
BUCKET_TONES = {bucket: (low + high) // 2 for bucket, (low, high) in SKIN_BUCKETS.items()}


@dataclass(frozen=True)
class TexturePrompt:
    """A held-out prompt, the attribute and value it asks for, and a record that satisfies it."""

    text: str
    attribute: str
    value: str
    overrides: dict


def evaluation_prompts() -> list[TexturePrompt]:
    """One prompt per value of every measured attribute (10 hair, 3 skin, 5 lipstick, 10 beard, 10 styles),
    then one per unseen hair-colour word (:data:`UNSEEN_HAIR_WORDS`)."""
    prompts = []
    for colour, words in HAIR_WORDS.items():
        prompts.append(
            TexturePrompt(
                FRAMES["hair_colour"].format(words[0]),
                "hair_colour",
                colour,
                {"hair_colour": colour, "hair": "full", "style": "none"},
            )
        )
    for bucket in SKIN_BUCKETS:
        prompts.append(
            TexturePrompt(
                FRAMES["skin"].format(bucket), "skin", bucket, {"skin_tone": BUCKET_TONES[bucket], "style": "none"}
            )
        )
    for colour, words in LIPSTICK_WORDS.items():
        prompts.append(
            TexturePrompt(
                FRAMES["lipstick"].format(words[0]),
                "lipstick",
                colour,
                {"lipstick": colour, "beard": "none", "style": "none"},
            )
        )
    for colour, words in HAIR_WORDS.items():
        prompts.append(
            TexturePrompt(
                FRAMES["beard_colour"].format(words[0]),
                "beard_colour",
                colour,
                {"beard": "full beard", "beard_colour": colour, "style": "none"},
            )
        )
    for style, phrases in STYLE_PHRASES.items():
        prompts.append(
            TexturePrompt(fix_articles(FRAMES["style"].format(phrases[0])), "style", style, {"style": style})
        )
    for word, colour in UNSEEN_HAIR_WORDS.items():
        overrides = {"hair_colour": colour, "hair": "full", "style": "none"}
        prompts.append(TexturePrompt(FRAMES["hair_colour"].format(word), UNSEEN_WORD_ATTRIBUTE, colour, overrides))
    return prompts


@dataclass(frozen=True)
class TextureEvalConfig:
    """Held-out heads, seeds per prompt, the diversity subset, render size and sampling steps."""

    n_heads: int = 3
    seeds_per_prompt: int = 1
    diversity_prompts: int = 8
    diversity_seeds: int = 4
    render_size: int = 128
    steps: int = DEFAULT_SAMPLING.steps
    head_resolution: int = 96
    prompt_stride: int = 1  # every n-th prompt (quick runs)
    seed: int = 7


#: ``full`` is the evaluation of notebook 07 and results/texture_eval.csv; ``quick`` a twelfth of the prompts on one head.
EVALUATION_PRESETS = {
    "full": TextureEvalConfig(),
    "quick": TextureEvalConfig(
        n_heads=1, seeds_per_prompt=1, diversity_prompts=2, diversity_seeds=2, render_size=96, prompt_stride=12
    ),
}


@dataclass(frozen=True)
class HeldOutHead:
    """A held-out head: its aligned-UV mesh and its normal map baked in the layout."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    normal_map: np.ndarray  # (512, 512, 3) in [0, 1]


def evaluation_heads(config: TextureEvalConfig) -> list[HeldOutHead]:
    """Held-out heads: identities of the head model from another seed, each with a random labelled expression."""
    from cliphead.heads.checkpoints import cached_head_model
    from cliphead.heads.expressions import EXPRESSION_LABELS
    from cliphead.meshes import MeshError
    from cliphead.uv.aligned import aligned_model_head
    from cliphead.uv.bake import uv_normal_map

    model = cached_head_model(None)
    heads = []
    rng = np.random.default_rng([config.seed, 3])
    while len(heads) < config.n_heads:
        expression = EXPRESSION_LABELS[int(rng.integers(len(EXPRESSION_LABELS)))]
        z_id = model.sample_identity_code(int(rng.integers(2**31)))
        try:
            head = aligned_model_head(model, z_id, model.expression_code(expression), config.head_resolution)
        except MeshError:  # a code whose mesh is not a disk (about 1 in 20): draw another
            continue
        normal_map = uv_normal_map(head.vertices, head.faces, head.uv, SOURCE_SIZE)
        heads.append(HeldOutHead(head.vertices, head.faces, head.uv, normal_map))
    return heads


def _views(head: HeldOutHead, texture: np.ndarray, size: int) -> np.ndarray:
    """Front and three-quarter renders of the head wearing the texture (the CLIP score's views)."""
    from cliphead.lab.world.renders import BankHead
    from cliphead.render.lit import View, render_head

    bank_head = BankHead(head.vertices, head.faces, head.uv, np.zeros((68, 3)), 0, "")
    views = [View(yaw, 0.0, (0.3, 0.4, 0.87), 0.35, (1.0, 1.0, 1.0)) for yaw in (0.0, 35.0)]
    return np.stack([render_head(bank_head, texture, view, size) for view in views])


def _reference_texture(prompt: TexturePrompt, seed: int) -> np.ndarray:
    from cliphead.lab.world.painter import paint_texture
    from cliphead.lab.world.records import sampled_record

    return paint_texture(sampled_record(seed, prompt.overrides), 256, seed=seed)


def measurable_texture(texture: np.ndarray) -> np.ndarray:
    """The texture at a size the instrument reads (128, 256 or 512; another backend's size is resampled to 128)."""
    from cliphead.texture.landmarks import resize_image
    from cliphead.lab.texture.measure import MEASURE_SIZE

    return texture if texture.shape[0] in (128, 256, 512) else resize_image(texture, MEASURE_SIZE)


def evaluate_textures(
    model: ControlNetUV, config: TextureEvalConfig, encoder: ImageTextEncoder | None = None, progress: bool = True
) -> pd.DataFrame:
    """One row per (prompt, head, seed): measured attribute, CLIP scores, rectification outcome."""
    from tqdm.auto import tqdm

    from cliphead.clip.registry import cached_encoder
    from cliphead.clip.score import clip_score
    from cliphead.texture.generate import texture_head
    from cliphead.lab.texture.measure import measure_attributes
    from cliphead.lab.world.face_check import face_detected

    encoder = encoder or cached_encoder("lit-minilm")
    prompts = evaluation_prompts()[:: config.prompt_stride]
    heads = evaluation_heads(config)
    items = [(p, h, s) for p in range(len(prompts)) for h in range(len(heads)) for s in range(config.seeds_per_prompt)]
    generated: dict[tuple[int, int, int], np.ndarray] = {}
    rows = []
    for p, h, s in tqdm(items, desc="texture evaluation", unit="texture", disable=not progress):
        prompt, head = prompts[p], heads[h]
        settings = SamplingSettings(steps=config.steps)
        result = texture_head(model, head.normal_map, prompt.text, settings, seed=1000 * s + 10 * h)
        generated[p, h, s] = result.texture
        rectification = result.rectification
        measured_as = MEASURED_AS.get(prompt.attribute, prompt.attribute)
        rows.append(
            {
                "prompt": prompt.text,
                "attribute": prompt.attribute,
                "requested": prompt.value,
                "head": h,
                "seed": s,
                "measured": measure_attributes(measurable_texture(result.texture))[measured_as],
                "measured_full": measure_attributes(measurable_texture(result.full))[measured_as],
                "clip_generated": clip_score(encoder, prompt.text, _views(head, result.texture, config.render_size)),
                "clip_reference": clip_score(
                    encoder, prompt.text, _views(head, _reference_texture(prompt, s), config.render_size)
                ),
                "window_detected": face_detected(result.texture),
                "full_detected": rectification.full_landmarks is not None,
                "partial_detected": rectification.partial_landmarks is not None,
                "rectified": rectification.rectified,
                "warped": rectification.warped,
                "error_before": rectification.error_before,
                "error_partial": rectification.error_partial,
                "error_after": rectification.error_after,
                "skipped_because": rectification.reason,
            }
        )
    frame = pd.DataFrame(rows)
    frame["found"] = frame["measured"] == frame["requested"]
    frame["found_full"] = frame["measured_full"] == frame["requested"]
    # The floor: the texture generated for another prompt (half the list away) on the same head and seed.
    frame["clip_other_prompt"] = [
        clip_score(
            encoder,
            prompts[p].text,
            _views(heads[h], generated[(p + len(prompts) // 2) % len(prompts), h, s], config.render_size),
        )
        for p, h, s in items
    ]
    return frame


def autoencoder_round_trip(model: ControlNetUV) -> Callable[[np.ndarray], np.ndarray]:
    """A texture (S, S, 3) in [0, 1] → its reconstruction by the model's autoencoder (posterior mean), at size S."""
    from cliphead.texture.landmarks import resize_image
    from cliphead.texture.sampling import decode
    from cliphead.lab.texture.training import encode_latents

    def round_trip(texture: np.ndarray) -> np.ndarray:
        return resize_image(decode(model, encode_latents(model, texture[None]))[0], texture.shape[0])

    return round_trip


def diversity(model: ControlNetUV, config: TextureEvalConfig) -> dict[str, float]:
    """Mean RMS difference (colour units in [0, 1]) of full textures within a prompt (seeds) and between prompts."""
    from cliphead.texture.generate import layout_hints
    from cliphead.texture.sampling import generate_textures

    head = evaluation_heads(TextureEvalConfig(n_heads=1, seed=config.seed))[0]
    whole, _ = layout_hints(head.normal_map, model.texture_size)
    prompts = evaluation_prompts()[:: max(1, len(evaluation_prompts()) // config.diversity_prompts)]
    prompts = prompts[: config.diversity_prompts]
    textures = np.stack(
        [
            generate_textures(
                model,
                np.repeat(whole[None], config.diversity_seeds, axis=0),
                [p.text] * config.diversity_seeds,
                SamplingSettings(steps=config.steps),
                seed=100 * k,
            )
            for k, p in enumerate(prompts)
        ]
    )  # (prompts, seeds, S, S, 3); item j of prompt k has noise seed 100k + j

    def rms(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - b) ** 2)))

    within = [rms(t[i], t[j]) for t in textures for i, j in combinations(range(len(t)), 2)]
    between = [rms(textures[a, 0], textures[b, 0]) for a, b in combinations(range(len(textures)), 2)]
    return {
        "within_prompt_rms": float(np.mean(within)),
        "between_prompt_rms": float(np.mean(between)),
        "within_over_between": float(np.mean(within) / np.mean(between)),
    }


#: Regions whose colour :func:`prompt_knowledge` reads: the hair, and the skin of the lower neck.
KNOWLEDGE_REGIONS = ("hair", "lower_neck")


def prompt_knowledge(model: ControlNetUV, triples: TextureTriples, n: int = 96, seed: int = 3) -> pd.DataFrame:
    """What the denoisers draw from the prompt alone, region by region (the text path of §2.3, diagnosed).

    On a zero terminal SNR schedule the last timestep's input is pure noise, so the texture the model
    predicts there (x0 = -v) is all it knows from the prompt (and the normal map). For ``n`` training
    textures that show hair and natural skin, with their first captions and random training heads, the
    R² of each :data:`KNOWLEDGE_REGIONS` region's mean CIELAB colour in that prediction (ControlNet at
    the default control strength) against the painted texture's tells how much of the region's colour
    the prompt sets. The prompt is read whole, through its token states alone (the empty prompt's
    pooled embedding) and through its pooled embedding alone (the empty prompt's token states).
    """
    import torch
    from skimage.color import rgb2lab

    from cliphead.lab.texture.measure import measurable, measuring_regions
    from cliphead.texture.sampling import decode, hint_tensor
    from cliphead.texture.text import PromptConditioning

    terminal = model.scheduler.config.num_train_timesteps - 1
    if model.scheduler.config.prediction_type != "v_prediction" or float(model.scheduler.alphas_cumprod[terminal]) > 0:
        raise ValueError(
            "prompt_knowledge reads x0 = -v at the last timestep: it needs v-prediction and zero terminal SNR"
        )
    rng = np.random.default_rng(seed)
    shown = [i for i, r in enumerate(triples.records) if measurable(r, "hair_colour") and measurable(r, "skin")]
    chosen = rng.choice(shown, size=min(n, len(shown)), replace=False)
    hints = hint_tensor(
        triples.normals_whole[rng.integers(len(triples.normals_whole), size=len(chosen))], model.texture_size
    )
    prompt = model.text([str(triples.captions[i, 0]) for i in chosen])
    empty = model.text([""] * len(chosen))
    readings = {
        "whole prompt": prompt,
        "token states only": PromptConditioning(prompt.states, empty.pooled),
        "pooled embedding only": PromptConditioning(empty.states, prompt.pooled),
    }
    channels, side = model.unet.config.in_channels, model.unet.config.sample_size
    noise = torch.randn((len(chosen), channels, side, side), generator=torch.Generator().manual_seed(seed))
    steps = torch.full((len(chosen),), terminal)
    painted = [rgb2lab(measurable_texture(triples.textures_whole[i] / 255.0)) for i in chosen]
    truths = {
        region: np.stack([lab[measuring_regions()[region]].mean(axis=0) for lab in painted])
        for region in KNOWLEDGE_REGIONS
    }
    rows = []
    for reading, conditioning in readings.items():
        with torch.no_grad():
            velocity = model.predict(
                noise, steps, conditioning.denoiser_inputs(), hints, DEFAULT_SAMPLING.control_strength
            )
        predicted = [rgb2lab(measurable_texture(texture)) for texture in decode(model, -velocity)]
        for region, truth in truths.items():
            guess = np.stack([lab[measuring_regions()[region]].mean(axis=0) for lab in predicted])
            r2 = 1.0 - ((guess - truth) ** 2).sum(axis=0) / ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
            rows.append(
                {
                    "region": region,
                    "prompt read as": reading,
                    "r2_L": r2[0],
                    "r2_a": r2[1],
                    "r2_b": r2[2],
                    "predicted_spread_L": float(guess[:, 0].std()),
                    "painted_spread_L": float(truth[:, 0].std()),
                    "n": len(chosen),
                }
            )
    return pd.DataFrame(rows).round(3)
