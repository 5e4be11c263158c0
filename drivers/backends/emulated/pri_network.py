"""The far end of an emulated PRI span: libpri in network mode, routed into the plan.

Each SETUP from our side is routed into the simulated network: the subscriber's
:class:`~trunkline.drivers.backends.emulated.farend.FarEndPlan` becomes a
:class:`~trunkline.drivers.signalling.pri.exchange.PriScript` (what the exchange says in Q.931, and
when), and the exchange's phase changes choose what the call's B-channel carries
(ringback or music while alerting, SIT and announcements with PROGRESS, the far party
once connected). As carriers in China do, an unallocated number gets PROGRESS with
in-band SIT and an announcement, then DISCONNECT with cause 1.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

from trunkline.drivers.backends.emulated.farend import FarEndPlan, build_plan
from trunkline.drivers.backends.emulated.lines import BearerChannel
from trunkline.drivers.backends.emulated.network import Network, Port
from trunkline.drivers.backends.emulated.plan import Behaviour
from trunkline.drivers.card import HdlcLink
from trunkline.drivers.model import SpanInfo, SpanKind

if TYPE_CHECKING:
    from trunkline.drivers.signalling.pri.exchange import PriScript


class NetworkHost(Protocol):
    """What the network side needs of the card it faces: the emulated card, or the
    simulated DAHDI kernel's exchange (dahdi/simexchange.py)."""

    network: Network

    def network_dchannel(self, span: int) -> HdlcLink: ...

    def port(self, channel: int) -> Port: ...


class _NetworkClock:
    """The network's step time, as the Clock the exchange's libpri timers run on; never
    earlier than ``started``, the line time the exchange came up at."""

    def __init__(self, card: NetworkHost, started: float = 0.0) -> None:
        self._card = card
        self.started = started

    def now(self) -> float:
        return max(self._card.network.now, self.started)

    def sleep_until(self, deadline: float) -> None:  # the card paces time, not us
        return None


class PriNetworkSide:
    """The network side of one emulated E1 PRI span."""

    def __init__(self, card: NetworkHost, span: SpanInfo, *, started: float = 0.0) -> None:
        """``started``: the line time (the network's step time) the exchange comes up
        at. A card whose network has not stepped up to that time yet (its reader is
        late) runs the missed steps afterwards; the exchange's clock stays at
        ``started`` through the ones before it, so its libpri does not see the time
        before it existed pass in a burst (it would resend SABME every T200 of it)."""
        from trunkline.drivers.signalling.pri.exchange import Exchange
        from trunkline.errors import ConfigError

        if span.kind is not SpanKind.E1:
            raise ConfigError(f"span {span.number}: PRI is emulated on E1 spans only")
        self.card = card
        self.span = span
        self._first = span.channels[0]  # the card channel of timeslot 1
        self._plans: dict[int, FarEndPlan] = {}
        # Plans routed but not yet tied to a call id: the exchange routes each SETUP
        # and then reports that call's first phase, in the same order, so a queue pairs
        # them even when several SETUPs arrive in one poll.
        self._routed: deque[FarEndPlan] = deque()
        self._clock = _NetworkClock(card, started)
        self.exchange = Exchange(card.network_dchannel(span.number), self._route,
                                 clock=self._clock, span_id=span.number)
        #: Times the exchange's Q.921 dropped the link (its T200 retries ran out, as a
        #: carrier's switch does when our side stops answering).
        self.link_drops = 0

    def _route(self, called: str, calling: str) -> PriScript:
        from trunkline.drivers.signalling.pri.exchange import PriScript

        network = self.card.network
        sub = network.plan.lookup(called)
        plan = build_plan(sub, network.sounds, network.call_rng())
        self._routed.append(plan)
        b = plan.behaviour
        if b is Behaviour.CONGESTION:
            return PriScript("congestion", release_cause=plan.cause)
        if b is Behaviour.BUSY:
            # DISCONNECT 17 with in-band busy tone (progress indicator 8), as exchanges do.
            return PriScript("busy", progress_after=0.0, disconnect_after=0.0,
                             cause=plan.cause)
        if plan.early_media:
            return PriScript(b.value, progress_after=0.0, disconnect_after=plan.release_after,
                             cause=plan.cause)
        if plan.answer_after is None:
            return PriScript(b.value, alerting_after=0.0, disconnect_after=plan.release_after,
                             cause=plan.cause)
        clear = None if plan.hangup_after is None else plan.answer_after + plan.hangup_after
        return PriScript(b.value, alerting_after=0.0, connect_after=plan.answer_after,
                         disconnect_after=clear, cause=plan.cause)

    def _port(self, timeslot: int | None) -> BearerChannel | None:
        if timeslot is None:
            return None
        port = self.card.port(self._first + timeslot - 1)
        return port if isinstance(port, BearerChannel) else None

    def poll(self, now: float) -> None:
        from trunkline.drivers.signalling.pri.events import DChannelDown
        from trunkline.drivers.signalling.pri.exchange import ExchangeCallChanged

        for event in self.exchange.poll(max(now, self._clock.started)):
            if isinstance(event, DChannelDown):
                self.link_drops += 1
            if not isinstance(event, ExchangeCallChanged):
                continue
            if event.call not in self._plans and self._routed:
                self._plans[event.call] = self._routed.popleft()
            plan = self._plans.get(event.call)
            port = self._port(event.channel)
            if port is None:
                continue
            if event.phase == "ended":
                self._plans.pop(event.call, None)
                port.in_use = False
                port.attach_live(None)
                port.silence()
                continue
            port.in_use = True
            if plan is None or event.audio is None:
                if event.phase in ("disconnecting",):
                    continue  # the in-band tone plays on until the release
                port.silence()
            elif event.audio in ("ringback", "inband"):
                port.play(plan.early)
            elif event.audio == "connected":
                port.start_far_end(plan)
