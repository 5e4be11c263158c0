"""One SS7 signalling point: its linkset (MTP2/MTP3), its circuits and calls (ISUP).

:class:`Ss7Point` is what a signalling module drives, on either side of a trunk: our CPE
side (the dialer) and an exchange (the emulated network) run the same object. It is
sans-IO: frames in per link, ``now`` and requests in; frames out per link and events
out (:mod:`.events`), in the order they arose::

    point = Ss7Point(Ss7Config(opc="2-100-1", apc="2-100-2", links={0: 1}))
    outputs = point.start(now)
    outputs = point.receive(now, slc, frame)      # a frame of link ``slc``
    outputs = point.link_error(now, slc)          # the kernel saw a bad frame
    outputs = point.on_time(now)                  # when point.next_deadline() is due
    call, outputs = point.place(now, "01088880001", "13800138000")
    outputs = point.answer(now, call) / release(now, call, cause) / alert(now, call)

Every output is a :class:`~.events.Transmit` (write that frame on that link) or a
:class:`~.events.PointEvent`. Requests raise :class:`~.errors.Ss7LinkDown`,
:class:`~.errors.Ss7NoCircuit` or :class:`~.errors.Ss7CallStateError` when they cannot
be carried out; nothing else is raised for anything the far end sends.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import events as ev
from .config import Ss7Config
from .errors import Ss7CodecError
from .isup import Isup, Out
from .messages import decode_isup
from .mtp3 import (
    SI_ISUP,
    LinkAvailable,
    Linkset,
    LinksetState,
    LinkUnavailable,
    Mtp3Output,
    Send,
    UserMessage,
)

__all__ = ["Ss7Point"]


class Ss7Point:
    """A signalling point with one linkset to its adjacent point (module docstring)."""

    def __init__(self, config: Ss7Config) -> None:
        self.config = config
        self.linkset = Linkset(config.point_code, config.adjacent, fmt=config.fmt,
                               ni=config.network_indicator, slcs=sorted(config.links),
                               timers=config.mtp3_timers, mtp2_timers=config.mtp2_timers)
        self.isup = Isup(config)
        self._out: list[ev.PointOutput] = []
        #: ISUP messages that did not decode.
        self.undecodable = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def up(self) -> bool:
        """Whether the adjacent point is accessible (calls may be placed)."""
        return self.linkset.up

    def bearer(self, cic: int) -> tuple[int, int] | None:
        """(span, timeslot) of circuit ``cic``."""
        return self.config.circuit_map.place(cic)

    def free_circuits(self) -> list[int]:
        return self.isup.free_circuits()

    def next_deadline(self) -> float | None:
        times = [t for t in (self.linkset.next_deadline(), self.isup.next_deadline())
                 if t is not None]
        return min(times, default=None)

    # -- frames and time -----------------------------------------------------------------------
    def start(self, now: float) -> list[ev.PointOutput]:
        """Align every link."""
        self._mtp3(now, self.linkset.start(now))
        return self._take()

    def receive(self, now: float, slc: int, frame: bytes) -> list[ev.PointOutput]:
        self._mtp3(now, self.linkset.receive(now, slc, frame))
        return self._take()

    def link_error(self, now: float, slc: int, count: int = 1) -> list[ev.PointOutput]:
        """``count`` frames received in error on link ``slc`` (DAHDI's bad FCS, abort)."""
        self._mtp3(now, self.linkset.error(now, slc, count))
        return self._take()

    def on_time(self, now: float) -> list[ev.PointOutput]:
        self._mtp3(now, self.linkset.on_time(now))
        self._isup(now, self.isup.on_time(now))
        return self._take()

    def stop(self, now: float) -> list[ev.PointOutput]:
        """Take every link out of service (the calls are cleared as on a link failure)."""
        self._mtp3(now, self.linkset.stop(now))
        return self._take()

    # -- requests ------------------------------------------------------------------------------
    def place(self, now: float, called: str, calling: str | None = None, *,
              cic: int | None = None, category: int | None = None
              ) -> tuple[int, list[ev.PointOutput]]:
        """Send an IAM on ``cic`` (None: hunt a free circuit); returns the call id."""
        call, out = self.isup.place(now, called, calling, cic=cic, category=category)
        self._isup(now, out)
        return call.id, self._take()

    def call_circuit(self, call: int) -> int | None:
        found = self.isup.calls.get(call)
        return None if found is None else found.cic

    def alert(self, now: float, call: int) -> list[ev.PointOutput]:
        self._isup(now, self.isup.alert(now, call))
        return self._take()

    def progress(self, now: float, call: int, event: int = 3) -> list[ev.PointOutput]:
        self._isup(now, self.isup.progress(now, call, event))
        return self._take()

    def answer(self, now: float, call: int) -> list[ev.PointOutput]:
        self._isup(now, self.isup.answer(now, call))
        return self._take()

    def release(self, now: float, call: int, cause: int = 16) -> list[ev.PointOutput]:
        self._isup(now, self.isup.release(now, call, cause))
        return self._take()

    def block(self, now: float, cic: int) -> list[ev.PointOutput]:
        self._isup(now, self.isup.block(now, cic))
        return self._take()

    def unblock(self, now: float, cic: int) -> list[ev.PointOutput]:
        self._isup(now, self.isup.unblock(now, cic))
        return self._take()

    def reset(self, now: float, cic: int) -> list[ev.PointOutput]:
        self._isup(now, self.isup.reset(now, cic))
        return self._take()

    def group_reset(self, now: float, cics: Iterable[int]) -> list[ev.PointOutput]:
        self._isup(now, self.isup.group_reset(now, cics))
        return self._take()

    def group_block(self, now: float, cics: Iterable[int], *, hardware: bool = False
                    ) -> list[ev.PointOutput]:
        self._isup(now, self.isup.group_block(now, cics, hardware=hardware))
        return self._take()

    def group_unblock(self, now: float, cics: Iterable[int], *, hardware: bool = False
                      ) -> list[ev.PointOutput]:
        self._isup(now, self.isup.group_unblock(now, cics, hardware=hardware))
        return self._take()

    # -- plumbing ------------------------------------------------------------------------------
    def _mtp3(self, now: float, outputs: list[Mtp3Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self._out.append(ev.Transmit(out.slc, out.frame))
            elif isinstance(out, LinkAvailable):
                self._out.append(ev.LinkChanged(out.slc, True))
            elif isinstance(out, LinkUnavailable):
                self._out.append(ev.LinkChanged(out.slc, False, out.reason))
            elif isinstance(out, LinksetState):
                self._out.append(ev.LinksetChanged(out.up, out.reason))
                self._isup(now, self.isup.linkset(now, out.up))
            elif isinstance(out, UserMessage):
                if out.si != SI_ISUP:
                    continue
                try:
                    message = decode_isup(out.body)
                except Ss7CodecError:
                    self.undecodable += 1
                    continue
                self._isup(now, self.isup.receive(now, message))

    def _isup(self, now: float, outputs: list[Out | ev.PointEvent]) -> None:
        for out in outputs:
            if isinstance(out, Out):
                # Q.704 2.2.4 / Q.763: ISUP's SLS is the CIC's four low bits.
                self._mtp3(now, self.linkset.send(now, SI_ISUP, out.message.cic & 0x0F,
                                                  out.message.encode()))
            else:
                self._out.append(out)

    def _take(self) -> list[ev.PointOutput]:
        out, self._out = self._out, []
        return out
