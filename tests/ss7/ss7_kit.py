"""A CPE signalling point with its legs joined to a scripted exchange point, in virtual time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action
from trunkline.drivers.signalling.leg import CallOptions, Leg
from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.actions import Ss7Action
from trunkline.drivers.signalling.ss7.config import Ss7Config
from trunkline.drivers.signalling.ss7.leg import Ss7InboundLeg, Ss7Leg
from trunkline.drivers.signalling.ss7.pair import PointPair
from trunkline.drivers.signalling.ss7.point import Ss7Point
from trunkline.drivers.signalling.ss7.router import LegRouter

POINT_CODES = {"itu": ("2-100-1", "2-100-2"), "china": ("10-27-1", "10-27-2")}


def configs(variant: str = "itu", **kw: Any) -> tuple[Ss7Config, Ss7Config]:
    ours, theirs = POINT_CODES[variant]
    return (Ss7Config(ours, theirs, variant=variant, **kw),
            Ss7Config(theirs, ours, variant=variant, role="exchange", **kw))


class CallKit:
    """``script[called]``: what the exchange does with an IAM: ``answer`` (ACM, ANM after
    ``ring`` s), ``busy`` (REL 17), ``unallocated`` (REL 1), ``ring`` (ACM only),
    ``progress`` (ACM without indication then CPG in-band info), ``con`` (CON at once)."""

    def __init__(self, variant: str = "itu", *, script: dict[str, str] | None = None,
                 ring: float = 2.0, loss: float = 0.0, seed: int = 0, **config: Any) -> None:
        cpe_config, net_config = configs(variant, **config)
        self.cpe, self.net = Ss7Point(cpe_config), Ss7Point(net_config)
        self.pair = PointPair(self.cpe, self.net, loss=loss, seed=seed, watch=self._watch)
        self.router = LegRouter(self.cpe)
        self.script = script or {}
        self.ring = ring
        self.legs: list[Leg] = []
        self.actions: list[tuple[float, Leg, Action]] = []
        self.offers: list[s7.IncomingCall] = []
        self.inbound_policy: Callable[[s7.IncomingCall], Ss7InboundLeg] | None = None
        self._agenda: list[tuple[float, Callable[[], list[s7.PointOutput]]]] = []
        self.pair.start()

    @property
    def now(self) -> float:
        return self.pair.now

    def bearer(self, cic: int) -> int | None:
        place = self.cpe.bearer(cic)
        return None if place is None else (place[0] - 1) * 31 + place[1]

    def wait_up(self) -> None:
        assert self.pair.run_until(lambda: self.cpe.up and self.net.up
                                   and bool(self.cpe.free_circuits())
                                   and bool(self.net.free_circuits()), 30)
        self.pair.run(0.2)

    def call(self, number: str, **options: Any) -> Ss7Leg:
        leg = Ss7Leg(len(self.legs) + 1, 1, CallOptions(number, **options),
                     bearer=self.bearer, link_up=self.cpe.up)
        self.legs.append(leg)
        self.router.add(leg)
        self.run_leg(leg, leg.start(self.now))
        return leg

    def run_leg(self, leg: Leg, outputs: list[Any]) -> None:
        for out in outputs:
            if isinstance(out, Ss7Action):
                self.actions.append((self.now, leg, out))
                follow = self.router.perform(leg, out, self.now)
                self.pair.route("a", self.router.take())
                self.run_leg(leg, follow)
            elif isinstance(out, Action):
                self.actions.append((self.now, leg, out))

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.step()

    def run_until(self, done: Callable[[], bool], limit: float = 120.0) -> bool:
        end = self.now + limit
        while not done():
            if self.now >= end:
                return False
            self.step()
        return True

    def step(self) -> None:
        self.pair.step()
        for at, action in list(self._agenda):
            if at <= self.now:
                self._agenda.remove((at, action))
                self.pair.route("b", action())
        for leg in list(self.legs):
            if not leg.ended:
                self.run_leg(leg, leg.on_time(self.now))

    def later(self, delay: float, action: Callable[[], list[s7.PointOutput]]) -> None:
        self._agenda.append((self.now + delay, action))

    def _watch(self, name: str, t: float, out: s7.PointOutput) -> None:
        if name == "a":
            for leg, event in self.router.dispatch([out]):
                if leg is not None:
                    self.run_leg(leg, leg.on_signal(t, event))
                elif isinstance(event, s7.IncomingCall) and self.inbound_policy:
                    inbound = self.inbound_policy(event)
                    self.router.adopt(inbound)
                    self.legs.append(inbound)
                    self.run_leg(inbound, inbound.start(t))
        elif isinstance(out, s7.IncomingCall):
            self.offers.append(out)
            self._exchange(out)

    def _exchange(self, offer: s7.IncomingCall) -> None:
        net, call = self.net, offer.call
        what = self.script.get(offer.called, "answer")
        if what == "busy":
            self.later(0.05, lambda: net.release(self.now, call, 17))
        elif what == "unallocated":
            self.later(0.05, lambda: net.release(self.now, call, 1))
        elif what in ("answer", "ring"):
            self.later(0.05, lambda: net.alert(self.now, call))
            if what == "answer":
                self.later(self.ring, lambda: net.answer(self.now, call))
        elif what == "progress":
            self.later(0.05, lambda: net.progress(self.now, call, 3))
        elif what == "con":
            self.later(0.05, lambda: net.answer(self.now, call))

    def events(self, leg: Leg) -> list[str]:
        return [e.NAME for e in leg.events if not isinstance(e, s7.IsupObserved)]

    def hungup(self, leg: Leg) -> ev.HungUp:
        found = [e for e in leg.events if isinstance(e, ev.HungUp)]
        assert len(found) == 1, leg.events
        return found[0]
