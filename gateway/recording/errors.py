"""The one error of the recording package (a branch of :mod:`trunkline.errors`).

::

    TrunklineError
     +-- RecordingError    a recording could not be written, indexed, repaired,
                           exported or restored
"""

from __future__ import annotations

from trunkline.errors import TrunklineError


class RecordingError(TrunklineError):
    """A recording could not be written, repaired, exported or restored."""
