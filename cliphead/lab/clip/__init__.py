"""The embedded CLIP's lab: LiT training of the image tower, evaluation, the binding study, benchmarks."""
