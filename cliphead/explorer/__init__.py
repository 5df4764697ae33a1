"""Interactive exploration: a prompt's textured head in a 3D view, reshaped live (notebook 10, ``cliphead
explore``)."""

from cliphead.explorer.panel import ExplorerPanel, explorer
from cliphead.explorer.session import ExplorerSession, ExplorerView
from cliphead.explorer.viewer import HeadViewer

__all__ = ["ExplorerPanel", "ExplorerSession", "ExplorerView", "HeadViewer", "explorer"]
