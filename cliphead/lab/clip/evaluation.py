"""How well an encoder knows the appearance world: zero-shot attributes, retrieval, paraphrases.

On held-out renders (heads, records, textures and views never seen in training), for each attribute
every class gets a prompt (in the captions' wording, the colour-type attributes an ensemble of their
phrasings); an image is classified by the class with the highest CLIP score (CLIP's zero-shot
protocol, Radford et al. 2021 §3.1.2, with prompt ensembling, §3.1.4). Only images where the attribute is visible
count (a gold statue shows no hair colour; a clown's paint hides the lipstick). Two paraphrase sets
test wording the captions never used: held-out sentence frames around the training's attribute words
("someone whose hair is red"), and held-out frames with held-out words too ("... whose hair is
copper"). Retrieval ranks all held-out renders for each render's own first caption (text → image
recall at 1 and 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cliphead.lab.world.attributes import Attributes
from cliphead.lab.world.prompts import REFRAMED, paraphrase_prompts, reframed_prompts, zero_shot_ensembles
from cliphead.lab.world.dataset import RenderSet
from cliphead.lab.world.geometry import GEOMETRY_MEASURES
from cliphead.clip.encoder import ImageTextEncoder

#: The colour-type attributes, held to a zero-shot accuracy of 0.85 (the bar the zero-shot figure draws):
#: hair colour, skin tone bucket, and the colour of the lipstick and of the beard among the faces that
#: wear one.
COLOUR_ATTRIBUTES = ("hair_colour", "skin_bucket", "lipstick_colour", "beard_colour")
#: Whether (and which) lipstick or beard a face has, "none" included, and the rest.
OTHER_ATTRIBUTES = ("lipstick", "beard", "style", "age", "eye_colour", "expression")
PARAPHRASED_ATTRIBUTES = COLOUR_ATTRIBUTES + ("lipstick", "beard")
_STATUES = {"gold statue", "silver statue"}
#: Styles that paint over an attribute, so that it cannot be seen in the render.
HIDDEN_BY = {
    "hair_colour": _STATUES,
    "skin_bucket": {"clown", "skull", "tiger", "zombie", "alien", "giant"} | _STATUES,
    "lipstick": {"clown", "skull", "tiger"} | _STATUES,
    "lipstick_colour": {"clown", "skull", "tiger"} | _STATUES,
    "beard": {"clown", "skull", "tiger"} | _STATUES,
    "beard_colour": {"clown", "skull", "tiger"} | _STATUES,
    "eye_colour": {"skull"} | _STATUES,
}


def ground_truth(attribute: str, record: Attributes, expression: str, geometry: dict[str, str | None]) -> str | None:
    """The class an image shows for ``attribute``, or None when it shows none (hidden, bald, middle tertile)."""
    if record.style in HIDDEN_BY.get(attribute, ()):
        return None
    if attribute == "hair_colour":
        return record.hair_colour if record.has_hair else None
    if attribute == "skin_bucket":
        return record.skin_bucket
    if attribute == "lipstick_colour":
        return None if record.lipstick == "none" else record.lipstick
    if attribute == "beard_colour":
        return None if record.beard == "none" else record.beard_colour
    if attribute == "expression":
        return expression
    if attribute in GEOMETRY_MEASURES:
        return geometry[attribute]
    return getattr(record, attribute)


@dataclass(frozen=True)
class ZeroShotResult:
    attribute: str
    prompt_set: str  # "training wording", "held-out frames" or "held-out words and frames"
    classes: int
    images: int
    accuracy: float
    chance: float  # accuracy of always answering the most frequent class


def class_embeddings(encoder: ImageTextEncoder, prompts: dict[str, str | list[str]]) -> torch.Tensor:
    """One unit vector per class: its prompt's embedding, or the normalised mean of its prompts' (an ensemble)."""
    rows = [encoder.encode_text([p] if isinstance(p, str) else p).mean(dim=0) for p in prompts.values()]
    return F.normalize(torch.stack(rows), dim=-1)


def zero_shot(
    image_embeddings: torch.Tensor,
    truths: list[str | None],
    prompts: dict[str, str | list[str]],
    encoder: ImageTextEncoder,
) -> tuple[int, float, float]:
    """(images counted, accuracy, majority-class chance) of classifying by the best-scoring class."""
    counted = [i for i, truth in enumerate(truths) if truth is not None and truth in prompts]
    if not counted:
        return 0, float("nan"), float("nan")
    classes = list(prompts)
    text = class_embeddings(encoder, prompts)
    predicted = (image_embeddings[counted] @ text.T).argmax(dim=1).numpy()
    expected = np.array([classes.index(truths[i]) for i in counted])
    majority = np.bincount(expected, minlength=len(classes)).max() / len(expected)
    return len(counted), float((predicted == expected).mean()), float(majority)


def retrieval_recall(image_embeddings: torch.Tensor, text_embeddings: torch.Tensor, ks=(1, 5)) -> dict[str, float]:
    """Text → image recall@k: image i is the right answer for text i."""
    similarity = text_embeddings @ image_embeddings.T
    rank = (similarity > similarity.diagonal()[:, None]).sum(dim=1)
    return {f"R@{k}": float((rank < k).float().mean()) for k in ks}


def evaluate_encoder(
    encoder: ImageTextEncoder, renders: RenderSet, image_embeddings: torch.Tensor | None = None
) -> tuple[list[ZeroShotResult], dict[str, float]]:
    """Zero-shot results for every attribute (and paraphrases), and retrieval recalls, on ``renders``
    (``image_embeddings``: the renders' embeddings, when the caller has them already)."""
    images = encoder.encode_image(renders.images) if image_embeddings is None else image_embeddings
    expressions, geometry = renders.expressions(), renders.geometry()
    results = []
    attributes = COLOUR_ATTRIBUTES + OTHER_ATTRIBUTES + tuple(GEOMETRY_MEASURES)
    for attribute in attributes:
        truths = [ground_truth(attribute, r, e, g) for r, e, g in zip(renders.records, expressions, geometry)]
        prompt_sets = [("training wording", zero_shot_ensembles(attribute))]
        if attribute in REFRAMED:
            prompt_sets.append(("held-out frames", reframed_prompts(attribute)))
        if attribute in PARAPHRASED_ATTRIBUTES:
            prompt_sets.append(("held-out words and frames", paraphrase_prompts(attribute)))
        for name, prompts in prompt_sets:
            n, accuracy, chance = zero_shot(images, truths, prompts, encoder)
            results.append(ZeroShotResult(attribute, name, len(prompts), n, accuracy, chance))
    captions = encoder.encode_text([str(row[0]) for row in renders.captions])
    recall = retrieval_recall(images, captions) | {"gallery": len(renders.images)}
    return results, recall


def evaluation_rows(encoder_name: str, results: list[ZeroShotResult], recall: dict[str, float]) -> list[dict]:
    """Rows of ``results/embedded_clip_eval.csv``."""
    rows = [
        {
            "encoder": encoder_name,
            "metric": "zero-shot accuracy",
            "attribute": r.attribute,
            "prompt_set": r.prompt_set,
            "classes": r.classes,
            "images": r.images,
            "value": round(r.accuracy, 4),
            "chance": round(r.chance, 4),
        }
        for r in results
    ]
    for k in ("R@1", "R@5"):
        rows.append(
            {
                "encoder": encoder_name,
                "metric": f"text-to-image {k}",
                "attribute": "caption",
                "prompt_set": "each render's first caption",
                "classes": recall["gallery"],
                "images": recall["gallery"],
                "value": round(recall[k], 4),
                "chance": round(int(k[2:]) / recall["gallery"], 4),
            }
        )
    return rows
