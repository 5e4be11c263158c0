"""B-channel maintenance of one PRI span: RESTART sequencing and SERVICE states.

libpri sends RESTART for one channel at a time (``pri_reset``), so restarting the whole
interface (Q.931 5.5.1) means restarting each B-channel in turn, each after the previous
one's RESTART ACKNOWLEDGE. :class:`Maintenance` keeps that queue, the one RESTART in
flight, its retransmission and the point where we give up; and it turns SERVICE /
SERVICE ACKNOWLEDGE change-status codes (NI-2, 5ESS, 4ESS) into channel states.

Sans-IO: it takes libpri's reports and ``now``, changes the span's
:class:`~.channels.ChannelTable`, and answers what to send (:class:`SendRestart`) or
report (:class:`RestartUnacknowledged`); it reads no clock and calls no libpri. The
span sends, then confirms with :meth:`Maintenance.sent` (or :meth:`Maintenance.refused`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .channels import ChannelTable

__all__ = [
    "RESTART_ATTEMPTS",
    "RESTART_TIMEOUT",
    "SERVICE_STATES",
    "Maintenance",
    "RestartAction",
    "RestartUnacknowledged",
    "SendRestart",
    "service_name",
]

#: Change status of a SERVICE message, as ``pri_maintenance_service`` and libpri's
#: PRI_EVENT_SERVICE / PRI_EVENT_SERVICE_ACK carry it.
SERVICE_STATES: Mapping[str, int] = {"in_service": 0, "maintenance": 1, "out_of_service": 2}
_SERVICE_NAMES = {v: k for k, v in SERVICE_STATES.items()}

#: Seconds to wait for a RESTART ACKNOWLEDGE before sending RESTART again: trunkline's
#: own supervision, a choice of ours rather than a Q.931 timer value.
RESTART_TIMEOUT = 10.0
#: RESTARTs sent for one channel before giving up on it.
RESTART_ATTEMPTS = 2


def service_name(status: int) -> str:
    """The name of a change-status code; unknown codes count as ``out_of_service``."""
    return _SERVICE_NAMES.get(status, "out_of_service")


@dataclass(frozen=True, slots=True)
class SendRestart:
    """Send RESTART for ``channel`` now; ``attempt`` 1 is the first transmission."""

    channel: int
    attempt: int


@dataclass(frozen=True, slots=True)
class RestartUnacknowledged:
    """``channel`` was restarted :data:`RESTART_ATTEMPTS` times without an acknowledgement;
    it is no longer marked restarting."""

    channel: int


RestartAction = SendRestart | RestartUnacknowledged


class Maintenance:
    """RESTART and SERVICE bookkeeping over a span's :class:`ChannelTable`.

    ``restart_timeout`` (seconds) may be changed at any time; it applies to the RESTART
    in flight too.
    """

    def __init__(self, table: ChannelTable, *, restart_timeout: float = RESTART_TIMEOUT
                 ) -> None:
        self.table = table
        self.restart_timeout = restart_timeout
        self._queue: deque[int] = deque()
        self._in_flight: tuple[int, float, int] | None = None  # channel, sent at, attempt

    @property
    def in_flight(self) -> int | None:
        """The channel whose RESTART waits for its acknowledgement, if any."""
        return None if self._in_flight is None else self._in_flight[0]

    def deadline(self) -> float | None:
        """When :meth:`due` next has something to do for the RESTART in flight."""
        if self._in_flight is None:
            return None
        return self._in_flight[1] + self.restart_timeout

    # -- RESTART ----------------------------------------------------------------------
    def request_restart(self, channels: Iterable[int]) -> None:
        """Queue a RESTART of each of ``channels`` not already restarting, and mark them
        restarting (the caller clears the calls on them first)."""
        for ch in channels:
            if self.table.mark_restarting(ch):
                self._queue.append(ch)

    def due(self, now: float) -> list[RestartAction]:
        """What to do at ``now`` (call it only while the D-channel is up).

        At most one :class:`RestartUnacknowledged` (the RESTART in flight was not
        acknowledged in time, for the last time) followed by at most one
        :class:`SendRestart` (a retransmission, or the next queued channel). The caller
        sends it and reports back with :meth:`sent` or :meth:`refused`.
        """
        actions: list[RestartAction] = []
        if self._in_flight is not None:
            ch, sent_at, attempt = self._in_flight
            if now - sent_at < self.restart_timeout:
                return actions
            if attempt < RESTART_ATTEMPTS:
                return [SendRestart(ch, attempt + 1)]
            actions.append(RestartUnacknowledged(ch))
            self.table.restart_done(ch)
            self._in_flight = None
        while self._queue:
            ch = self._queue.popleft()
            if self.table.is_restarting(ch):
                actions.append(SendRestart(ch, 1))
                break
        return actions

    def sent(self, channel: int, now: float, attempt: int) -> None:
        """RESTART for ``channel`` went out at ``now``: wait for its acknowledgement."""
        self._in_flight = (channel, now, attempt)

    def refused(self, channel: int) -> None:
        """libpri would not send RESTART for ``channel``: it is no longer restarting.

        (A RESTART still in flight for it, when this was a retransmission, stays in
        flight, as it did before this core was split out of the span.)
        """
        self.table.restart_done(channel)

    def acknowledged(self, channel: int | None) -> int | None:
        """RESTART ACKNOWLEDGE received for ``channel`` (None: libpri did not say which).

        Returns the channel it acknowledges (the one in flight when the
        acknowledgement names none or names it), which is idle again, or None.
        """
        if self._in_flight is not None and channel in (None, self._in_flight[0]):
            channel = self._in_flight[0]
            self._in_flight = None
        if channel is not None:
            self.table.restart_done(channel)
            self.table.set_service(channel, "in_service")
        return channel

    def restart_received(self, channel: int | None) -> tuple[int, ...]:
        """The far end restarted ``channel`` (None: the interface, Q.931 5.5.2).

        Returns the channels it concerns, now back in service; the caller clears the
        calls on them.
        """
        targets = self.table.channels if channel is None else (channel,)
        for target in targets:
            self.table.set_service(target, "in_service")
        return targets

    def link_down(self) -> None:
        """The D-channel went down: the RESTART in flight is sent again, first, once it
        is back up."""
        if self._in_flight is not None:
            self._queue.appendleft(self._in_flight[0])
            self._in_flight = None

    # -- SERVICE ----------------------------------------------------------------------
    def service_changed(self, channel: int, status: int) -> str:
        """Apply a SERVICE change status (ours once sent, or the far end's) to
        ``channel``; returns its name."""
        name = service_name(status)
        self.table.set_service(channel, name)
        return name
