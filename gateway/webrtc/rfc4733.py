"""DTMF sent by a browser as RTP telephone-events (RFC 4733 section 2.3), sans-IO.

A browser's ``RTCDTMFSender`` sends each key as a run of 4-byte payloads with the same
RTP timestamp (the event's start), a growing duration and, for the last three, the E
(end) bit. The key is reported once, on the first packet of its timestamp: an agent's
key press reaches the call as early as a tone detector would hear it, and the
repetitions (retransmitted ends, RFC 4733 section 2.5.1.4) are not new keys.

Payload (RFC 4733 figure 1)::

    event (8 bits) | E (1) | R (1) | volume (6) | duration (16)

Events 0-9 are the digits, 10 ``*``, 11 ``#``, 12-15 ``A``-``D`` (RFC 4733 section 3.2).
"""

from __future__ import annotations

from collections import deque

__all__ = ["EVENT_KEYS", "TelephoneEvents", "parse"]

EVENT_KEYS = "0123456789*#ABCD"


def parse(payload: bytes) -> tuple[int, bool, int, int]:
    """(event, end, volume, duration) of one telephone-event payload; ValueError for a
    payload shorter than 4 bytes."""
    if len(payload) < 4:
        raise ValueError(f"a telephone-event payload is 4 bytes, got {len(payload)}")
    event, flags = payload[0], payload[1]
    return event, bool(flags & 0x80), flags & 0x3F, int.from_bytes(payload[2:4], "big")


class TelephoneEvents:
    """Keys from one stream's telephone-event packets (see the module docstring)."""

    def __init__(self) -> None:
        self._seen: deque[int] = deque(maxlen=16)   # timestamps of events reported
        self.ignored = 0                             # payloads that were no key

    def feed(self, timestamp: int, payload: bytes) -> str | None:
        """The key this packet starts, or None (a repetition, not a key, malformed)."""
        try:
            event, _end, _volume, _duration = parse(payload)
        except ValueError:
            self.ignored += 1
            return None
        if event >= len(EVENT_KEYS):   # flash, tones of other tables: not a DTMF key
            self.ignored += 1
            return None
        if timestamp in self._seen:
            return None
        self._seen.append(timestamp)
        return EVENT_KEYS[event]
