"""The carrier's exchange behind the emulated card's SS7 spans, one per linkset.

Two implementations, chosen per span (``far_end``):

``exchange``
    our own stack (:class:`~trunkline.drivers.signalling.ss7.point.Ss7Point` in the
    exchange role), in the ITU or China variant (24-bit point codes);
``libss7``
    Debian's libss7 (ITU, 14-bit point codes, one signalling link), which we did not
    write: our stack completes calls against an implementation with its own reading of
    Q.703/Q.704/Q.764.

Either way each IAM from our side is routed into the number plan: the subscriber's
:class:`~.farend.FarEndPlan` becomes a :class:`~.trunk.TrunkScript` said in ISUP (ACM,
CPG in-band information, ANM, REL with the plan's cause) while the circuit's timeslot
carries the plan's audio. :meth:`Ss7NetworkSide.originate` places calls toward us.
"""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trunkline.drivers.backends.emulated.farend import build_plan
from trunkline.drivers.backends.emulated.lines import BearerChannel
from trunkline.drivers.backends.emulated.trunk import TrunkCall, trunk_script
from trunkline.drivers.model import SpanInfo
from trunkline.errors import ConfigError

if TYPE_CHECKING:
    from trunkline.drivers.backends.emulated.card import EmulatedCard
    from trunkline.drivers.signalling.ss7.config import CircuitMap

__all__ = ["Ss7NetworkSide", "open_network_side"]


@dataclass
class _Inbound:
    """A call the exchange placed toward us."""

    cic: int
    port: BearerChannel | None


def _linkset_layout(card: EmulatedCard, spans: list[SpanInfo]
                    ) -> tuple[dict[str, Any], dict[int, int], CircuitMap]:
    """Our side's options (from the first span), SLC -> span, and the circuit map the
    card's spans imply: the same one our signalling module builds."""
    from trunkline.drivers.signalling.ss7.signalling import circuit_map

    options = dict(spans[0].options)
    timeslot_of = {c.number: c.timeslot for c in card.channels.values()}
    plan = []
    links: dict[int, int] = {}
    for index, span in enumerate(spans):
        start = dict(span.options).get("cic_start", 32 * index + 1)
        if span.dchannel is not None:
            links[len(links)] = span.number
        plan.append((span, start, None))
    return options, links, circuit_map(plan, timeslot_of)


