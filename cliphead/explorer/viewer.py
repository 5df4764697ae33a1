"""An interactive 3D view of a head in JupyterLab and Voilà: rotate, zoom, pan; texture, UV normal map, UV
checker or plain shading; wireframe; the 68 landmarks.

An anywidget (:class:`HeadViewer`) whose front end is ``viewer.js``, a small WebGL2 renderer shipped in
this package: nothing is fetched from a network. The mesh travels as binary buffers (float32 positions,
normals and UVs, uint32 triangle indices), the texture and the normal map as PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import anywidget
import numpy as np
import traitlets
from PIL import Image

from cliphead.render.views import vertex_normals

#: What the surface shows, as the menu names them.
MODES = ("texture", "normal map", "UV checker", "shading")


def png_bytes(image: np.ndarray) -> bytes:
    """An (H, W, 3) float image in [0, 1] as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


class HeadViewer(anywidget.AnyWidget):
    """The 3D view (module doc). Set a head with :meth:`show`; ``mode``, ``wireframe`` and ``landmarks_shown``
    change what it draws without sending the mesh again."""

    _esm = Path(__file__).with_name("viewer.js")
    positions = traitlets.Bytes(b"").tag(sync=True)
    normals = traitlets.Bytes(b"").tag(sync=True)
    uvs = traitlets.Bytes(b"").tag(sync=True)
    indices = traitlets.Bytes(b"").tag(sync=True)
    landmarks = traitlets.Bytes(b"").tag(sync=True)
    texture = traitlets.Bytes(b"").tag(sync=True)
    normal_map = traitlets.Bytes(b"").tag(sync=True)
    mode = traitlets.Enum(MODES, default_value="texture").tag(sync=True)
    wireframe = traitlets.Bool(False).tag(sync=True)
    landmarks_shown = traitlets.Bool(False).tag(sync=True)
    height = traitlets.Int(420).tag(sync=True)
    _texture_shown: np.ndarray | None = None

    def show(
        self,
        vertices: np.ndarray,
        faces: np.ndarray,
        uv: np.ndarray,
        landmarks: np.ndarray,
        texture: np.ndarray | None,
        normal_map: np.ndarray | None,
    ) -> None:
        """Send a head to the view (one message): geometry, texture (None: the UV checker is shown instead) and
        UV normal map (None: not sent; the view shows the checker in its place)."""
        with self.hold_sync():
            self.positions = np.ascontiguousarray(vertices, dtype="<f4").tobytes()
            self.normals = np.ascontiguousarray(vertex_normals(vertices, faces), dtype="<f4").tobytes()
            self.uvs = np.ascontiguousarray(uv, dtype="<f4").tobytes()
            self.indices = np.ascontiguousarray(faces, dtype="<u4").tobytes()
            self.landmarks = np.ascontiguousarray(landmarks, dtype="<f4").tobytes()
            if texture is not self._texture_shown:  # a geometry change keeps the texture: not encoded again
                self.texture = png_bytes(texture) if texture is not None else b""
                self._texture_shown = texture
            self.normal_map = png_bytes(normal_map) if normal_map is not None else b""
            if texture is None and self.mode == "texture":
                self.mode = "UV checker"
