"""The appearance world: attribute records, the aligned-UV painter, captions, textured renders."""

from cliphead.lab.world.attributes import Attributes, sample_attributes
from cliphead.lab.world.captions import captions, paper_caption
from cliphead.lab.world.painter import paint_texture

__all__ = ["Attributes", "captions", "paint_texture", "paper_caption", "sample_attributes"]