class Ss7NetworkSide:
    """Our stack as the exchange of one linkset (see the module docstring)."""

    def __init__(self, card: EmulatedCard, spans: list[SpanInfo]) -> None:
        from trunkline.drivers.signalling.ss7.config import Ss7Config
        from trunkline.drivers.signalling.ss7.point import Ss7Point

        self.card = card
        self.spans = spans
        options, links, circuits = _linkset_layout(card, spans)
        # The exchange is the adjacent point: our opc is its apc and the other way round.
        self.point = Ss7Point(Ss7Config(options["apc"], options["opc"],
                                        variant=options.get("variant", "itu"),
                                        links=links, circuits=circuits, role="exchange"))
        self.links = {slc: card.network_dchannel(span) for slc, span in links.items()}
        self._channel = {(span.number, card.channel(ch).timeslot): ch
                         for span in spans for ch in span.channels}
        self.calls: dict[int, TrunkCall] = {}        # the point's call id -> routed call
        self.inbound: dict[int, _Inbound] = {}       # the point's call id -> call toward us
        self.errors: list[str] = []
        self._started = False

    def _port(self, cic: int) -> BearerChannel | None:
        place = self.point.bearer(cic)
        channel = None if place is None else self._channel.get(place)
        if channel is None:
            return None
        port = self.card.port(channel)
        return port if isinstance(port, BearerChannel) else None

    # -- calls toward us ----------------------------------------------------------------
    def originate(self, called: str, calling: str = "", *, cic: int | None = None) -> int:
        """Send an IAM toward our side; returns the exchange's call id."""
        from trunkline.drivers.signalling.ss7 import events as s7

        now = self.card.network.now
        call, outputs = self.point.place(now, called, calling or None, cic=cic)
        circuit = self.point.call_circuit(call)
        assert circuit is not None
        self.inbound[call] = _Inbound(circuit, self._port(circuit))
        self._handle(now, [o for o in outputs if not isinstance(o, s7.Transmit)])
        self._send([o for o in outputs if isinstance(o, s7.Transmit)])
        return call

    def hangup(self, call: int, cause: int = 16) -> None:
        """The calling party toward us clears (REL)."""
        now = self.card.network.now
        self._route(now, self.point.release(now, call, cause))

    def block(self, cic: int) -> None:
        """Block circuit ``cic`` from the exchange's side (BLO): we may not use it."""
        now = self.card.network.now
        self._route(now, self.point.block(now, cic))

    def unblock(self, cic: int) -> None:
        now = self.card.network.now
        self._route(now, self.point.unblock(now, cic))

    # -- the network's step -------------------------------------------------------------
    def poll(self, now: float) -> None:
        if not self._started:
            self._started = True
            self._route(now, self.point.start(now))
        for slc, link in self.links.items():
            if not link.up:
                self._route(now, self.point.link_error(now, slc))
                continue
            while (frame := link.receive()) is not None:
                self._route(now, self.point.receive(now, slc, frame))
        due = self.point.next_deadline()
        if due is not None and now >= due:
            self._route(now, self.point.on_time(now))
        for call_id, call in list(self.calls.items()):
            for step in call.due(now):
                self._step(now, call_id, call, step)

    def _send(self, outputs: list[Any]) -> None:
        for out in outputs:
            link = self.links.get(out.slc)
            if link is not None:
                link.send(out.frame)

    def _route(self, now: float, outputs: list[Any]) -> None:
        from trunkline.drivers.signalling.ss7 import events as s7

        self._send([o for o in outputs if isinstance(o, s7.Transmit)])
        self._handle(now, [o for o in outputs if not isinstance(o, s7.Transmit)])

    def _handle(self, now: float, events: list[Any]) -> None:
        from trunkline.drivers.signalling.ss7 import events as s7

        for event in events:
            if isinstance(event, s7.IncomingCall):
                self._route_call(now, event)
            elif isinstance(event, s7.CallReleased):
                call = self.calls.pop(event.call, None)
                if call is not None:
                    call.cancel()
                    call.audio("ended")
                inbound = self.inbound.pop(event.call, None)
                if inbound is not None and inbound.port is not None:
                    inbound.port.in_use = False
                    inbound.port.silence()
            elif isinstance(event, s7.CallAnswered) and event.call in self.inbound:
                port = self.inbound[event.call].port
                if port is not None:
                    port.in_use = True
                    port.silence()

    def _route_call(self, now: float, event: Any) -> None:
        network = self.card.network
        try:
            plan = build_plan(network.plan.lookup(event.called), network.sounds,
                              network.call_rng())
        except Exception as err:  # a plan bug must not stop the exchange
            self.errors.append(f"routing {event.called!r} failed: {err!r}")
            self._route(now, self.point.release(now, event.call, 41))
            return
        script = trunk_script(plan)
        call = TrunkCall(plan, script, now, self._port(event.cic))
        if script.reject_cause is not None:
            self._route(now, self.point.release(now, event.call, script.reject_cause))
            return
        self.calls[event.call] = call
        for step in call.due(now):
            self._step(now, event.call, call, step)

    def _step(self, now: float, call_id: int, call: TrunkCall, step: str) -> None:
        from trunkline.drivers.signalling.ss7.errors import Ss7CallStateError
        from trunkline.drivers.signalling.ss7.isup import State

        if call_id not in self.calls:
            return
        circuit = self.point.isup.circuits[self.point.call_circuit(call_id) or 0]
        try:
            if step == "progress":
                # In-band information (an announcement, busy tone) before any answer:
                # CPG "in-band information available" (Q.763 3.21, event 3).
                self._route(now, self.point.progress(now, call_id, 3))
                call.audio("early")
            elif step == "alerting":
                if circuit.state is State.IN_IAM:
                    self._route(now, self.point.alert(now, call_id))   # ACM, subscriber free
                else:
                    self._route(now, self.point.progress(now, call_id, 1))  # CPG alerting
                call.audio("early")
            elif step == "answer":
                self._route(now, self.point.answer(now, call_id))
                call.audio("connected")
            elif step == "clear":
                call.cancel()
                self._route(now, self.point.release(now, call_id, call.script.cause))
        except Ss7CallStateError:
            call.cancel()   # our side cleared while the step was due

    def close(self) -> None:
        """Nothing native to release."""


