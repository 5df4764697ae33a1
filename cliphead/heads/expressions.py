"""The 23 labelled expressions: the stand-in for the expressions of the NPHM dataset.

CLIP-Head §2.1 builds its expression pairs from one identity in the NPHM dataset's labelled
expressions. ICT-FaceKit has ARKit blendshapes instead, so each label is defined here as a set of
ARKit blendshape weights in [0, 1] (unnamed blendshapes are 0). The table is the documentation:

| label          | ARKit weights                                                                 |
|----------------|-------------------------------------------------------------------------------|
| neutral        | (none)                                                                        |
| happy          | mouthSmile 0.8, cheekSquint 0.4, eyeSquint 0.2                                |
| sad            | mouthFrown 0.8, browInnerUp 0.7, mouthShrugLower 0.3, eyeSquint 0.1           |
| angry          | browDown 0.9, noseSneer 0.4, mouthPress 0.5, eyeSquint 0.3                    |
| surprised      | browInnerUp 0.8, browOuterUp 0.8, eyeWide 0.8, jawOpen 0.45, mouthFunnel 0.2  |
| disgusted      | noseSneer 0.9, mouthUpperUp 0.7, browDown 0.5, cheekSquint 0.4                |
| fearful        | browInnerUp 0.9, eyeWide 0.7, mouthStretch 0.6, jawOpen 0.2                   |
| pouting        | mouthPucker 0.6, mouthShrugLower 0.6, mouthShrugUpper 0.3, browInnerUp 0.2    |
| laughing       | mouthSmile 1.0, jawOpen 0.55, cheekSquint 0.7, eyeSquint 0.6, mouthUpperUp 0.3 |
| smirk          | mouthSmile_L 0.8, mouthDimple_L 0.4, cheekSquint_L 0.3                        |
| wink           | eyeBlink_L 1.0, cheekSquint_L 0.4, mouthSmile_L 0.3                           |
| eyes closed    | eyeBlink 1.0                                                                  |
| mouth open     | jawOpen 0.8, mouthLowerDown 0.3                                               |
| puffed cheeks  | cheekPuff 1.0, mouthClose 0.3, mouthPress 0.3                                 |
| kiss           | mouthPucker 1.0, mouthFunnel 0.4                                              |
| squint         | eyeSquint 0.9, cheekSquint 0.5, browDown 0.3                                  |
| raised brows   | browInnerUp 1.0, browOuterUp 1.0                                              |
| frown          | browDown 1.0, mouthFrown 0.4                                                  |
| grimace        | mouthStretch 0.9, mouthLowerDown 0.5, mouthUpperUp 0.5, noseSneer 0.3, eyeSquint 0.4 |
| jaw left       | jawLeft 1.0, mouthLeft 0.3                                                    |
| jaw right      | jawRight 1.0, mouthRight 0.3                                                  |
| jaw forward    | jawForward 1.0                                                                |
| lips rolled in | mouthRollLower 0.9, mouthRollUpper 0.9, mouthPress 0.4                         |

A weight given for a name without ``_L``/``_R`` applies to both sides.
"""

from __future__ import annotations

import numpy as np

EXPRESSIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmile": 0.8, "cheekSquint": 0.4, "eyeSquint": 0.2},
    "sad": {"mouthFrown": 0.8, "browInnerUp": 0.7, "mouthShrugLower": 0.3, "eyeSquint": 0.1},
    "angry": {"browDown": 0.9, "noseSneer": 0.4, "mouthPress": 0.5, "eyeSquint": 0.3},
    "surprised": {"browInnerUp": 0.8, "browOuterUp": 0.8, "eyeWide": 0.8, "jawOpen": 0.45, "mouthFunnel": 0.2},
    "disgusted": {"noseSneer": 0.9, "mouthUpperUp": 0.7, "browDown": 0.5, "cheekSquint": 0.4},
    "fearful": {"browInnerUp": 0.9, "eyeWide": 0.7, "mouthStretch": 0.6, "jawOpen": 0.2},
    "pouting": {"mouthPucker": 0.6, "mouthShrugLower": 0.6, "mouthShrugUpper": 0.3, "browInnerUp": 0.2},
    "laughing": {"mouthSmile": 1.0, "jawOpen": 0.55, "cheekSquint": 0.7, "eyeSquint": 0.6, "mouthUpperUp": 0.3},
    "smirk": {"mouthSmile_L": 0.8, "mouthDimple_L": 0.4, "cheekSquint_L": 0.3},
    "wink": {"eyeBlink_L": 1.0, "cheekSquint_L": 0.4, "mouthSmile_L": 0.3},
    "eyes closed": {"eyeBlink": 1.0},
    "mouth open": {"jawOpen": 0.8, "mouthLowerDown": 0.3},
    "puffed cheeks": {"cheekPuff": 1.0, "mouthClose": 0.3, "mouthPress": 0.3},
    "kiss": {"mouthPucker": 1.0, "mouthFunnel": 0.4},
    "squint": {"eyeSquint": 0.9, "cheekSquint": 0.5, "browDown": 0.3},
    "raised brows": {"browInnerUp": 1.0, "browOuterUp": 1.0},
    "frown": {"browDown": 1.0, "mouthFrown": 0.4},
    "grimace": {"mouthStretch": 0.9, "mouthLowerDown": 0.5, "mouthUpperUp": 0.5, "noseSneer": 0.3, "eyeSquint": 0.4},
    "jaw left": {"jawLeft": 1.0, "mouthLeft": 0.3},
    "jaw right": {"jawRight": 1.0, "mouthRight": 0.3},
    "jaw forward": {"jawForward": 1.0},
    "lips rolled in": {"mouthRollLower": 0.9, "mouthRollUpper": 0.9, "mouthPress": 0.4},
}

EXPRESSION_LABELS: tuple[str, ...] = tuple(EXPRESSIONS)


def normalise_label(label: str) -> str:
    """Accept ``mouth_open``, ``Mouth-Open`` and ``mouth open`` alike."""
    return " ".join(label.replace("_", " ").replace("-", " ").lower().split())


def expression_weights(label: str, blendshape_names: tuple[str, ...], strength: float = 1.0) -> np.ndarray:
    """ARKit blendshape weights (in the order of ``blendshape_names``) of a labelled expression.

    ``strength`` scales every weight (the results are clipped to [0, 1]).
    """
    key = normalise_label(label)
    if key not in EXPRESSIONS:
        raise KeyError(f"Unknown expression '{label}'. Labelled expressions: {', '.join(EXPRESSION_LABELS)}.")
    weights = np.zeros(len(blendshape_names))
    for name, value in EXPRESSIONS[key].items():
        targets = [name] if name in blendshape_names else [f"{name}_L", f"{name}_R"]
        for target in targets:
            if target not in blendshape_names:
                raise KeyError(f"Expression '{key}' names blendshape '{name}', which the model lacks.")
            weights[blendshape_names.index(target)] = value
    return np.clip(weights * strength, 0.0, 1.0)
