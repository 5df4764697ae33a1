"""Heads: the ICT-FaceKit linear model, labelled expressions, watertight surfaces and re-meshing."""

from cliphead.heads.expressions import EXPRESSION_LABELS, expression_weights
from cliphead.heads.ict import ICTFaceModel, load_ict_model
from cliphead.heads.surfaces import Head, sample_identity, skin_head, watertight_skin

__all__ = [
    "EXPRESSION_LABELS",
    "Head",
    "ICTFaceModel",
    "expression_weights",
    "load_ict_model",
    "sample_identity",
    "skin_head",
    "watertight_skin",
]
