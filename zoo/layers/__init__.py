"""Custom layers: subclassed, serializable (``package="zoo"``), no Lambda."""

from zoo.layers.cscnet import ConvLista
from zoo.layers.resample import PixelShuffle
from zoo.layers.xunit import XUnit

__all__ = ["ConvLista", "PixelShuffle", "XUnit"]
