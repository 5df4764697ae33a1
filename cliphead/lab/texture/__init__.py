"""ControlNet_uv's lab (CLIP-Head §2.3): training triples, training, evaluation, sampling validation, figures."""
