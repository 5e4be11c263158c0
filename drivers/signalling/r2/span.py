"""The circuits of one MFC/R2 span, sans-IO: line states, hunting, blocking, inbound calls.

A signalling module (one per span, :class:`~trunkline.drivers.signalling.base.Signalling`)
keeps one :class:`R2Span`. The span owns a :class:`~.line.Line` per circuit for as long
as the module runs; a call leg borrows its circuit's line while the call lasts. Between
calls the span drives the lines itself: the far end's seizure (a new inbound leg),
blocking and unblocking, a release guard or clear-forward that came after the leg gave
up waiting. It does no I/O: it returns the bits to send as ``(channel, SetBits)``.

How a module wires it (the line loop hands a module the card events no leg claims)::

    always_open = True              # CAS channels move frames and report bits all the time
    __init__:   self.r2 = R2Span(span.number, span.channels, variant)
                for ch, bits in self.r2.start(now, rx={ch: card.cas_bits(ch) ...}):
                    card.set_cas_bits(ch, bits.bits)
    can_place(ch):  self.r2.free(ch) if ch is not None else self.r2.hunt() is not None
    hunts():        True
    outbound(id, ch, options):  self.r2.outbound(id, ch, options)   # ch None: hunted
    unclaimed(now, event):      # BITS_CHANGED on a channel no leg holds
        for ch, bits in self.r2.receive(now, event.channel, event.value): card.set_cas_bits(...)
        if self.r2.seized(event.channel):
            return self.r2.inbound(context.new_id(), event.channel,
                                   offer_for=context.inbound.timeout,
                                   reject_cause=context.inbound.reject_cause)
    poll(now):      for ch, bits in self.r2.on_time(now): card.set_cas_bits(...)
    perform(leg, SetBits):      card.set_cas_bits(leg.channel, action.bits)

PlayTone, StopTone, DetectMf and the detection actions are the line loop's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trunkline.drivers.signalling.actions import SetBits
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.r2.inbound import R2InboundLeg
from trunkline.drivers.signalling.r2.leg import R2Leg
from trunkline.drivers.signalling.r2.line import Input, Line, LineOutput, LineState
from trunkline.drivers.signalling.r2.variants import R2Variant, variant
from trunkline.errors import CallStateError

__all__ = ["R2Span"]

Bits = tuple[int, SetBits]


class R2Span:
    """The circuits (card channels) of one R2 span (see the module docstring).

    ``hunt_descending`` hunts free circuits from the highest channel down: the two ends
    of both-way circuits should hunt from opposite ends, so that they seldom seize the
    same circuit at once. ``max_called``, ``max_calling`` and ``request_calling``
    configure the incoming registers (:class:`~.register.IncomingRegister`).
    """

    def __init__(self, span: int, channels: Iterable[int], r2: R2Variant | str = "cn", *,
                 hunt_descending: bool = False, max_called: int | None = None,
                 max_calling: int | None = None, request_calling: str | None = None) -> None:
        self.span = span
        self.variant = variant(r2)
        self.lines = {ch: Line(self.variant, ch) for ch in channels}
        if not self.lines:
            raise ValueError(f"R2 span {span} has no channels")
        self.hunt_descending = hunt_descending
        self.max_called = max_called
        self.max_calling = max_calling
        self.request_calling = request_calling

    # -- circuits ---------------------------------------------------------------------------
    def line(self, channel: int) -> Line:
        try:
            return self.lines[channel]
        except KeyError:
            raise CallStateError(f"channel {channel} is not a circuit of R2 span "
                                 f"{self.span}") from None

    def free(self, channel: int) -> bool:
        """Whether a call may be placed on ``channel`` now."""
        line = self.lines.get(channel)
        return line is not None and line.free

    def hunt(self) -> int | None:
        """A free circuit (lowest channel first, or highest with ``hunt_descending``)."""
        order = sorted(self.lines, reverse=self.hunt_descending)
        return next((ch for ch in order if self.lines[ch].free), None)

    def seized(self, channel: int) -> bool:
        """True when the far end has seized ``channel`` and no leg answers it yet."""
        line = self.lines.get(channel)
        return line is not None and line.state is LineState.IN_SEIZED and line.held_by is None

    # -- calls ------------------------------------------------------------------------------
    def outbound(self, call_id: int, channel: int | None, options: CallOptions, *,
                 category: int | None = None, calling_category: int | None = None) -> R2Leg:
        """A new outbound leg on ``channel`` (None: a hunted free circuit), not started.

        Raises CallStateError when the circuit is not free (none is, when hunting), and
        NumberFormatError for a number R2 cannot send.
        """
        if channel is None:
            channel = self.hunt()
            if channel is None:
                raise CallStateError(f"no free circuit on R2 span {self.span}")
        line = self.line(channel)
        if not line.free:
            raise CallStateError(f"cannot call on span {self.span} channel {channel}: the "
                                 f"circuit is {line.state.value}"
                                 + (" (held by a call)" if line.held_by is not None else ""))
        return R2Leg(call_id, self.span, channel, options, line, category=category,
                     calling_category=calling_category)

    def inbound(self, call_id: int, channel: int, *, offer_for: float,
                reject_cause: int = 21, accept_on_offer: bool = False) -> R2InboundLeg:
        """The leg for the far end's seizure of ``channel`` (not started)."""
        if not self.seized(channel):
            raise CallStateError(f"channel {channel} of R2 span {self.span} is not seized "
                                 f"by the far end")
        return R2InboundLeg(call_id, self.span, channel, self.lines[channel],
                            offer_for=offer_for, reject_cause=reject_cause,
                            accept_on_offer=accept_on_offer, max_called=self.max_called,
                            max_calling=self.max_calling, request_calling=self.request_calling)

    # -- the line, between calls ----------------------------------------------------------
    def start(self, now: float, rx: Mapping[int, int] | None = None) -> list[Bits]:
        """Send idle on every circuit and read what the far end sends (``rx``: the ABCD
        bits received per channel, as DAHDI_GETRXBITS gives them)."""
        out = [(ch, SetBits(line.tx_bits)) for ch, line in sorted(self.lines.items())]
        for ch, bits in sorted((rx or {}).items()):
            out += self.receive(now, ch, bits)
        return out

    def receive(self, now: float, channel: int, bits: int) -> list[Bits]:
        """The bits received on ``channel`` (a circuit no leg holds) changed."""
        line = self.line(channel)
        if line.held_by is not None:
            raise CallStateError(f"channel {channel} is held by call {line.held_by}: its "
                                 f"bits go to the leg")
        return self._bits(channel, line.receive(now, bits))

    def on_time(self, now: float) -> list[Bits]:
        """The timers of the circuits no leg holds."""
        out: list[Bits] = []
        for ch, line in sorted(self.lines.items()):
            if line.held_by is None:
                out += self._bits(ch, line.on_time(now))
        return out

    def next_deadline(self) -> float | None:
        due = [d for line in self.lines.values() if line.held_by is None
               for d in (line.next_deadline(),) if d is not None]
        return min(due) if due else None

    def block(self, now: float, channel: int) -> list[Bits]:
        """Block ``channel`` (Q.421 blocking) if it is idle and free of calls."""
        return self._request(now, channel, Input.BLOCK)

    def unblock(self, now: float, channel: int) -> list[Bits]:
        return self._request(now, channel, Input.UNBLOCK)

    def _request(self, now: float, channel: int, what: Input) -> list[Bits]:
        line = self.line(channel)
        if line.held_by is not None or not line.can(what):
            raise CallStateError(f"cannot {what.value} channel {channel} of R2 span "
                                 f"{self.span}: it is {line.state.value}")
        return self._bits(channel, line.request(now, what))

    @staticmethod
    def _bits(channel: int, outputs: list[LineOutput]) -> list[Bits]:
        return [(channel, item) for item in outputs if isinstance(item, SetBits)]
