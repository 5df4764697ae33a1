"""Text → head model latents: pair generation, the mapping networks and their training (CLIP-Head §2.1)."""
