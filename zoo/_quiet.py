"""Import TensorFlow without its start-up log lines (used by the command line).

TensorFlow's C++ libraries print INFO lines ("oneDNN custom operations are on",
"Could not find cuda drivers") to file descriptor 2 before their logging is
configured, ignoring TF_CPP_MIN_LOG_LEVEL; a CLI whose errors must be one line
cannot let those through.  Set ZOO_VERBOSE=1 to see them.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly(training: bool = False) -> None:
    """Import TensorFlow (and Keras) with fd 2 silenced.

    ``training=True`` also asks for TensorFlow's oneDNN CPU kernels, which it turns on by itself
    only on CPUs with AVX-512 / AMX: on an AVX2 host (AMD Zen 3) they made training steps faster too
    (xDnCNN batch 32 at 40x40: 2.4-2.6 s -> 1.8-1.9 s, mostly its 9x9 depthwise convolutions;
    xunit_sr_x4 10-20%). They change only float round-off; TF_ENABLE_ONEDNN_OPTS=0 still wins.
    Inference and evaluation keep TensorFlow's default, so published figures do not move.
    """
    if training and "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if "tensorflow" in sys.modules or os.environ.get("ZOO_VERBOSE") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        import keras  # noqa: F401

        tensorflow.config.list_physical_devices()  # device probing logs "failed call to cuInit" here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
