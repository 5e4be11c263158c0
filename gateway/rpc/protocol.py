"""Framing and request validation of the gateway wire protocol, without I/O.

A frame is a 4-byte big-endian unsigned length followed by that many bytes of one msgpack
value, which must be a map (see ``docs/protocol.md``). :class:`FrameDecoder` is sans-IO
in the h11 manner: the server and the client feed it whatever bytes the socket gave and
take whole frames out, so the same code is fuzzed in tests with no socket at all, and
neither side ever trusts a length or a nesting depth chosen by the peer.

The limits exist because a gateway runs next to the media tick: one hostile or buggy
client must not make it allocate a gigabyte or recurse into a stack overflow.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import msgpack

from trunkline.gateway.rpc.errors import ErrorCode, ProtocolError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FRAME",
    "DEFAULT_MAX_MAP_ENTRIES",
    "HEADER",
    "FrameDecoder",
    "ProtocolError",
    "Request",
    "encode_frame",
    "error_reply",
    "parse_request",
    "result_reply",
]

#: The length prefix: 4 bytes, big-endian, unsigned; counts the msgpack body only.
HEADER = struct.Struct(">I")
#: Default largest msgpack body accepted (1 MiB): far above any request or event.
DEFAULT_MAX_FRAME = 1 << 20
#: Default deepest nesting of maps and arrays inside a frame (the frame itself is depth 1).
DEFAULT_MAX_DEPTH = 32
#: Default most maps and arrays in one frame, and most elements in one of them. Bytes and
#: depth alone do not bound the work: a 1 MiB frame can hold a million empty maps, each
#: a Python dict to build and walk (~0.8 s of a core, with the GIL held).
DEFAULT_MAX_CONTAINERS = 4096
DEFAULT_MAX_LEN = 65536
#: Most elements (map entries and array items, all containers together) in one request
#: a server decodes. The two limits above still let a 1 MiB frame hold a million nils
#: in 16 arrays: ~0.1-0.3 s of decoding with the GIL held, on the loop the media tick
#: shares (issue 15, red-team 3). Counted as each container is built, so a frame past it
#: costs at most this plus one container of DEFAULT_MAX_LEN. Twice DEFAULT_MAX_LEN, so
#: the longest list a request may carry (a fax broadcast's numbers) fits with the rest.
DEFAULT_MAX_ELEMENTS = 2 * DEFAULT_MAX_LEN
#: Most map entries (all maps together) in one request a server decodes. A map entry is
#: the dearest element there is: msgpack interns every string key (a dict insertion into
#: the interpreter's table of interned strings, with the GIL held in C), so a frame of
#: 65,530 distinct keys took 86-125 ms to decode here (load 8-12, 2 cores), against
#: 1-3 ms for 131,072 nils; no worker thread helps, since the GIL is not released. No
#: request needs more than a few hundred (the largest map a method takes is a fax-on-
#: demand menu); 4096 bounds such a frame to a few ms.
DEFAULT_MAX_MAP_ENTRIES = 4096
#: What a connection that has not authenticated may send: an ``auth`` request and no
#: more (nothing before auth but auth).
PRE_AUTH_MAX_FRAME = 4096

#: The value types a frame may hold: plain msgpack. msgpack's extension types (and its
#: timestamp, ext -1) are refused: the protocol has no use for them, and refusing them
#: keeps every value plain Python data that handlers can validate with isinstance.
_PLAIN = frozenset({type(None), bool, int, float, str, bytes, dict, list})
_NESTED = frozenset({dict, list})


class _TooManyContainers(Exception):
    pass


class _TooManyElements(Exception):
    pass


class _TooManyMapEntries(Exception):
    pass


class _BadValue(Exception):
    pass


class _TooDeep(Exception):
    pass


def decode_body(body: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH,
                max_containers: int = DEFAULT_MAX_CONTAINERS,
                max_len: int = DEFAULT_MAX_LEN, max_elements: int | None = None,
                max_map_entries: int | None = None) -> Any:
    """Decode one frame's msgpack body, enforcing the type, depth and size rules.

    The unpacker refuses a map or array longer than ``max_len`` from its header, before
    building it, and stops at the ``max_containers``-th map or array, and (when given)
    once the containers built so far hold more than ``max_elements`` entries or the maps
    more than ``max_map_entries``: a frame's cost is bounded before it is paid, not
    checked after.

    Types and depth are checked as each container is built, from the types of its
    children (``set(map(type, ...))`` runs in C) and the depths of its child containers,
    never by a Python walk over every value: that walk cost 2.7 ms of the 3.4 ms a frame
    of 131,072 nils took on the loop the media tick shares. Only containers are visited
    in Python, and a frame holds at most ``max_containers`` of them.

    Raises ProtocolError(parse_error) for anything that is not exactly one msgpack value
    of allowed types, with the reason in the message.
    """
    count = 0
    elements = 0
    map_entries = 0
    # The depth of every container built so far, by id: a parent is built after its
    # children, and every child stays alive (inside its parent) until the decode ends,
    # so an id is never reused meanwhile.
    depths: dict[int, int] = {}

    def checked(container: Any, values: Any) -> Any:
        nonlocal count, elements
        count += 1
        if count > max_containers:
            raise _TooManyContainers
        if max_elements is not None:
            elements += len(container)
            if elements > max_elements:
                raise _TooManyElements
        kinds = set(map(type, values))
        if not kinds <= _PLAIN:
            raise _BadValue(min(k.__name__ for k in kinds - _PLAIN))
        depth = 1
        if not kinds.isdisjoint(_NESTED):
            depth += max(depths[id(v)] for v in values if type(v) in _NESTED)
            if depth > max_depth:
                raise _TooDeep
        depths[id(container)] = depth
        return container

    def on_map(container: dict[str, Any]) -> dict[str, Any]:
        nonlocal map_entries
        if max_map_entries is not None:
            map_entries += len(container)
            if map_entries > max_map_entries:
                raise _TooManyMapEntries
        return checked(container, container.values())

    def on_list(container: list[Any]) -> list[Any]:
        return checked(container, container)

    try:
        value = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True,
                                max_array_len=max_len, max_map_len=max_len,
                                object_hook=on_map, list_hook=on_list)
    except _TooManyContainers:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame of {len(body)} bytes holds more than {max_containers} maps and arrays",
        ) from None
    except _TooManyElements:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame of {len(body)} bytes holds more than {max_elements} elements",
        ) from None
    except _TooManyMapEntries:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame of {len(body)} bytes holds more than {max_map_entries} map entries",
        ) from None
    except _TooDeep:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR, f"frame nests deeper than the limit of {max_depth}"
        ) from None
    except _BadValue as err:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame holds a value of unsupported msgpack type {err.args[0]}",
        ) from None
    except msgpack.ExtraData as err:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame of {len(body)} bytes holds extra data after its msgpack value",
        ) from err
    except (ValueError, TypeError, msgpack.UnpackException) as err:
        # Truncated bodies raise ValueError("Unpack failed: incomplete input"); bad UTF-8
        # UnicodeDecodeError (a ValueError); non-str map keys ValueError; too-deep
        # StackError (a ValueError).
        raise ProtocolError(
            ErrorCode.PARSE_ERROR, f"frame of {len(body)} bytes is not valid msgpack: {err}"
        ) from err
    if type(value) not in _PLAIN:
        raise ProtocolError(
            ErrorCode.PARSE_ERROR,
            f"frame holds a value of unsupported msgpack type {type(value).__name__}",
        )
    return value


class FrameDecoder:
    """Turn a byte stream into frames (maps), one :meth:`feed` at a time.

    ``feed(data)`` appends bytes and returns every frame now complete, in order. It raises
    :class:`ProtocolError` for a frame that breaks the rules; ``err.frames`` holds the
    frames decoded before it in the same call. After a *fatal* error (``err.fatal``: a
    length above ``max_frame``, undecodable msgpack) the decoder is broken and every later
    call raises the same error, because the stream can no longer be trusted. After a
    non-fatal error (a frame that decodes but is not a map) the bad frame is consumed and
    the caller resumes with ``feed(b"")``, which continues with the bytes already buffered.

    Call :meth:`close` at end of stream: it raises ProtocolError(truncated) when a frame
    was left half-received.
    """

    def __init__(
        self, *, max_frame: int = DEFAULT_MAX_FRAME, max_depth: int = DEFAULT_MAX_DEPTH,
        max_elements: int | None = None, max_map_entries: int | None = None,
    ) -> None:
        if max_frame < 1:
            raise ValueError(f"max_frame must be >= 1, got {max_frame}")
        if max_depth < 1:
            raise ValueError(f"max_depth must be >= 1, got {max_depth}")
        self.max_frame = max_frame
        self.max_depth = max_depth
        #: None for a client (a server's reply may be long); a server's sessions set it.
        self.max_elements = max_elements
        self.max_map_entries = max_map_entries
        self._buffer = bytearray()
        self._broken: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def has_frame(self) -> bool:
        """True when the bytes buffered already hold a whole frame (or a bad length):
        what :meth:`feed` left undecoded when it stopped at ``max_bytes``."""
        buf = self._buffer
        if self._broken is not None or len(buf) < HEADER.size:
            return False
        (length,) = HEADER.unpack_from(buf, 0)
        return length == 0 or length > self.max_frame or HEADER.size + length <= len(buf)

    def feed(self, data: bytes | bytearray | memoryview,
             max_bytes: int | None = None) -> list[dict[str, Any]]:
        """Append ``data`` and decode the whole frames buffered; with ``max_bytes``, stop
        after the frame that brings the bodies decoded in this call to that many (at
        least one frame is decoded), leaving the rest for the next call."""
        if self._broken is not None:
            raise ProtocolError(self._broken.code, self._broken.message)
        if data:
            self._buffer += data
        frames: list[dict[str, Any]] = []
        buf = self._buffer
        pos = 0
        size = len(buf)
        decoded = 0
        try:
            while size - pos >= HEADER.size:
                (length,) = HEADER.unpack_from(buf, pos)
                if length > self.max_frame:
                    raise ProtocolError(
                        ErrorCode.FRAME_TOO_LARGE,
                        f"frame length {length} exceeds the limit of {self.max_frame} bytes",
                    )
                if length == 0:
                    raise ProtocolError(ErrorCode.PARSE_ERROR, "frame length is 0 (no value)")
                end = pos + HEADER.size + length
                if end > size:
                    break
                body = bytes(buf[pos + HEADER.size:end])
                pos = end
                value = decode_body(body, max_depth=self.max_depth,
                                    max_elements=self.max_elements,
                                    max_map_entries=self.max_map_entries)
                if not isinstance(value, dict):
                    raise ProtocolError(
                        ErrorCode.INVALID_REQUEST,
                        f"frame holds a msgpack {type(value).__name__}, not a map",
                    )
                frames.append(value)
                decoded += length
                if max_bytes is not None and decoded >= max_bytes:
                    break
        except ProtocolError as err:
            del buf[:pos]
            err.frames = frames
            if err.fatal:
                self._broken = err
                self._buffer = bytearray()
            raise
        del buf[:pos]
        return frames

    def close(self) -> None:
        """Declare end of stream; raise ProtocolError(truncated) if a frame is unfinished."""
        if self._broken is None and self._buffer:
            pending = len(self._buffer)
            self._buffer = bytearray()
            raise ProtocolError(
                ErrorCode.TRUNCATED,
                f"stream ended inside a frame ({pending} bytes of an unfinished frame)",
            )


def encode_frame(message: dict[str, Any], *, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """Pack one map into a frame (prefix + msgpack).

    Raises TypeError when the map holds a value msgpack cannot carry, and ProtocolError
    (frame_too_large) when the packed body exceeds ``max_frame``, so that the sender finds
    out instead of the peer dropping the connection.
    """
    body = msgpack.packb(message, use_bin_type=True)
    if len(body) > max_frame:
        raise ProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            f"message of {len(body)} bytes exceeds the frame limit of {max_frame} bytes",
        )
    return HEADER.pack(len(body)) + body


@dataclass(frozen=True, slots=True)
class Request:
    """A validated request: ``id`` (int or str), ``method`` and ``params`` (a map)."""

    id: int | str
    method: str
    params: dict[str, Any] = field(default_factory=dict)


_REQUEST_KEYS = frozenset({"id", "method", "params"})
_MAX_ID_LENGTH = 128


def parse_request(frame: dict[str, Any]) -> Request:
    """Check that a frame is a request and return it.

    Raises ProtocolError(invalid_request) naming the offending key. ``err.data`` carries
    the request id when one could be read, so the error reply can still echo it.
    """
    rid = frame.get("id")
    good_id = (isinstance(rid, int) and not isinstance(rid, bool)) or (
        isinstance(rid, str) and 0 < len(rid) <= _MAX_ID_LENGTH
    )

    def bad(message: str) -> ProtocolError:
        return ProtocolError(
            ErrorCode.INVALID_REQUEST, message, data={"id": rid} if good_id else None
        )

    if "event" in frame and "method" not in frame:
        raise bad("clients may not send events; a request needs 'id', 'method' and 'params'")
    unknown = sorted(str(k) for k in frame.keys() - _REQUEST_KEYS)
    if unknown:
        raise bad(f"request has unknown key(s) {', '.join(map(repr, unknown))}; "
                  "expected 'id', 'method', 'params'")
    if "id" not in frame:
        raise bad("request has no 'id'")
    if not good_id:
        raise bad(f"request 'id' must be an integer or a string of 1..{_MAX_ID_LENGTH} "
                  f"characters, got {type(rid).__name__} {rid!r:.40}")
    method = frame.get("method")
    if not isinstance(method, str) or not method:
        raise bad(f"request 'method' must be a non-empty string, got {method!r:.40}")
    params = frame.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise bad(f"request 'params' must be a map, got {type(params).__name__}")
    return Request(rid, method, params)


def result_reply(rid: int | str, result: Any) -> dict[str, Any]:
    """The reply map for a success."""
    return {"id": rid, "result": result}


def error_reply(rid: int | str | None, error: Any) -> dict[str, Any]:
    """The reply map for a failure; ``error`` is an RpcError (or its wire body)."""
    body = error.to_wire() if hasattr(error, "to_wire") else error
    return {"id": rid, "error": body}
