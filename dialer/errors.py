"""Errors of the dialer, under the shared tree of :mod:`trunkline.errors`.

::

    TrunklineError
     +-- DialerError
          +-- DialerStateError (RuntimeError)   an event does not fit the thing's state
          +-- UnknownEntityError (LookupError)  an event names an agent/call/campaign we lack
          +-- StoreError                        the campaign database cannot do as asked

Messages name the thing and its state, e.g.
``"cannot connect agent 'a7': state is talking"``.
"""

from __future__ import annotations

from trunkline.errors import TrunklineError


class DialerError(TrunklineError):
    """Base of the dialer's errors."""


class DialerStateError(DialerError, RuntimeError):
    """The event or request does not fit the current state of the agent, call or campaign."""


class UnknownEntityError(DialerError, LookupError):
    """The event names an agent, call or campaign the engine does not know."""


class StoreError(DialerError):
    """The campaign database cannot be used as asked (unknown campaign, newer schema...)."""
