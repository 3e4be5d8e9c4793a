"""Exceptions raised by zoo.

Every error a user can cause derives from :class:`ZooError` and carries one
message that says what was wrong and what to do.  The CLI prints that message
on one line and exits non-zero instead of showing a traceback.
"""


class ZooError(Exception):
    """Base class of every user-facing error in zoo."""


class UnknownModelError(ZooError, KeyError):
    """A model name or tag that is not registered."""

    def __str__(self):  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class WeightsNotFoundError(ZooError, FileNotFoundError):
    """Weights could not be found locally nor downloaded."""


class WeightsIntegrityError(ZooError):
    """A weights file whose sha256 or size does not match the manifest."""


class WeightsMismatchError(ZooError):
    """A weights file that belongs to another architecture."""


class InvalidOptionError(ZooError, ValueError):
    """A builder option with a value the architecture cannot take (e.g. FFDNet's sigma = 90)."""


class InvalidInputError(ZooError, ValueError):
    """An image or array that cannot be fed to the model."""


class ManifestError(ZooError):
    """weights_manifest.json is missing a field or is malformed."""
