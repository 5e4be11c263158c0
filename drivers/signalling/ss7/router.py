"""Between an :class:`~.point.Ss7Point` and its legs: the sans-IO half of a signalling module.

:class:`LegRouter` carries out the legs' ISUP actions on the point and hands the point's
events to the legs they concern; what is left for a module is I/O (frames between the
point and the card's HDLC links) and building inbound legs. Used as it is by the tests and
meant to be used by the SS7 signalling module::

    router = LegRouter(point)
    outputs = router.perform(leg, action, now)          # a leg's SendIam/SendAnm/SendRel...
    for leg_or_none, event in router.dispatch(point_outputs):
        ...   # (None, IncomingCall): build an Ss7InboundLeg and router.adopt() it;
              # (None, LinksetChanged / LinkChanged / CircuitState ...): span events;
              # (leg, event): leg.on_signal(now, event)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trunkline.drivers.signalling.actions import Action
from trunkline.drivers.signalling.leg import Leg, Output

from . import events as s7
from .actions import SendAcm, SendAnm, SendIam, SendRel
from .errors import Ss7LinkDown, Ss7NoCircuit
from .leg import Ss7InboundLeg, Ss7Leg
from .point import Ss7Point

__all__ = ["LegRouter"]


class LegRouter:
    """Legs by the point's call id, plus the outbound legs still waiting for the linkset."""

    def __init__(self, point: Ss7Point) -> None:
        self.point = point
        self.legs: dict[int, Ss7Leg | Ss7InboundLeg] = {}
        self.waiting: list[Ss7Leg] = []
        #: Frames and events produced by performing actions, for the module to route.
        self.pending: list[s7.PointOutput] = []

    def add(self, leg: Ss7Leg) -> None:
        """An outbound leg before it starts (it waits for the linkset, then sends IAM)."""
        self.waiting.append(leg)

    def adopt(self, leg: Ss7InboundLeg) -> None:
        self.legs[leg.ss7_call] = leg

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        """Carry out ``leg``'s ISUP ``action``; frames and events it causes are queued in
        :attr:`pending`. Returns what the leg reports next."""
        assert isinstance(leg, Ss7Leg | Ss7InboundLeg)
        point = self.point
        if isinstance(action, SendIam):
            assert isinstance(leg, Ss7Leg)
            if leg in self.waiting:
                self.waiting.remove(leg)
            try:
                call, out = point.place(now, action.called, action.calling)
            except Ss7NoCircuit as err:
                return leg.on_iam_refused(now, 34, str(err))
            except Ss7LinkDown as err:
                return leg.on_iam_refused(now, 38, str(err))
            self.legs[call] = leg
            self.pending += out
            cic = point.call_circuit(call)
            assert cic is not None
            return leg.on_iam_sent(now, call, cic)
        call_id = leg.ss7_call
        if call_id is None or call_id not in point.isup.calls:
            return []   # nothing on the wire (never placed, or already over)
        if isinstance(action, SendRel):
            self.pending += point.release(now, call_id, action.cause)
        elif isinstance(action, SendAnm):
            self.pending += point.answer(now, call_id)
        elif isinstance(action, SendAcm):
            self.pending += point.alert(now, call_id)
        else:
            raise TypeError(f"an SS7 circuit cannot {type(action).__name__}")
        return []

    def dispatch(self, outputs: list[s7.PointOutput]) -> Iterator[tuple[Leg | None, Any]]:
        """Pairs (leg or None, event) for the point's non-frame outputs."""
        for out in outputs:
            if isinstance(out, s7.Transmit):
                continue
            if isinstance(out, s7.LinksetChanged):
                yield None, out
                # Waiting legs hear of the linkset once a circuit is free (after the
                # start-up reset), below; the others hear of it now.
                for leg in [*(() if out.up else self.waiting), *self.legs.values()]:
                    yield leg, out
            elif isinstance(out, s7.IncomingCall):
                yield None, out
            elif isinstance(out, s7.CallSignal | s7.IsupTraced):
                call = out.call
                leg = self.legs.get(call) if call is not None else None
                if leg is not None:
                    yield leg, out
                    if isinstance(out, s7.CallReleased):
                        del self.legs[out.call]
                elif not isinstance(out, s7.IsupTraced):
                    yield None, out
            else:
                yield None, out
        yield from self.release_waiting()

    def release_waiting(self) -> Iterator[tuple[Leg, s7.LinksetChanged]]:
        """Tell waiting legs the linkset is up once the point has a free circuit."""
        if self.waiting and self.point.up and self.point.free_circuits():
            up = s7.LinksetChanged(True)
            for leg in list(self.waiting):
                yield leg, up

    def forget(self, leg: Leg) -> None:
        if isinstance(leg, Ss7Leg) and leg in self.waiting:
            self.waiting.remove(leg)
        for call, known in list(self.legs.items()):
            if known is leg:
                del self.legs[call]

    def take(self) -> list[s7.PointOutput]:
        out, self.pending = self.pending, []
        return out
