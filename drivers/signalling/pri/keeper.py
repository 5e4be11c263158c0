"""A PRI span's D-channel kept in a thread of its own, apart from the media tick.

Q.921 has hard deadlines: the far end expects an acknowledgement within T200 (1 s) and
tries N200 (3) times before it drops the link, and it polls an idle link every T203
(10 s). When the D-channel is read from the 20 ms media tick, a tick that overruns (a
slow disk write, a garbage collection, a burst of detector work on 120 channels) holds
every frame the far end sends; a few seconds of it and the exchange takes the link
down, which clears every call on the span. chan_dahdi avoids this the same way: each
span's D-channel has its own thread (sig_pri.c, ``pri_dchannel``), and the channel
threads take the span's lock (``pri->lock``) around every libpri request.

:class:`DChannelKeeper` is that thread. It polls the span every ``period`` (libpri's
timers, the shortest a few hundred milliseconds, run inside the poll), under
:attr:`DChannelKeeper.lock`; the media tick takes the same lock for its requests
(SETUP, ANSWER, DISCONNECT) and collects the events the keeper gathered. An error from
the span (a read error on the board, a libpri callback failing) stops the keeper and is
raised to the tick on its next collection, so the line loop handles it where it
handled it before.

Only for real time: in virtual time the tick is the only clock, so the span stays on
the tick (:func:`wanted`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

import structlog

from trunkline.clock import Clock, RealClock

from . import events as ev

if TYPE_CHECKING:
    from .span import PriSpan

__all__ = ["DChannelKeeper", "wanted"]

#: How often the keeper reads the D-channel when no libpri timer is due sooner. Q.921's
#: shortest deadline is T200 (1 s); 10 ms keeps the answer well inside it while costing
#: about a hundred cheap polls a second per span.
PERIOD = 0.010


def wanted(clock: Clock, card: object, option: object = None) -> bool:
    """Whether a span on ``card`` gets a keeper: ``option`` (the ``pri_dchannel_thread``
    module option) when it is given, else when the clock is real and the card's
    D-channel links may be used from another thread (``dchannels_in_thread``)."""
    if option is not None:
        return bool(option)
    return isinstance(clock, RealClock) and bool(getattr(card, "dchannels_in_thread", False))


class DChannelKeeper:
    """Runs ``span.poll`` in a daemon thread; see the module docstring."""

    def __init__(self, span: PriSpan, clock: Clock, *, period: float = PERIOD) -> None:
        self.span = span
        self.clock = clock
        self.period = period
        #: Held by the keeper around each poll; the tick holds it around its requests.
        self.lock = threading.RLock()
        self._events: deque[ev.PriEvent] = deque()
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"pri-dchannel-{span.span_id}")
        self.log = structlog.get_logger("trunkline.pri").bind(span=span.span_id)
        #: Polls made, and the longest time between two of them (seconds): what the
        #: far end waited at worst for its frames to be read.
        self.polls = 0
        self.longest_gap = 0.0

    def start(self) -> DChannelKeeper:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def take(self) -> list[ev.PriEvent]:
        """The events gathered since the last call, oldest first; raises the error that
        stopped the keeper, once, after the events that came before it."""
        out: list[ev.PriEvent] = []
        while self._events:
            out.append(self._events.popleft())
        if not out and self._error is not None:
            error, self._error = self._error, None
            raise error
        return out

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling and wait for the thread (idempotent)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        last = self.clock.now()
        wait = 0.0
        while not self._stop.wait(wait):
            now = self.clock.now()
            self.longest_gap = max(self.longest_gap, now - last)
            last = now
            try:
                with self.lock:
                    events = self.span.poll(now)
            except BaseException as err:  # handed to the tick, which owns the span
                self.log.error("pri_dchannel_keeper_failed", error=str(err))
                self._error = err
                return
            self._events.extend(events)
            self.polls += 1
            wait = self.period
