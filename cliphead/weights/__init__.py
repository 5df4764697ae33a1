"""The embedded default weights the project trains and ships (safetensors), listed in ``MANIFEST.json``
with their sha256, size and the exact command that produced each file."""
