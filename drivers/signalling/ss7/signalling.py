"""The SS7 signalling module: one linkset (its signalling links and circuits over one or
more E1 spans) and the call legs on its circuits.

One module drives every span of a linkset (the line loop shares it: spans with the same
module name and group). It owns one :class:`~.point.Ss7Point`: each tick the frames the
kernel received on each signalling link (DAHDI's MTP2 mode, ``card.dchannel(span)``) go
in, the point's frames go out on their links, and what the point says goes to the legs
through a :class:`~.router.LegRouter`. A link whose span is in alarm reports receive
errors every tick, as the kernel's HDLC receiver does on a line without framing, so MTP2
takes it out of service at once instead of waiting for its timers.

Options (the gateway's ``[[span]]`` tables, docs/ss7.md; the emulated card supplies the
ones its network was given): ``variant`` (``itu`` or ``china``), ``opc`` (ours), ``apc``
(the adjacent point), ``dpc`` (must be the adjacent point: routes through an STP are
not supported), ``ni``, ``cic_start`` (per span: the CIC of timeslot 1, CICs following
the timeslots), ``signalling_timeslot``, ``called_nai``/``calling_nai``, ``category``,
``reset_on_start``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from trunkline.drivers.card import CardABC, HdlcLink
from trunkline.drivers.model import ChannelSignalling, SpanInfo
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action
from trunkline.drivers.signalling.base import Signalling, SignallingContext
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import ConfigError

from . import events as s7
from .config import CircuitMap, Ss7Config
from .errors import Ss7ConfigError
from .leg import Ss7InboundLeg, Ss7Leg
from .point import Ss7Point
from .router import LegRouter

__all__ = ["LINKSET_KEYS", "SPAN_KEYS", "Ss7Signalling", "circuit_map"]

#: Options that belong to the linkset (every span of it must agree).
LINKSET_KEYS = frozenset({"variant", "opc", "apc", "dpc", "ni", "called_nai", "calling_nai",
                          "category", "reset_on_start"})
#: Options that belong to one span.
SPAN_KEYS = frozenset({"cic_start", "signalling_timeslot"})

NAI = {"unknown": 2, "subscriber": 1, "national": 3, "international": 4}
"""Nature of address indicator names (Q.763 3.9/3.10) as chan_dahdi's ss7_*_nai give them.
``dynamic`` (chan_dahdi's guess from the number's prefix) is taken as national."""


def _nai(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 127:
        return value
    if value == "dynamic":
        return NAI["national"]
    if value in NAI:
        return NAI[value]
    raise Ss7ConfigError(f"SS7 option {name} must be one of {', '.join([*NAI, 'dynamic'])} "
                         f"or a number 0..127, not {value!r}")


def circuit_map(spans: list[tuple[SpanInfo, int, int | None]],
                timeslot_of: Mapping[int, int]) -> CircuitMap:
    """The circuits of a linkset: for each (span, CIC of timeslot 1, signalling timeslot)
    every bearer timeslot's CIC is ``cic_start + timeslot - 1`` (Q.763 1.2 a numbers a
    2048 kbit/s path's circuits by timeslot; the signalling timeslot is no circuit).
    ``timeslot_of`` gives each card channel's timeslot."""
    table: dict[int, tuple[int, int]] = {}
    for span, start, _signalling in spans:
        for channel in span.channels:
            timeslot = timeslot_of[channel]
            cic = start + timeslot - 1
            if cic in table:
                other = table[cic]
                raise Ss7ConfigError(f"CIC {cic} is given twice: span {other[0]} timeslot "
                                     f"{other[1]} and span {span.number} timeslot "
                                     f"{timeslot}; check cic_start (cicbeginswith)")
            table[cic] = (span.number, timeslot)
    return CircuitMap.of(table)