class Libss7NetworkSide:
    """Debian's libss7 as the exchange of a one-span ITU linkset."""

    def __init__(self, card: EmulatedCard, spans: list[SpanInfo]) -> None:
        from trunkline.drivers.native.libss7 import Libss7
        from trunkline.drivers.signalling.ss7.config import VARIANTS
        from trunkline.drivers.signalling.ss7.mtp3 import parse_pc

        if len(spans) != 1:
            raise ConfigError(f"far_end = 'libss7' drives one span (one signalling link); "
                              f"linkset {spans[0].protocol!r} has {len(spans)}")
        self.card = card
        self.span = spans[0]
        options, _links, self.circuits = _linkset_layout(card, spans)
        fmt = VARIANTS["itu"]
        ours, theirs = parse_pc(options["opc"], fmt), parse_pc(options["apc"], fmt)
        self._ours, self._theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._ours.setblocking(False)
        self._theirs.setblocking(False)
        self.peer = Libss7(self._theirs.fileno(), pc=theirs, adjacent=ours,
                           now=card.network.now)
        self.link = card.network_dchannel(self.span.number)
        self._channel = {card.channel(ch).timeslot: ch for ch in self.span.channels}
        self.calls: dict[int, TrunkCall] = {}   # CIC -> routed call
        self.inbound: set[int] = set()          # CICs of calls toward us
        self.events: list[dict[str, Any]] = []  # what libss7 reported (for tests)
        self.errors: list[str] = []
        self._started = False

    def _port(self, cic: int) -> BearerChannel | None:
        place = self.circuits.place(cic)
        channel = None if place is None else self._channel.get(place[1])
        port = None if channel is None else self.card.port(channel)
        return port if isinstance(port, BearerChannel) else None

    def originate(self, called: str, calling: str = "", *, cic: int | None = None) -> int:
        """Send an IAM toward our side from libss7 on ``cic`` (default: the highest
        circuit, which libss7's peer, with the higher point code, does not control)."""
        cic = cic if cic is not None else max(self.circuits.circuits)
        self.peer.iam(cic, called, calling)
        self.inbound.add(cic)
        return cic

    def hangup(self, cic: int, cause: int = 16) -> None:
        self.peer.rel(cic, cause)

    def poll(self, now: float) -> None:
        if not self._started:
            self._started = True
            self._handle(now, self.peer.start(now))
        # Frames between our card's link (network end) and libss7's socket; libss7's
        # DAHDIMTP2 transport writes 2 FCS octets after each frame and expects them.
        if self.link.up:
            while (frame := self.link.receive()) is not None:
                self._ours.send(frame + b"\x00\x00")
        self._handle(now, self.peer.pump(now))
        while select.select([self._ours], [], [], 0)[0]:
            data = self._ours.recv(1024)
            if len(data) > 2 and self.link.up:
                self.link.send(data[:-2])
        for cic, call in list(self.calls.items()):
            for step in call.due(now):
                self._step(cic, call, step)

    def _handle(self, now: float, events: list[dict[str, Any]]) -> None:
        peer = self.peer
        for event in events:
            self.events.append(event)
            del self.events[:-256]
            name = event["event"]
            if name == "GRS":
                peer.gra(event)
            elif name in ("GRA", "CGBA", "CGUA"):
                peer.release_range(event)
            elif name == "IAM":
                self._route_call(now, event)
            elif name == "REL":
                cic = int(event["cic"])
                peer.rlc(cic)
                self._ended(cic)
            elif name == "RLC":
                cic = int(event["cic"])
                peer.free(cic)
                self._ended(cic)
            elif name in ("ANM", "CON") and int(event["cic"]) in self.inbound:
                port = self._port(int(event["cic"]))
                if port is not None:
                    port.in_use = True

    def _ended(self, cic: int) -> None:
        call = self.calls.pop(cic, None)
        if call is not None:
            call.cancel()
            call.audio("ended")
        if cic in self.inbound:
            self.inbound.discard(cic)
            port = self._port(cic)
            if port is not None:
                port.in_use = False
                port.silence()

    def _route_call(self, now: float, event: dict[str, Any]) -> None:
        network = self.card.network
        cic = int(event["cic"])
        plan = build_plan(network.plan.lookup(str(event["called"])), network.sounds,
                          network.call_rng())
        script = trunk_script(plan)
        call = TrunkCall(plan, script, now, self._port(cic))
        if script.reject_cause is not None:
            self.peer.rel(cic, script.reject_cause)
            return
        self.calls[cic] = call
        for step in call.due(now):
            self._step(cic, call, step)

    def _step(self, cic: int, call: TrunkCall, step: str) -> None:
        if cic not in self.calls:
            return
        if step in ("progress", "alerting"):
            if "acm" not in call.sent:
                # libss7's binding says ACM only; in-band information rides on it.
                self.peer.acm(cic)
                call.sent.add("acm")
            call.audio("early")
        elif step == "answer":
            self.peer.anm(cic)
            call.audio("connected")
        elif step == "clear":
            call.cancel()
            self.peer.rel(cic, call.script.cause)

    def close(self) -> None:
        self.peer.close()
        self._ours.close()
        self._theirs.close()


def open_network_side(card: EmulatedCard, spans: list[SpanInfo], far_end: str
                      ) -> Ss7NetworkSide | Libss7NetworkSide:
    if far_end == "libss7":
        return Libss7NetworkSide(card, spans)
    return Ss7NetworkSide(card, spans)
