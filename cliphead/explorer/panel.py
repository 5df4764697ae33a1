"""The explorer panel: prompt, seed, expression and identity controls driving the pipeline, beside the 3D view.

Enter in the prompt box (or *generate*) runs the whole pipeline; the seed and the texture switch run it
again; the expression menu, its strength and the identity sliders change the geometry only and keep the
texture (:class:`~cliphead.explorer.session.ExplorerSession`). Sliders act when released. A progress bar
names the stage at work; the timing line says what ran and what was re-used; an error (an empty prompt, an
identity the layout cannot take) shows in the panel. The view's menu, wireframe and landmark switches act in
the browser alone. Shown where widgets cannot be, the panel is a static picture of the head.
"""

from __future__ import annotations

import base64

import ipywidgets as widgets

from cliphead.explorer.pictures import views_picture
from cliphead.explorer.session import ExplorerSession, ExplorerView
from cliphead.explorer.viewer import MODES, HeadViewer, png_bytes
from cliphead.outputs import glb_bytes
from cliphead.pipeline import CLIPHeadPipeline

DEFAULT_PROMPT = "a laughing old man with a grey beard"
#: The stages a full generation reports, in order (the progress bar's steps).
STAGES = ("text", "geometry", "texture")


class ExplorerPanel:
    """The panel (module doc); display it in a notebook, or ``panel.widget`` where an ipywidget is needed."""

    def __init__(self, pipeline: CLIPHeadPipeline, prompt: str = DEFAULT_PROMPT):
        self.session = ExplorerSession(pipeline)
        self.viewer = HeadViewer()
        self.prompt = widgets.Text(value=prompt, description="prompt", continuous_update=False)
        self.prompt.layout.width = "70%"
        self.generate_button = widgets.Button(description="generate", button_style="primary", icon="play")
        self.seed = widgets.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed")
        self.textured = widgets.Checkbox(value=True, description="texture (ControlNet_uv)")
        self.expression = widgets.Dropdown(options=self.session.expression_names, description="expression")
        self.strength = self._slider("strength", 1.0, 0.0, 1.5, 0.1)
        self.identity = [
            self._slider(f"identity {k + 1}", 0.0, -3.0, 3.0, 0.25) for k in range(len(self.session.identity))
        ]
        self.mode = widgets.ToggleButtons(options=MODES, description="surface")
        self.wireframe = widgets.Checkbox(value=False, description="wireframe")
        self.landmarks = widgets.Checkbox(value=False, description="68 landmarks")
        self.progress = widgets.IntProgress(value=0, max=len(STAGES), description="ready", bar_style="success")
        self.timing = widgets.HTML()
        self.error = widgets.HTML()
        self.download = widgets.HTML()
        self._explain()
        self._wire()
        self.widget = self._layout()

    def _explain(self) -> None:
        """Tooltips: what each control does and what it costs."""
        self.prompt.tooltip = "Enter runs the whole pipeline: text → codes → head → UV normal map → texture"
        self.seed.tooltip = "the texture's noise: a new seed textures the head again"
        self.textured.tooltip = "off: the head alone, shown with a UV checker (no ControlNet_uv)"
        self.expression.tooltip = "the prompt's own expression, or a named one: moves the surface, keeps the texture"
        self.strength.tooltip = "the expression's offset from neutral (0 neutral, 1 as mapped)"
        for k, slider in enumerate(self.identity):
            slider.tooltip = f"the identity latent's direction {k + 1} of most spread, in σ: new geometry, same texture"
        self.mode.tooltips = [
            "the generated texture",
            "the UV normal map ControlNet_uv was given",
            "a checkerboard in UV: shows the aligned map's distortion",
            "the surface alone, lit",
        ]

    @staticmethod
    def _slider(description: str, value: float, low: float, high: float, step: float) -> widgets.FloatSlider:
        return widgets.FloatSlider(
            value=value, min=low, max=high, step=step, description=description, continuous_update=False
        )

    def _wire(self) -> None:
        """Connect every control to what it changes."""
        self.prompt.observe(lambda change: self.run_generate(), "value")
        self.generate_button.on_click(lambda button: self.run_generate())
        self.seed.observe(lambda change: self.run_generate(), "value")
        self.textured.observe(lambda change: self.run_generate(), "value")
        for control in (self.expression, self.strength, *self.identity):
            control.observe(lambda change: self.run_reshape(), "value")
        widgets.link((self.mode, "value"), (self.viewer, "mode"))
        self.mode.observe(lambda change: self._send_normal_map(), "value")
        widgets.link((self.wireframe, "value"), (self.viewer, "wireframe"))
        widgets.link((self.landmarks, "value"), (self.viewer, "landmarks_shown"))

    def _layout(self) -> widgets.Widget:
        controls = widgets.VBox(
            [
                widgets.HTML("<b>Head</b>"),
                self.seed,
                self.textured,
                self.expression,
                self.strength,
                *self.identity,
                widgets.HTML("<b>View</b> (drag: turn · shift-drag: pan · wheel: zoom · double-click: reset)"),
                self.mode,
                widgets.HBox([self.wireframe, self.landmarks]),
                self.download,
            ]
        )
        controls.layout.width = "36%"
        self.viewer.layout.width = "64%"
        status = widgets.HBox([self.progress, self.timing])
        prompt_row = widgets.HBox([self.prompt, self.generate_button])
        return widgets.VBox([prompt_row, status, self.error, widgets.HBox([self.viewer, controls])])

    def _stage(self, stage: str) -> None:
        """Progress callback: name the stage at work and advance the bar."""
        self.progress.description = f"{stage}…"
        self.progress.bar_style = "info"
        self.progress.value = min(self.progress.value + 1, self.progress.max)

    def run_generate(self) -> ExplorerView | None:
        """Prompt, seed or texture changed: the whole pipeline."""
        return self._run(
            lambda: self.session.generate(
                self.prompt.value, self.seed.value, texture=self.textured.value, progress=self._stage
            )
        )

    def run_reshape(self) -> ExplorerView | None:
        """Expression, strength or identity changed: the geometry only, the texture kept."""
        if self.session.view is None:
            return None
        return self._run(
            lambda: self.session.reshape(
                [slider.value for slider in self.identity], self.expression.value, self.strength.value, self._stage
            )
        )

    def _run(self, work) -> ExplorerView | None:
        """Run ``work`` with the progress shown; show its view, or its error in the panel."""
        self.progress.value, self.error.value = 0, ""
        try:
            view = work()
        except ValueError as error:
            self.error.value = f'<span style="color:#b00020">⚠ {error}</span>'
            self.progress.description, self.progress.bar_style = "failed", "danger"
            return None
        self._show(view)
        self.progress.value, self.progress.description, self.progress.bar_style = self.progress.max, "ready", "success"
        return view

    def _send_normal_map(self) -> None:
        """The normal map is computed and sent only while the view shows it."""
        if self.mode.value == "normal map" and self.session.view is not None and not self.viewer.normal_map:
            self.viewer.normal_map = png_bytes(self.session.normal_map())

    def _show(self, view: ExplorerView) -> None:
        """Send the view to the 3D viewer; the timing line and the GLB link (a head without texture wears its
        UV normal map)."""
        head = view.head
        texture = self.session.worn_texture()
        normal_map = self.session.normal_map() if self.mode.value == "normal map" or view.texture is None else None
        self.viewer.show(head.vertices, head.faces, head.uv, head.landmarks, view.texture, normal_map)
        stages = " · ".join(f"{stage} {seconds:.1f} s" for stage, seconds in view.seconds.items())
        kept = "" if "texture" in view.seconds or view.texture is None else " (texture re-used)"
        self.timing.value = f"{stages} — <b>{sum(view.seconds.values()):.1f} s</b>{kept}"
        encoded = base64.b64encode(glb_bytes(head.vertices, head.faces, head.uv, texture)).decode("ascii")
        self.download.value = (
            f'<a download="head.glb" href="data:model/gltf-binary;base64,{encoded}">⬇ download head.glb</a>'
        )

    def picture(self, size: int = 256) -> bytes:
        """The current head's static views as PNG (what front ends without widgets show)."""
        head = self.session.view.head
        return png_bytes(views_picture(head.vertices, head.faces, head.uv, self.session.worn_texture(), size))

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        if self.session.view is not None:
            bundle["image/png"] = base64.b64encode(self.picture()).decode("ascii")
        return bundle


def explorer(pipeline: CLIPHeadPipeline | None = None, prompt: str = DEFAULT_PROMPT) -> ExplorerPanel:
    """The explorer panel on ``pipeline`` (default: the embedded models), with ``prompt``'s head generated."""
    panel = ExplorerPanel(pipeline or CLIPHeadPipeline(), prompt)
    panel.run_generate()
    return panel
