"""Errors of the SS7 layer, derived from :mod:`trunkline.errors`::

    TrunklineError
     +-- Ss7Error
          +-- Ss7CodecError (ValueError)             a frame or message that does not decode
          |                                          (the message names the field)
          +-- Ss7ConfigError (ConfigError)           a point code, CIC map or timer is wrong
          +-- Ss7CallStateError (CallStateError)     the call's state forbids the request
          +-- Ss7NoCircuit (ChannelOutOfService)     no free circuit to place a call
          +-- Ss7LinkDown (ChannelOutOfService)      the linkset to the adjacent point is down

Decoders raise only :class:`Ss7CodecError` on bad input (the property tests check it).
"""

from __future__ import annotations

from trunkline.errors import CallStateError, ChannelOutOfService, ConfigError, TrunklineError

__all__ = ["Ss7CallStateError", "Ss7CodecError", "Ss7ConfigError", "Ss7Error", "Ss7LinkDown",
           "Ss7NoCircuit"]


class Ss7Error(TrunklineError):
    """Base of every error of the SS7 layer."""


class Ss7CodecError(Ss7Error, ValueError):
    """A signal unit, MTP3 message or ISUP message is malformed."""


class Ss7ConfigError(Ss7Error, ConfigError):
    """A point code, network indicator, circuit map or timer is invalid."""


class Ss7CallStateError(Ss7Error, CallStateError):
    """The call's (or circuit's) state does not allow the requested operation."""


class Ss7NoCircuit(Ss7Error, ChannelOutOfService):
    """No circuit is free (idle, unblocked, reset) to place a call on."""


class Ss7LinkDown(Ss7Error, ChannelOutOfService):
    """The linkset to the adjacent signalling point is unavailable."""
