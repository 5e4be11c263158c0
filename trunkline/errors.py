"""The exception tree of trunkline.

Every error trunkline raises derives from :class:`TrunklineError`, and also from the
standard library class that best describes it, so callers may catch either::

    TrunklineError
     +-- ConfigError (ValueError)            a configuration or data file is wrong
     |    +-- NumberPlanError                 a network number plan is wrong
     +-- BackendError                         a card backend failed
     |    +-- BackendNotFound (LookupError)   no backend of that name
     |    +-- CardNotFound (FileNotFoundError) the hardware is not there
     +-- ChannelError                         an operation on one channel failed
     |    +-- NoSuchChannel (NotFound)        the card has no such channel or span
     |    +-- ChannelStateError               the channel's state does not allow it
     |    +-- ChannelOutOfService             the channel is blocked or faulted
     |    +-- ChannelTimeout (TimeoutError)
     +-- AudioFileError (ValueError)          a WAV file is missing, empty, corrupt or unsupported
     +-- NumberFormatError (ValueError)       a telephone number has illegal characters
     +-- InvalidRequest (ValueError)          a request is malformed (an unknown option...)
     +-- NotFound (LookupError)               the call, group, fax... named does not exist
     +-- StateConflict                        the state of a call or service does not allow it
     |    +-- CallStateError                  ... the call's state
     +-- Unsupported                          this card or line cannot do it

The gateway's service maps these to wire error codes in one table
(``trunkline.gateway.rpc.registry``); nothing below it knows the wire.

Native status codes are converted once, at the cffi boundary, and chained with
``raise ... from err``.
"""

from __future__ import annotations


class TrunklineError(Exception):
    """Base of every error raised by trunkline."""


class ConfigError(TrunklineError, ValueError):
    """A configuration or data file is malformed.

    ``source`` names the file (or ``"<string>"``), ``key`` the offending key and ``line``
    the 1-based line number where it can be found, when known.
    """

    def __init__(
        self, message: str, *, source: str | None = None, key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.key = key
        self.line = line
        where = ""
        if source is not None:
            where = source
            if line is not None:
                where += f":{line}"
            where += ": "
        super().__init__(f"{where}{message}")


class NumberPlanError(ConfigError):
    """A network number plan is malformed."""


class BackendError(TrunklineError):
    """A card backend failed."""


class BackendNotFound(BackendError, LookupError):
    """No backend is registered under the requested name."""


class CardNotFound(BackendError, FileNotFoundError):
    """The backend exists but the card it drives is not present."""


class NotFound(TrunklineError, LookupError):
    """The call, channel group, fax or job named does not exist (any more)."""


class ChannelError(TrunklineError):
    """An operation on a channel failed."""


class NoSuchChannel(NotFound, ChannelError):
    """The card has no channel (or span) of that number: a request naming one is wrong
    about the card (not_found on the wire), not in conflict with its state."""


class ChannelStateError(ChannelError):
    """The channel's current state does not allow the operation."""


class ChannelOutOfService(ChannelError):
    """The channel is blocked, faulted or its span is in alarm."""


class ChannelTimeout(ChannelError, TimeoutError):
    """A channel operation did not complete in time."""


class AudioFileError(TrunklineError, ValueError):
    """An audio file is missing, empty, corrupt or in an unsupported format."""


class NumberFormatError(TrunklineError, ValueError):
    """A telephone number is empty or has characters a line cannot dial."""


class InvalidRequest(TrunklineError, ValueError):
    """A request is malformed: an unknown option, a value out of range."""


class StateConflict(TrunklineError):
    """The current state (of a call, a channel, the service) does not allow it."""


class CallStateError(StateConflict):
    """The call's state does not allow the operation."""


class Unsupported(TrunklineError):
    """This card, line or backend cannot do what was asked."""
