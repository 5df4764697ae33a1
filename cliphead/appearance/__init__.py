"""The appearance world: attribute records, the aligned-UV painter, captions, textured renders."""

from cliphead.appearance.attributes import Attributes, sample_attributes
from cliphead.appearance.captions import captions, paper_caption
from cliphead.appearance.painter import paint_texture

__all__ = ["Attributes", "captions", "paint_texture", "paper_caption", "sample_attributes"]
