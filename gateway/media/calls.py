"""A call as the gateway sees it: its leg, and what the gateway does with its audio.

Calls are kept apart from channels (DESIGN.md): a call has an id for its whole life
(its leg's), and names the channel its leg holds while it holds one. Its signalling
state lives in the leg; the wire state (``call.state``) is derived from what the leg
reported (``wire.py``), and ``bridged`` from the bridge. Here is only what the gateway
adds: playback, recording, bridging, monitoring, digit collection, a media processor.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from trunkline.drivers.signalling.leg import Leg
from trunkline.gateway.media.play import PlaySource

__all__ = ["Call", "Collect", "MediaProcessor"]


class MediaProcessor(Protocol):
    """Something that runs on a call's audio every tick (a fax terminal, for one).

    ``process`` gets the 160 samples the call received this tick and returns the 160 to
    send (or None to send nothing of its own), and events to publish. ``done`` ends it;
    ``close`` is called when it is detached or the call ends.
    """

    def process(self, received: np.ndarray, now: float) -> tuple[np.ndarray | None,
                                                                  list[dict[str, Any]]]: ...

    @property
    def done(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class Collect:
    """Digits being collected for a ``call.collect_dtmf`` request."""

    max_digits: int
    timeout: float
    terminator: str
    started: float
    digits: str = ""
    future: Future[dict[str, Any]] | None = None


@dataclass(eq=False)
class Call:
    """One call: its leg, its wire state, and the media the gateway runs on it."""

    leg: Leg
    created: float = 0.0
    #: The wire state (``call.state``): new, dialing, proceeding, ringing, early_media,
    #: offered, answered, bridged, rejecting, hungup.
    state: str = "new"
    answered_by: str | None = None
    outcome: str | None = None
    cause: int | None = None
    answered_at: float | None = None
    detect: dict[str, Any] = field(default_factory=dict)
    #: The client's correlation tag (``call.originate``'s ``tag``): it comes back on every
    #: event of the call and in ``calls.list``, so a client that restarted can find the
    #: calls it placed without knowing their ids.
    tag: str | None = None
    play: PlaySource | None = None
    recorder: Any = None
    bridged_to: int | None = None
    listening_to: int | None = None
    #: How a supervisor's call is on ``listening_to``: listen, whisper or barge
    #: (``supervise.py``).
    monitor_mode: str = "listen"
    conference: int | None = None
    """The conference the call is in: it hears every other member, they hear it."""
    collect: Collect | None = None
    processor: MediaProcessor | None = None
    """Takes over the call's audio (fax, IVR...)."""

    @property
    def id(self) -> int:
        return self.leg.id

    @property
    def kind(self) -> str:
        return self.leg.kind

    @property
    def direction(self) -> str:
        return self.leg.direction

    @property
    def number(self) -> str:
        return self.leg.number

    @property
    def span(self) -> int:
        return self.leg.span

    @property
    def channel(self) -> int | None:
        return self.leg.channel

    def where(self) -> dict[str, Any]:
        """The keys every event about the call carries."""
        return {"call": self.id, "span": self.span, "channel": self.channel}

    def info(self) -> dict[str, Any]:
        return {"call": self.id, "direction": self.direction, "kind": self.kind,
                "number": self.number, "span": self.span, "channel": self.channel,
                "state": self.state, "answered_by": self.answered_by,
                "outcome": self.outcome, "cause": self.cause,
                "bridged_to": self.bridged_to, "listening_to": self.listening_to,
                **({"monitor": self.monitor_mode} if self.listening_to is not None else {}),
                **({"conference": self.conference} if self.conference is not None else {}),
                "recording": str(self.recorder.path) if self.recorder else None,
                **({"tag": self.tag} if self.tag is not None else {})}
