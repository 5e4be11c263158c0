"""Errors of the PRI layer, derived from :mod:`trunkline.errors`::

    TrunklineError
     +-- PriError
          +-- PriConfigError (ConfigError, ValueError)   unknown switch type, role, timer...
          +-- PriNumberError (ValueError)                a number with illegal characters
          +-- PriCallStateError (ChannelStateError)      the call's state forbids the request
          +-- PriNoChannel (ChannelOutOfService)         no free B-channel to place a call
          +-- PriLinkDown (ChannelOutOfService)          the D-channel is down
          +-- PriUnsupported (NotImplementedError)       the switch type lacks the feature
          +-- LibpriError (BackendError)                 libpri refused a request

Messages name the thing and its state, e.g. ``cannot answer call 17 on span 1
channel 5: state is CALL_INITIATED``.
"""

from __future__ import annotations

from trunkline.errors import (
    BackendError,
    ChannelOutOfService,
    ChannelStateError,
    ConfigError,
    TrunklineError,
)

__all__ = [
    "LibpriError",
    "PriCallStateError",
    "PriConfigError",
    "PriError",
    "PriLinkDown",
    "PriNoChannel",
    "PriNumberError",
    "PriUnsupported",
]


class PriError(TrunklineError):
    """Base of every error of the PRI layer."""


class PriConfigError(PriError, ConfigError):
    """A span setting (role, switch type, channel list, timer) is invalid."""


class PriNumberError(PriError, ValueError):
    """A called or calling number is empty, too long or has illegal characters."""


class PriCallStateError(PriError, ChannelStateError):
    """The call's current state does not allow the requested operation."""


class PriNoChannel(PriError, ChannelOutOfService):
    """No B-channel is free (or the requested one is busy / out of service)."""


class PriLinkDown(PriError, ChannelOutOfService):
    """The span's D-channel is down; no call control is possible."""


class PriUnsupported(PriError, NotImplementedError):
    """The feature is not available with this switch type."""


class LibpriError(PriError, BackendError):
    """libpri returned an error for a request."""
