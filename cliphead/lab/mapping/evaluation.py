"""Prompt faithfulness of text → geometry, measured on the generated meshes.

The paper shows text → head only in pictures (Fig. 3b); here every prompt of the held-out
evaluation set (:func:`~cliphead.lab.mapping.prompts.evaluation_prompts`) is generated and measured:

- **geometry prompts** ("portrait of somebody who has a long face"): the identity's neutral mesh
  is extracted as the identity pairs were (:func:`~cliphead.heads.generation.extract_disk`), the
  named measure taken (:func:`~cliphead.lab.world.geometry.measure_geometry`), and the prompt is
  faithful when the value lands in the requested tertile (low word: lowest third; high word:
  highest third) of the pair population (chance: 1/3).
- **expression prompts** ("a 3D model of someone cackling"): the predicted expression deforms the
  predicted identity; its *blendshape-like deformation* is the displacement field on the canonical
  surface around the mouth, the eyes, the brows and the cheeks and jaw (:data:`REGIONS`, each region
  weighted equally). The prompt is faithful when the nearest of the 23 labelled expressions'
  deformations of the same identity is the requested one (chance: 1/23).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from cliphead.lab.world.geometry import measure_geometry
from cliphead.heads.expressions import EXPRESSION_LABELS
from cliphead.heads.generation import extract_disk
from cliphead.lab.mapping.pairs import IdentityPairConfig
from cliphead.lab.mapping.prompts import EvaluationPrompt

#: Facial regions of the deformation measure: Multi-PIE landmarks and the radius (cm) around them.
REGIONS: dict[str, tuple[tuple[int, ...], float]] = {
    "mouth": (tuple(range(48, 68)), 1.5),
    "eyes": (tuple(range(36, 48)), 1.2),
    "brows": (tuple(range(17, 27)), 1.5),
    "cheeks and jaw": (tuple(range(1, 16)) + (31, 35), 2.0),
}
#: Points kept per region (a fixed subsample, so regions weigh the same whatever the mesh density).
POINTS_PER_REGION = 200


def region_points(vertices: np.ndarray, landmarks: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """Per region, up to :data:`POINTS_PER_REGION` canonical vertices within its radius of its landmarks."""
    rng = np.random.default_rng(seed)
    regions = []
    for indices, radius in REGIONS.values():
        distance = np.linalg.norm(vertices[:, None] - landmarks[list(indices)][None], axis=-1).min(axis=1)
        near = np.flatnonzero(distance <= radius)
        regions.append(vertices[np.sort(rng.choice(near, min(len(near), POINTS_PER_REGION), replace=False))])
    return regions


def deformation_features(model, z_id: torch.Tensor, regions: list[np.ndarray], z_exp: torch.Tensor) -> np.ndarray:
    """The displacement field (cm) of ``z_exp`` on the region points, each region scaled to equal weight."""
    with torch.no_grad():
        parts = []
        for points in regions:
            canonical = torch.from_numpy(points).float()
            moved = model.deform(canonical, z_id, z_exp)
            parts.append(((moved - canonical).numpy() / np.sqrt(len(points))).ravel())
    return np.concatenate(parts)


def nearest_expression(model, z_id: torch.Tensor, regions: list[np.ndarray], z_exp: torch.Tensor) -> tuple[str, float]:
    """The labelled expression whose deformation of this identity is nearest to ``z_exp``'s, and that distance."""
    features = deformation_features(model, z_id, regions, z_exp)
    distances = {
        label: float(
            np.linalg.norm(features - deformation_features(model, z_id, regions, model.expression_code(label)))
        )
        for label in EXPRESSION_LABELS
    }
    label = min(distances, key=distances.get)
    return label, distances[label]


def evaluate_prompts(
    text_to_head,
    prompts: list[EvaluationPrompt],
    tertiles: dict[str, tuple[float, float]],
    resolution: int = IdentityPairConfig().resolution,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per prompt: what was asked, what was measured, whether it is faithful.

    Meshes are extracted at the identity pairs' ``resolution``, so measures compare with their tertiles.
    """
    from tqdm.auto import tqdm

    model = text_to_head.head_model
    z_ids, z_exps = text_to_head.latents([p.text for p in prompts])
    rows = []
    for prompt, z_id, z_exp in tqdm(
        list(zip(prompts, z_ids, z_exps)), desc="text → geometry evaluation", unit="prompt", disable=not progress
    ):
        extraction = extract_disk(model, z_id, resolution)
        with torch.no_grad():
            landmarks = model.canonical_landmarks(z_id).double().numpy()
        row = {
            "kind": prompt.kind,
            "prompt_set": prompt.prompt_set,
            "target": prompt.target,
            "word": prompt.word,
            "prompt": prompt.text,
        }
        if prompt.kind == "geometry":
            value = measure_geometry(extraction.vertices, landmarks)[prompt.target]
            low, high = tertiles[prompt.target]
            tertile = "low" if value < low else "high" if value > high else "middle"
            row |= {"measured": value, "found": tertile, "faithful": tertile == prompt.side}
        else:
            regions = region_points(extraction.vertices, landmarks)
            found, distance = nearest_expression(model, z_id, regions, z_exp)
            row |= {"measured": distance, "found": found, "faithful": found == prompt.target}
        rows.append(row)
    return pd.DataFrame(rows)


def faithfulness_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per expression label (per prompt set) and per geometry word, with the chance level of each."""
    expression = rows[rows["kind"] == "expression"].assign(word=lambda frame: frame["target"])
    table = pd.concat([expression, rows[rows["kind"] == "geometry"]]).groupby(
        ["kind", "prompt_set", "target", "word"], sort=False
    )["faithful"]
    table = table.agg(["mean", "count"]).reset_index().rename(columns={"mean": "accuracy", "count": "prompts"})
    table["chance"] = np.where(table["kind"] == "geometry", 1 / 3, 1 / len(EXPRESSION_LABELS))
    return table


#: Labels the embedded head model's geometry barely tells apart: its eyelids close over the kept
#: eyeballs, so "eyes closed" moves the surface by under 0.2 mm (see notebook 04).
INDISTINGUISHABLE = frozenset({"neutral", "eyes closed"})


def merged_accuracy(rows: pd.DataFrame) -> float:
    """Expression accuracy counting a neutral/eyes-closed confusion as right (:data:`INDISTINGUISHABLE`)."""
    expression = rows[rows["kind"] == "expression"]
    both = expression["target"].isin(INDISTINGUISHABLE) & expression["found"].isin(INDISTINGUISHABLE)
    return float((expression["faithful"] | both).mean())


def geometry_word_accuracy(rows: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per geometry word (each word: its prompts in every frame), with the 1/3 chance level."""
    geometry = rows[rows["kind"] == "geometry"]
    table = geometry.groupby(["target", "word"], sort=False)["faithful"].agg(["mean", "count"]).reset_index()
    return table.rename(columns={"mean": "accuracy", "count": "prompts"}).assign(chance=1 / 3)
