"""Export for deployment: TFLite (LiteRT) with quantization and built-in verification.

Example::

    import zoo.export
    zoo.export.tflite("lenet5", "lenet5.tflite")
"""

from zoo.export.litert import QUANTIZE_MODES, ExportReport, tflite

__all__ = ["QUANTIZE_MODES", "ExportReport", "tflite"]
