"""zoo: classic and efficient vision networks with verified weights.

Example::

    import zoo
    zoo.list_models(pretrained=True)
    model = zoo.load("lenet5")
"""

import os as _os

# Quiet TensorFlow's start-up chatter unless the user asked for it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo.api import info, load  # noqa: E402
from zoo.errors import ZooError  # noqa: E402
from zoo.registry import list_models, register  # noqa: E402

__version__ = "0.1.0"
__all__ = ["list_models", "info", "load", "register", "ZooError", "__version__"]
