"""What the generated pairs carry (notebook 03): retrieval of the template prompts, text-space neighbours.

Two diagnostics bound what the mappers can learn from the pairs:

- **prompt retrieval**: ranked against every distinct template prompt of the pair set, where does the
  pair's own prompt fall under the encoder's image–text similarity? If ψ(image) does not single out
  its prompt, MLP_id trained on images cannot be steered by that prompt's words at inference.
- **held-out wording neighbours**: for each held-out expression prompt (per prompt set of the
  evaluation), the label of the most similar expression training prompt in the text space. A mapper that
  interpolates its training pairs cannot do much better on held-out paraphrases than this.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cliphead.lab.mapping.pairs import ExpressionPairs, IdentityPairs
from cliphead.lab.mapping.prompts import evaluation_prompts


def nearest_texts(queries: np.ndarray, pool: np.ndarray, texts: Sequence[str], k: int = 3) -> list[list[str]]:
    """For each query embedding, the ``k`` texts of the pool with the highest cosine similarity."""
    order = np.argsort(-(queries @ pool.T), axis=1)[:, :k]
    return [[texts[j] for j in row] for row in order]


def prompt_retrieval(pairs: IdentityPairs, prompt_psi: np.ndarray, prompts: np.ndarray) -> dict[str, float]:
    """Recall@1/5/10 of each pair's own template prompt among the distinct prompts (``prompts`` with embeddings)."""
    index = {text: k for k, text in enumerate(prompts)}
    own = np.array([index[text] for text in pairs.renders.prompts])
    scores = pairs.image_psi @ prompt_psi.T
    rank = (scores > scores[np.arange(len(own)), own][:, None]).sum(axis=1)
    return {f"R@{k}": float((rank < k).mean()) for k in (1, 5, 10)} | {"distinct_prompts": len(prompts)}


def wording_neighbour_accuracy(expressions: ExpressionPairs, held_out_psi: np.ndarray, held_out_labels) -> float:
    """Share of held-out expression prompts whose nearest training prompt has their label."""
    trained = np.array([label != "no face" for label in expressions.labels])
    nearest = np.argmax(held_out_psi @ expressions.psi[trained].T, axis=1)
    labels = np.array(expressions.labels)[trained][nearest]
    return float((labels == np.asarray(held_out_labels)).mean())


def expression_evaluation_sets() -> dict[str, tuple[list[str], list[str]]]:
    """The expression prompts of each prompt set of the evaluation (held-out frames; held-out words and frames)
    and their labels."""
    prompts = [p for p in evaluation_prompts() if p.kind == "expression"]
    return {
        name: ([p.text for p in prompts if p.prompt_set == name], [p.target for p in prompts if p.prompt_set == name])
        for name in dict.fromkeys(p.prompt_set for p in prompts)
    }


def label_similarity(expressions: ExpressionPairs) -> tuple[list[str], np.ndarray]:
    """Mean cosine similarity of the training prompts of every pair of labels (no-face sentences left out)."""
    labels = [label for label in dict.fromkeys(expressions.labels) if label != "no face"]
    names = np.array(expressions.labels)
    means = np.stack([expressions.psi[names == label].mean(0) for label in labels])  # ψ are unit vectors
    return labels, means @ means.T
