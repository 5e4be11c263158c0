"""Wire error codes of the gateway protocol and the exceptions that carry them.

Every error reply on the wire is ``{"id": ..., "error": {"code": INT, "name": STR,
"message": STR}}``. ``code`` is the stable integer below (clients switch on it), ``name``
its readable spelling, ``message`` a sentence for a human that names the thing and its
state. Codes never change meaning once released; new ones are only added.

=====  =================  ==================================================================
code   name               meaning
=====  =================  ==================================================================
100    parse_error        the frame is not valid msgpack (the connection is closed)
101    frame_too_large    the length prefix exceeds the server's limit (connection closed)
102    truncated          the stream ended inside a frame
103    invalid_request    the frame is msgpack but not a request map ``{id, method, params}``
104    unknown_method     no method of that name
105    invalid_params     a parameter is missing, unknown, of the wrong type or out of range
201    unauthorized       the connection has not authenticated, or the token is wrong
202    forbidden          the connection's role is below the method's role
301    not_found          the call, channel, span or file named does not exist
302    conflict           the object's state does not allow the operation
303    unavailable        the resource exists but is out of service (blocked, in alarm)
304    timeout            the operation did not complete in time
500    internal           a bug in the gateway; the message says where, the log has more
503    overloaded         too many requests in flight, too many clients, or requests too
                          fast (the request rate limit); retry later
504    shutting_down      the gateway is stopping and takes no new requests
=====  =================  ==================================================================

Exception tree (all under :class:`trunkline.errors.TrunklineError`)::

    GatewayError
     +-- RpcError                       an error with a wire code (raised by handlers,
     |    |                             raised by the client for an error reply)
     |    +-- ProtocolError (ValueError) bytes or a frame that break the protocol
     +-- ConnectionClosed (ConnectionError)  the client lost its connection (with a reason)
     +-- CallTimeout (TimeoutError)     the client got no reply in time
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from trunkline.errors import TrunklineError


class ErrorCode(IntEnum):
    """The stable integer of every wire error (see the module docstring for meanings)."""

    PARSE_ERROR = 100
    FRAME_TOO_LARGE = 101
    TRUNCATED = 102
    INVALID_REQUEST = 103
    UNKNOWN_METHOD = 104
    INVALID_PARAMS = 105
    UNAUTHORIZED = 201
    FORBIDDEN = 202
    NOT_FOUND = 301
    CONFLICT = 302
    UNAVAILABLE = 303
    TIMEOUT = 304
    INTERNAL = 500
    OVERLOADED = 503
    SHUTTING_DOWN = 504

    @property
    def wire_name(self) -> str:
        """The lower-case name sent beside the integer (``"not_found"``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, code: str | int | ErrorCode) -> ErrorCode:
        """Accept a name (``"not_found"``), an integer (301) or a member.

        Raises ValueError naming the bad code, so a handler typo fails loudly at once.
        """
        if isinstance(code, cls):
            return code
        if isinstance(code, str):
            try:
                return cls[code.upper()]
            except KeyError:
                names = ", ".join(c.wire_name for c in cls)
                raise ValueError(f"unknown error code {code!r}; known: {names}") from None
        if isinstance(code, int) and not isinstance(code, bool):
            try:
                return cls(code)
            except ValueError:
                raise ValueError(f"unknown error code {code}") from None
        raise ValueError(f"error code must be a name or an integer, not {type(code).__name__}")


#: Codes after which the connection cannot continue (the byte stream is out of step).
FATAL_CODES: frozenset[ErrorCode] = frozenset(
    {ErrorCode.PARSE_ERROR, ErrorCode.FRAME_TOO_LARGE, ErrorCode.TRUNCATED}
)


class GatewayError(TrunklineError):
    """Base of the errors of the gateway's wire layer (server and client)."""


class RpcError(GatewayError):
    """An error that travels as an error reply.

    Handlers raise it (``raise RpcError("not_found", "no call 17")``) to answer a request
    with that code; the client raises it when a reply carries an error. ``code`` is the
    :class:`ErrorCode`, ``name`` its wire name, ``message`` the human sentence and
    ``data`` an optional msgpack-able value with machine-readable detail.
    """

    def __init__(self, code: str | int | ErrorCode, message: str, *, data: Any = None) -> None:
        self.code = ErrorCode.parse(code)
        self.message = message
        self.data = data
        super().__init__(f"{self.code.wire_name} ({int(self.code)}): {message}")

    @property
    def name(self) -> str:
        return self.code.wire_name

    def to_wire(self) -> dict[str, Any]:
        """The ``error`` member of a reply."""
        body: dict[str, Any] = {
            "code": int(self.code), "name": self.code.wire_name, "message": self.message,
        }
        if self.data is not None:
            body["data"] = self.data
        return body

    @classmethod
    def from_wire(cls, body: Any) -> RpcError:
        """Rebuild the error from a reply's ``error`` member, tolerating unknown codes."""
        if not isinstance(body, dict):
            return cls(ErrorCode.INTERNAL, f"malformed error body from server: {body!r}")
        message = str(body.get("message", ""))
        try:
            code = ErrorCode.parse(body.get("code", ErrorCode.INTERNAL))
        except ValueError:
            code = ErrorCode.INTERNAL
            message = f"(server code {body.get('code')!r}) {message}"
        return cls(code, message, data=body.get("data"))


class ProtocolError(RpcError, ValueError):
    """Bytes or a frame that break the wire protocol.

    ``fatal`` is true when the byte stream can no longer be followed (bad length prefix,
    undecodable msgpack, truncated stream): the server then closes the connection with a
    reason. Otherwise (a well-framed map that is not a valid request) the server answers
    with an error reply and goes on. ``frames`` holds the frames decoded successfully in
    the same :meth:`FrameDecoder.feed` call before the bad one, so none is lost.
    """

    def __init__(
        self, code: str | int | ErrorCode, message: str, *, data: Any = None,
        frames: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(code, message, data=data)
        self.frames: list[dict[str, Any]] = frames or []

    @property
    def fatal(self) -> bool:
        return self.code in FATAL_CODES


class ConnectionClosed(GatewayError, ConnectionError):
    """The connection to the gateway closed; ``reason`` says why when the server told us."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(message)


class CallTimeout(GatewayError, TimeoutError):
    """No reply to a request arrived within the client's timeout."""
