"""Custom layers: subclassed, serializable (``package="zoo"``), no Lambda."""

from zoo.layers.batch_norm import BatchNormalization
from zoo.layers.cscnet import ConvLista
from zoo.layers.deep_ksvd import DeepKSVD
from zoo.layers.lidia import Lidia, LidiaWeightsNet, SeparableFC
from zoo.layers.noise_level import NoiseLevelMap
from zoo.layers.resample import CropLike, PadToMultiple, PixelShuffle, PixelUnshuffle
from zoo.layers.xunit import XUnit

__all__ = ["BatchNormalization", "ConvLista", "CropLike", "DeepKSVD", "Lidia", "LidiaWeightsNet", "NoiseLevelMap",
           "PadToMultiple", "PixelShuffle", "PixelUnshuffle", "SeparableFC", "XUnit"]
