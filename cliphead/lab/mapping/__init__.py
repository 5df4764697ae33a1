"""Text → geometry's lab (CLIP-Head §2.1): prompt sets, pair generation, mapper training, evaluation, figures."""
