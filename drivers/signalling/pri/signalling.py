"""The PRI signalling module: a span's D-channel (libpri, CPE side) and its call legs.

One :class:`~trunkline.drivers.signalling.pri.span.PriSpan` per span, polled every tick.
Its events go to the leg of their call (by libpri call id); a SETUP from the network
becomes an inbound leg; the D-channel's state is reported as a span event and given to
every leg of the span (a call waiting for the link places its SETUP then). B-channels
are hunted by libpri: an outbound leg learns its channel from the SETUP and follows it
when the network confirms or moves it.

In real time on a card whose D-channel may be read from another thread (a DAHDI board),
the span runs in a :class:`~trunkline.drivers.signalling.pri.keeper.DChannelKeeper`: its
own thread reads the D-channel and runs Q.921, so a media tick that overruns cannot make
the exchange drop the link; ``poll`` then collects what the keeper gathered, and every
request to libpri is made under the keeper's lock. The module option
``pri_dchannel_thread`` (true/false) overrides the choice. The module's options (a
gateway ``[[span]]`` table's keys) are checked by :mod:`.options`: an unknown key or
timer name is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from trunkline.drivers.card import CardABC
from trunkline.drivers.model import SpanInfo, SpanKind
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    Action,
    SendAnswer,
    SendClear,
    SendProceeding,
    SendSetup,
)
from trunkline.drivers.signalling.base import Signalling, SignallingContext
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.pri import events as pri
from trunkline.drivers.signalling.pri import keeper as keeper_module
from trunkline.drivers.signalling.pri.leg import PriInboundLeg, PriLeg
from trunkline.drivers.signalling.pri.options import check_options

__all__ = ["PriSignalling"]


class PriSignalling(Signalling):
    """ISDN PRI (Q.931 over libpri) on one E1/T1 span, as the CPE (user side)."""

    kind: ClassVar[str] = "pri"

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext,
                 options: Mapping[str, Any] | None = None) -> None:
        from trunkline.drivers.signalling.pri.span import PriSpan

        super().__init__(card, span, context, options)
        options = {**context.options, **check_options(span.number, self.options)}
        self._first = span.channels[0]  # the card channel of timeslot 1
        # The span's own channel map: E1 B-channels are timeslots 1..15, 17..31 (16 is the
        # D-channel), T1 ones 1..23 (24 is), as the card lays the span out.
        timeslots = tuple(c - self._first + 1 for c in span.channels)
        t1 = span.kind is SpanKind.T1
        # chan_dahdi's default switchtype is national (NI-2) on T1; E1 lines here are
        # EuroISDN (China's PRI included).
        self.pri = PriSpan(card.dchannel(span.number), role="cpe", clock=context.clock,
                           span_id=span.number,
                           switchtype=options.get("pri_switchtype",
                                                  "ni2" if t1 else "euroisdn_e1"),
                           channels=timeslots,
                           trace=bool(options.get("pri_trace", False)), law=span.law,
                           timers=options.get("timers"))
        self.up = False
        self._legs: dict[int, Leg] = {}  # by libpri call id
        self._waiting: list[Leg] = []    # placed before the D-channel came up
        #: The D-channel's own thread (None: the span is polled from the tick).
        self.keeper: keeper_module.DChannelKeeper | None = None
        self._guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if keeper_module.wanted(context.clock, card, options.get("pri_dchannel_thread")):
            self.keeper = keeper_module.DChannelKeeper(self.pri, context.clock).start()
            self._guard = self.keeper.lock

    @property
    def q921_errors(self) -> dict[str, int]:
        """The span's Q.921 MDL-ERRORs so far, by code (see ``PriSpan.q921_errors``);
        a copy, taken under the D-channel thread's lock."""
        with self._guard:
            return dict(self.pri.q921_errors)

    def bearer(self, timeslot: int) -> int:
        """The card channel carrying B-channel ``timeslot``."""
        return self._first + timeslot - 1

    # -- calls --------------------------------------------------------------------------
    def hunts(self) -> bool:
        return True

    @property
    def link_up(self) -> bool:
        return self.up

    def can_place(self, channel: int | None) -> bool:
        with self._guard:
            return self.up and bool(self.pri.free_channels())

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        leg = PriLeg(call_id, self.span.number, options, bearer=self.bearer,
                     link_up=self.up)
        self._waiting.append(leg)
        return leg

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        events = self.keeper.take() if self.keeper is not None else self.pri.poll(now)
        for event in events:
            if isinstance(event, pri.DChannelUp | pri.DChannelDown):
                self.up = isinstance(event, pri.DChannelUp)
                yield None, ev.LinkState(self.span.number, self.up,
                                         getattr(event, "reason", None))
                for leg in [*self._waiting, *self._legs.values()]:
                    yield leg, event
            elif isinstance(event, pri.IncomingCall):
                channel = None if event.channel is None else self.bearer(event.channel)
                leg = PriInboundLeg(self.context.new_id(), self.span.number, channel, event,
                                    offer_for=self.context.inbound.timeout,
                                    reject_cause=self.context.inbound.reject_cause)
                self._legs[event.call] = leg
                yield leg, None
            elif isinstance(event, pri.CallEvent):
                known = self._legs.get(event.call)
                if known is not None:
                    yield known, event

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        with self._guard:
            return self._perform(leg, action, now)

    def _perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        assert isinstance(leg, PriLeg | PriInboundLeg)
        pri_call = leg.pri_call
        if isinstance(action, SendSetup):
            assert isinstance(leg, PriLeg)
            pri_call = self.pri.setup(action.called, calling=action.calling)
            self._legs[pri_call] = leg
            if leg in self._waiting:
                self._waiting.remove(leg)
            return leg.on_setup_sent(now, pri_call, self.pri.call(pri_call).channel)
        if pri_call is None:
            return []  # no SETUP went out: nothing to clear on the D-channel
        if isinstance(action, SendClear):
            self.pri.hangup(pri_call, action.cause)
        elif isinstance(action, SendAnswer):
            self.pri.answer(pri_call)
        elif isinstance(action, SendProceeding):
            self.pri.proceeding(pri_call)
        else:
            raise TypeError(f"a PRI span cannot {type(action).__name__}")
        return []

    def forget(self, leg: Leg) -> None:
        if leg in self._waiting:
            self._waiting.remove(leg)
        pri_call = leg.pri_call if isinstance(leg, PriLeg | PriInboundLeg) else None
        if pri_call is not None and self._legs.get(pri_call) is leg:
            del self._legs[pri_call]

    def close(self) -> None:
        if self.keeper is not None:
            self.keeper.stop()
        with self._guard:
            self.pri.close()
