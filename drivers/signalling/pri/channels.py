"""The B-channel table of one PRI span: who holds each channel, and which one to take next.

:class:`ChannelTable` is the single place a span keeps per-channel state: the call
holding a channel, the channels waiting for a RESTART ACKNOWLEDGE, and the channels a
SERVICE message took out of service. It also chooses channels: for an outgoing call
(:meth:`ChannelTable.hunt`) and for an incoming SETUP (:meth:`ChannelTable.choose_incoming`,
Q.931 5.2.3.1 and the channel selection conflict of Q.931 5.7).

Sans-IO: plain Python, no libpri, no clock. The span feeds it what libpri reports and
acts on what it answers, so the rules are tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .errors import PriNoChannel

__all__ = ["CHANNEL_STATES", "ChannelTable", "IncomingChoice"]

#: What :meth:`ChannelTable.state` answers, busiest reason first.
CHANNEL_STATES = ("idle", "busy", "restarting", "maintenance", "out_of_service")

# Q.850 causes for an incoming SETUP that cannot be given a channel.
_NO_CHANNEL = 34         # no circuit/channel available
_CHANNEL_TAKEN = 44      # requested circuit/channel not available
_NO_SUCH_CHANNEL = 82    # identified channel does not exist


@dataclass(frozen=True, slots=True)
class IncomingChoice:
    """The channel for an incoming SETUP, or why there is none.

    ``channel`` None means: reject the call with ``cause`` (Q.850). ``takes_from`` is the
    id of our own outgoing call that loses the channel to this one (Q.931 5.7), None
    otherwise; the table itself is not changed by the choice.
    """

    channel: int | None
    cause: int = 0
    takes_from: int | None = None


class ChannelTable:
    """The B-channels of span ``span_id`` and their state, hunted in ``hunt`` order.

    ``hunt`` is ``"ascending"`` or ``"descending"`` (the span's configuration checked it).
    A channel is ``busy`` while a call holds it, else ``restarting`` while a RESTART of
    it is unacknowledged, else its service state (``maintenance``, ``out_of_service``),
    else ``idle``. Only idle channels are hunted.
    """

    def __init__(self, span_id: int, channels: Iterable[int], hunt: str) -> None:
        self.span_id = span_id
        self.channels: tuple[int, ...] = tuple(channels)
        self.hunt_order = hunt
        self._holder: dict[int, int] = {}         # channel -> call id
        self._restarting: set[int] = set()
        self._out_of_service: dict[int, str] = {}  # channel -> service state name

    # -- looking ----------------------------------------------------------------------
    def check(self, channel: int) -> int:
        """``channel`` if it is one of this span's B-channels; else :class:`PriNoChannel`."""
        if channel not in self.channels:
            raise PriNoChannel(f"span {self.span_id} has no B-channel {channel!r}; its "
                               f"channels are {self.channels[0]}..{self.channels[-1]}")
        return channel

    def state(self, channel: int) -> str:
        """One of :data:`CHANNEL_STATES`; :class:`PriNoChannel` for a foreign channel."""
        self.check(channel)
        if channel in self._holder:
            return "busy"
        if channel in self._restarting:
            return "restarting"
        return self._out_of_service.get(channel, "idle")

    def free(self) -> list[int]:
        """Idle B-channels in hunting order."""
        free = [ch for ch in self.channels if self.state(ch) == "idle"]
        return free[::-1] if self.hunt_order == "descending" else free

    def hunt(self) -> int | None:
        """The first idle channel in hunting order, None when every channel is taken."""
        free = self.free()
        return free[0] if free else None

    def holder(self, channel: int) -> int | None:
        """The id of the call holding ``channel``, if any."""
        return self._holder.get(channel)

    @property
    def holders(self) -> Mapping[int, int]:
        """channel -> call id, read-only."""
        return MappingProxyType(self._holder)

    # -- calls ------------------------------------------------------------------------
    def claim(self, channel: int, call_id: int) -> None:
        """Give ``channel`` to call ``call_id`` (the caller checked it is free)."""
        self._holder[channel] = call_id

    def release(self, channel: int | None, call_id: int) -> None:
        """Free ``channel`` if call ``call_id`` holds it; nothing otherwise."""
        if channel is not None and self._holder.get(channel) == call_id:
            del self._holder[channel]

    def choose_incoming(self, requested: int | None, flexible: bool, *,
                        holder_yields: bool = False) -> IncomingChoice:
        """The channel for an incoming SETUP that asked for ``requested`` (None: any).

        ``flexible`` is True when the channel was only preferred, False when exclusive.
        ``holder_yields`` says whether the call now holding ``requested`` is ours,
        outgoing and unanswered on the user side: in a channel selection conflict the
        network's call wins (Q.931 5.7) and ours is moved or cleared by the network.
        Without a channel the SETUP is cleared (Q.931 5.2.3.1) with cause 34 (none free),
        44 (the exclusive channel is taken) or 82 (no such channel on this span).
        """
        if requested is None:
            return self._hunted()
        if requested not in self.channels:
            return self._hunted() if flexible else IncomingChoice(None, _NO_SUCH_CHANNEL)
        state = self.state(requested)
        if state == "idle":
            return IncomingChoice(requested)
        holder = self._holder.get(requested)
        if state == "busy" and holder is not None and holder_yields:
            return IncomingChoice(requested, takes_from=holder)
        if flexible:
            return self._hunted()
        return IncomingChoice(None, _CHANNEL_TAKEN)

    def _hunted(self) -> IncomingChoice:
        channel = self.hunt()
        return IncomingChoice(None, _NO_CHANNEL) if channel is None else IncomingChoice(channel)

    # -- maintenance ------------------------------------------------------------------
    def is_restarting(self, channel: int) -> bool:
        return channel in self._restarting

    def mark_restarting(self, channel: int) -> bool:
        """Mark ``channel`` as restarting; False when it already was."""
        if channel in self._restarting:
            return False
        self._restarting.add(channel)
        return True

    def restart_done(self, channel: int) -> None:
        """``channel`` no longer waits for a RESTART ACKNOWLEDGE (acknowledged or given up)."""
        self._restarting.discard(channel)

    def set_service(self, channel: int, state: str) -> None:
        """Record ``channel``'s service state: ``in_service`` clears it, ``maintenance``
        or ``out_of_service`` keeps it from being hunted."""
        if state == "in_service":
            self._out_of_service.pop(channel, None)
        else:
            self._out_of_service[channel] = state
