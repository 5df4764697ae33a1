"""Texture synthesis (CLIP-Head §2.3, supplementary §3): ControlNet_uv and the rectification."""
