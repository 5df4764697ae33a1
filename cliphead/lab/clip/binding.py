"""Why zero-shot beard colour reads the hair: the text tower binds a colour word loosely to its noun.

Zero-shot classification (Radford et al. 2021 §3.1.2) scores an image against one prompt per class,
here "a face with a {colour} beard". If the text tower places "a grey beard" and "grey hair" in
nearly the same direction, a face with grey hair and a red beard scores highest for the *grey* beard
unless the image tower makes up for it. Two measurements separate the towers:

- **image side** (:func:`beard_colour_by_hair`): zero-shot beard colour on held-out renders whose
  beard has the hair's colour, another colour, or no visible hair beside it, and the share of wrong
  answers that name the hair's colour;
- **text side**: how nearly the beard-colour prompts differ from one another the way the hair-colour
  prompts do (:func:`colour_direction_cosine`), and the *caption oracle* (:func:`caption_oracle`): a
  tower that put each render where the text tower puts a sentence describing it. Sentences naming a
  hair colour and a different beard colour ("a man with grey hair and a full red beard", every
  ordered pair of colours, every beard phrase that takes a colour) are classified with the same
  zero-shot prompts. The image tower is not bound to land on its descriptions, so this is not a
  ceiling; but to do better on such faces it must weight the small beard-only part of the colour
  directions well above the part the hair shares, which training against captions that name both
  does not ask for.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
import torch

from cliphead.lab.world.prompts import zero_shot_ensembles
from cliphead.lab.world.vocabulary import BEARD_PHRASES, HAIR_WORDS
from cliphead.lab.world.dataset import RenderSet
from cliphead.clip.encoder import ImageTextEncoder
from cliphead.lab.clip.evaluation import class_embeddings, ground_truth

#: How the text-side sentences name the hair and the beard.
ORACLE_FRAME = "a man with {hair} hair and {beard}"
#: The groups of faces with a beard, by what their hair shows.
HAIR_GROUPS = ("beard colour = hair colour", "beard colour ≠ hair colour", "no hair colour visible")


def _hair_group(hair_colour: str | None, beard_colour: str) -> str:
    if hair_colour is None:
        return HAIR_GROUPS[2]
    return HAIR_GROUPS[0] if hair_colour == beard_colour else HAIR_GROUPS[1]


def _zero_shot_beard_colours(encoder: ImageTextEncoder, embeddings: torch.Tensor) -> list[str]:
    prompts = zero_shot_ensembles("beard_colour")
    classes = list(prompts)
    return [classes[k] for k in (embeddings @ class_embeddings(encoder, prompts).T).argmax(dim=1).tolist()]


def beard_colour_by_hair(encoder: ImageTextEncoder, renders: RenderSet, image_embeddings: torch.Tensor) -> list[dict]:
    """Zero-shot beard colour per hair group, and the share of wrong answers naming the hair's colour
    (``image_embeddings``: every render's, in order).

    One dict per group (``group``, ``images``, ``accuracy``, ``chance``: its majority class), then one
    with ``group`` = "wrong answers naming the hair colour" (``images``: wrong answers on faces whose
    hair colour shows; ``accuracy``: the share of them naming it).
    """
    expressions, geometry = renders.expressions(), renders.geometry()
    truths = [ground_truth("beard_colour", r, e, g) for r, e, g in zip(renders.records, expressions, geometry)]
    counted = [i for i, truth in enumerate(truths) if truth is not None]
    hairs = [ground_truth("hair_colour", renders.records[i], expressions[i], geometry[i]) for i in counted]
    predicted = _zero_shot_beard_colours(encoder, image_embeddings[counted])
    groups = [_hair_group(hair, truths[i]) for hair, i in zip(hairs, counted)]
    rows = []
    for group in HAIR_GROUPS:
        members = [k for k, g in enumerate(groups) if g == group]
        if not members:
            continue
        expected = [truths[counted[k]] for k in members]
        majority = max(expected.count(value) for value in set(expected)) / len(expected)
        right = np.mean([predicted[k] == truth for k, truth in zip(members, expected)])
        rows.append({"group": group, "images": len(members), "accuracy": float(right), "chance": majority})
    wrong = [k for k, i in enumerate(counted) if hairs[k] is not None and predicted[k] != truths[i]]
    named = np.mean([predicted[k] == hairs[k] for k in wrong]) if wrong else float("nan")
    rows.append(
        {
            "group": "wrong answers naming the hair colour",
            "images": len(wrong),
            "accuracy": float(named),
            "chance": 1.0 / (len(HAIR_WORDS) - 1),
        }
    )
    return rows


def oracle_sentences() -> list[tuple[str, str, str]]:
    """(sentence, hair colour, beard colour) for every ordered pair of different colours and beard phrase."""
    phrases = [phrase for style in BEARD_PHRASES.values() for phrase in style if "{c}" in phrase]
    return [
        (ORACLE_FRAME.format(hair=HAIR_WORDS[hair][0], beard=phrase.format(c=HAIR_WORDS[beard][0] + " ")), hair, beard)
        for hair, beard in permutations(HAIR_WORDS, 2)
        for phrase in phrases
    ]


def caption_oracle(encoder: ImageTextEncoder) -> dict[str, float]:
    """Zero-shot beard colour of sentences naming a different hair colour: ``right``, ``hair_named``, ``sentences``."""
    sentences = oracle_sentences()
    predicted = _zero_shot_beard_colours(encoder, encoder.encode_text([text for text, _, _ in sentences]))
    return {
        "sentences": len(sentences),
        "right": float(np.mean([p == beard for p, (_, _, beard) in zip(predicted, sentences)])),
        "hair_named": float(np.mean([p == hair for p, (_, hair, _) in zip(predicted, sentences)])),
    }


def colour_direction_cosine(encoder: ImageTextEncoder) -> float:
    """Mean cosine, over the colours, between the beard-colour and hair-colour prompts' class embeddings, each centred."""
    beard = class_embeddings(encoder, zero_shot_ensembles("beard_colour"))
    hair = class_embeddings(encoder, zero_shot_ensembles("hair_colour"))
    beard, hair = beard - beard.mean(dim=0), hair - hair.mean(dim=0)
    return float(torch.nn.functional.cosine_similarity(beard, hair, dim=1).mean())


def binding_rows(encoder_name: str, by_hair: list[dict], oracle: dict[str, float], cosine: float) -> list[dict]:
    """Rows of ``results/embedded_clip_eval.csv`` (metric names starting "beard colour")."""
    classes = len(HAIR_WORDS)
    rows = [
        {
            "encoder": encoder_name,
            "metric": f"beard colour zero-shot: {row['group']}",
            "attribute": "beard_colour",
            "prompt_set": "training wording",
            "classes": classes,
            "images": row["images"],
            "value": round(row["accuracy"], 4),
            "chance": round(row["chance"], 4),
        }
        for row in by_hair
    ]
    for key, metric in (("right", "right"), ("hair_named", "naming the hair colour")):
        rows.append(
            {
                "encoder": encoder_name,
                "metric": f"beard colour caption oracle: {metric}",
                "attribute": "beard_colour",
                "prompt_set": "training wording",
                "classes": classes,
                "images": oracle["sentences"],
                "value": round(oracle[key], 4),
                "chance": round(1.0 / classes, 4),
            }
        )
    rows.append(
        {
            "encoder": encoder_name,
            "metric": "beard colour prompts: cosine with the hair colour's",
            "attribute": "beard_colour",
            "prompt_set": "training wording",
            "classes": classes,
            "images": 0,
            "value": round(cosine, 4),
            "chance": float("nan"),
        }
    )
    return rows