class Ss7Signalling(Signalling):
    """SS7 ISUP on the spans of one linkset, as a signalling point facing its exchange."""

    kind: ClassVar[str] = "ss7"

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext,
                 options: Mapping[str, Any] | None = None) -> None:
        super().__init__(card, span, context, options)
        unknown = set(self.options) - LINKSET_KEYS - SPAN_KEYS
        if unknown:
            raise ConfigError(f"span {span.number}: unknown SS7 option"
                              f"{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(LINKSET_KEYS | SPAN_KEYS))}")
        self._span_options: dict[int, dict[str, Any]] = {span.number: dict(self.options)}
        self.point: Ss7Point | None = None
        self.router: LegRouter | None = None
        self.links: dict[int, HdlcLink] = {}     # SLC -> the kernel's link
        self.slc_span: dict[int, int] = {}       # SLC -> span
        self._channel: dict[tuple[int, int], int] = {}  # (span, timeslot) -> card channel
        self.link_states: dict[int, bool] = {}   # SLC -> available
        self.alerts: list[s7.MaintenanceAlert] = []
        self.up = False

    def add_span(self, span: SpanInfo, options: Mapping[str, Any] | None = None) -> None:
        if self.point is not None:
            raise ConfigError(f"span {span.number} joins the SS7 linkset of span "
                              f"{self.span.number} after it started")
        options = dict(options or {})
        mine = {k: v for k, v in self.options.items() if k in LINKSET_KEYS}
        theirs = {k: v for k, v in options.items() if k in LINKSET_KEYS}
        for key in set(mine) | set(theirs):
            if key in mine and key in theirs and mine[key] != theirs[key]:
                raise ConfigError(f"spans {self.span.number} and {span.number} are one SS7 "
                                  f"linkset but give {key} as {mine[key]!r} and "
                                  f"{theirs[key]!r}")
        self.options.update(theirs)
        self.spans.append(span)
        self._span_options[span.number] = options

    # -- starting -----------------------------------------------------------------------
    def _start_point(self) -> Ss7Point:
        """Build the point once every span of the linkset has joined (at the first poll)."""
        options = self.options
        for key, what in (("opc", "our point code"), ("apc", "the adjacent point code")):
            if key not in options:
                raise ConfigError(f"span {self.span.number}: the SS7 linkset needs {key} "
                                  f"({what}): set it in the gateway's [[span]] table "
                                  "(docs/ss7.md)")
        if "dpc" in options and str(options["dpc"]) != str(options["apc"]):
            raise ConfigError(f"span {self.span.number}: dpc {options['dpc']!r} differs from "
                              f"the adjacent point {options['apc']!r}; routes through a "
                              "signalling transfer point are not supported")
        timeslot_of = {c.number: c.timeslot for c in self.card.channels.values()}
        plan: list[tuple[SpanInfo, int, int | None]] = []
        links: dict[int, int] = {}
        for index, span in enumerate(self.spans):
            span_options = self._span_options.get(span.number, {})
            start = span_options.get("cic_start", 32 * index + 1)
            if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= 4095:
                raise ConfigError(f"span {span.number}: cic_start must be a CIC 0..4095, not "
                                  f"{start!r}")
            link_slot = None
            if span.dchannel is not None:
                info = self.card.channel(span.dchannel)
                if info.signalling is not ChannelSignalling.MTP2:
                    raise ConfigError(f"span {span.number}: channel {span.dchannel} is "
                                      f"{info.signalling}, not an MTP2 signalling link "
                                      "(system.conf: mtp2=)")
                link_slot = info.timeslot
                links[len(links)] = span.number
            plan.append((span, start, link_slot))
            for channel in span.channels:
                self._channel[(span.number, timeslot_of[channel])] = channel
        if not links:
            raise ConfigError(f"the SS7 linkset of spans {[s.number for s in self.spans]} has "
                              "no signalling link (no span has an mtp2 channel)")
        config = Ss7Config(
            options["opc"], options["apc"], variant=str(options.get("variant", "itu")),
            ni=options.get("ni", "national"), links=links,
            circuits=circuit_map(plan, timeslot_of),
            called_nai=_nai("called_nai", options.get("called_nai", "national")),
            calling_nai=_nai("calling_nai", options.get("calling_nai", "national")),
            category=int(options.get("category", 0x0A)),
            reset_on_start=bool(options.get("reset_on_start", True)))
        point = Ss7Point(config)
        self.point, self.router = point, LegRouter(point)
        for slc, span_number in links.items():
            self.links[slc] = self.card.dchannel(span_number)
            self.slc_span[slc] = span_number
            self.link_states[slc] = False
        self._route(point.start(self.context.clock.now()))
        return point

    # -- calls --------------------------------------------------------------------------
    def hunts(self) -> bool:
        return True

    @property
    def link_up(self) -> bool:
        return self.up

    def can_place(self, channel: int | None) -> bool:
        point = self.point
        return point is not None and point.up and bool(point.free_circuits())

    def bearer(self, cic: int) -> int | None:
        """The card channel of circuit ``cic`` (None: not one of ours)."""
        assert self.point is not None
        place = self.point.bearer(cic)
        return None if place is None else self._channel.get(place)

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        if channel is not None:
            raise ConfigError("an SS7 call's circuit is hunted by the signalling point; "
                              "place it on the span, not on a channel")
        point = self.point or self._start_point()
        assert self.router is not None
        leg = Ss7Leg(call_id, self.span.number, options, bearer=self.bearer,
                     link_up=point.up and bool(point.free_circuits()))
        self.router.add(leg)
        return leg

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        point = self.point or self._start_point()
        assert self.router is not None
        # What our own actions caused first (the trace of the IAM we sent): the answers
        # the far end sent since come after it.
        outputs: list[s7.PointOutput] = self.router.take()
        for slc, link in self.links.items():
            if not link.up:
                outputs += point.link_error(now, slc)
                continue
            while (frame := link.receive()) is not None:
                outputs += point.receive(now, slc, frame)
        due = point.next_deadline()
        if due is not None and now >= due:
            outputs += point.on_time(now)
        yield from self._dispatch(now, outputs)

    def _route(self, outputs: list[s7.PointOutput]) -> list[s7.PointOutput]:
        """Write the frames among ``outputs`` on their links; the rest is returned."""
        rest: list[s7.PointOutput] = []
        for out in outputs:
            if isinstance(out, s7.Transmit):
                link = self.links.get(out.slc)
                if link is not None:
                    link.send(out.frame)
            else:
                rest.append(out)
        return rest

    def _dispatch(self, now: float, outputs: list[s7.PointOutput]
                  ) -> Iterator[tuple[Leg | None, Any]]:
        assert self.router is not None
        for leg, item in self.router.dispatch(self._route(outputs)):
            if leg is not None:
                yield leg, item
            elif isinstance(item, s7.IncomingCall):
                channel = self.bearer(item.cic)
                span = self.card.channel(channel).span if channel is not None \
                    else self.span.number
                inbound = Ss7InboundLeg(self.context.new_id(), span, channel, item,
                                        offer_for=self.context.inbound.timeout,
                                        reject_cause=self.context.inbound.reject_cause)
                self.router.adopt(inbound)
                yield inbound, None
            elif isinstance(item, s7.LinksetChanged):
                self.up = item.up
                for info in self.spans:
                    yield None, ev.LinkState(info.number, item.up, item.reason or None)
            elif isinstance(item, s7.LinkChanged):
                self.link_states[item.slc] = item.available
            elif isinstance(item, s7.MaintenanceAlert):
                self.alerts.append(item)
                del self.alerts[:-32]

    def block_circuit(self, now: float, channel: int, blocked: bool) -> bool:
        """BLO/UBL for the circuit on ``channel`` (Q.764 2.8.2): the exchange stops
        (or resumes) offering calls on it; a call on it goes on to its end."""
        point = self.point or self._start_point()
        info = self.card.channel(channel)
        cic = point.config.circuit_map.cic(info.span, info.timeslot)
        if cic is None:
            raise ConfigError(f"channel {channel} is no circuit of this SS7 linkset")
        assert self.router is not None
        outputs = point.block(now, cic) if blocked else point.unblock(now, cic)
        self.router.pending += self._route(outputs)
        return True

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        assert self.router is not None
        outputs = self.router.perform(leg, action, now)
        # Frames go out now; the point's events reach the legs at the next poll.
        self.router.pending = self._route(self.router.pending)
        return outputs

    def forget(self, leg: Leg) -> None:
        if self.router is not None:
            self.router.forget(leg)

    def close(self) -> None:
        if self.point is not None:
            self._route(self.point.stop(self.context.clock.now()))

    # -- state, for status and scan -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The linkset's links and circuits as ``trunkline status`` shows them."""
        point = self.point
        if point is None:
            return {"linkset": "not started", "links": {}, "circuits": {}}
        circuits = {}
        places = point.config.circuit_map.circuits
        for cic, circuit in point.isup.circuits.items():
            if circuit.remote_block:
                state = "blocked by the far end"
            elif circuit.local_block or circuit.want_block:
                state = "blocked by us"
            elif circuit.needs_reset or circuit.state.value == "resetting":
                state = "resetting"
            elif circuit.call is not None or circuit.state.value != "idle":
                state = f"in call ({circuit.state.value})"
            else:
                state = "idle" if point.up else "idle (linkset down)"
            span, timeslot = places[cic]
            circuits[cic] = {"span": span, "timeslot": timeslot, "state": state}
        return {"linkset": "up" if point.up else "down",
                "links": {slc: {"span": self.slc_span[slc],
                                "state": "in service" if up else "out of service"}
                          for slc, up in self.link_states.items()},
                "circuits": circuits}
