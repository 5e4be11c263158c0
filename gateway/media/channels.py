"""Choosing where a call goes: channel groups, blocked channels, free channels.

A call is placed on a channel given by number, on a span, or on a group (``outbound``
by default). Each candidate is asked of its span's signalling module: an analog port is
free when no call holds it and it is idle; a PRI span when its D-channel is up and a
B-channel is idle (libpri then hunts the channel itself); an R2 span when one of its
circuits is idle and not blocked (the module hunts it); an SS7 linkset when it is up and
has a circuit free of calls and blocking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from trunkline.drivers.card import CardABC
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanSignalling
from trunkline.errors import InvalidRequest, NotFound, StateConflict

__all__ = ["ORDERS", "SIGNALLED", "ChannelPicker", "resolve_groups"]

#: How a group's channels are tried (see ChannelPicker.order).
ORDERS = ("first", "round_robin")

#: Group entries naming every channel of the spans that speak a signalling: digital
#: trunks, and ``mobile`` (each GSM/LTE module is a span of one voice channel).
SIGNALLED = {"pri": SpanSignalling.PRI, "r2": SpanSignalling.CAS, "ss7": SpanSignalling.SS7,
             "mobile": SpanSignalling.MOBILE}


def resolve_groups(card: CardABC, groups: Mapping[str, Iterable[Any]]) -> dict[str, list[int]]:
    """Channel numbers of each group, from kinds (fxo, fxs, pri, r2, ss7, mobile), span:N
    and numbers, in the order the entries give them (a group tries its channels in that
    order: ``outbound`` lists mobile last, so a SIM is used only when no line is free)."""
    out: dict[str, list[int]] = {}
    for name, entries in groups.items():
        chans: list[int] = []
        for entry in entries:
            if entry in ("fxo", "fxs"):
                chans += [c for s in card.spans if s.kind.value == entry for c in s.channels]
            elif entry in SIGNALLED:
                chans += [c for s in card.spans if s.signalling is SIGNALLED[entry]
                          for c in s.channels]
            elif isinstance(entry, str) and entry.startswith("span:"):
                chans += list(card.span(int(entry[5:])).channels)
            else:
                card.channel(int(entry))
                chans.append(int(entry))
        out[name] = list(dict.fromkeys(chans))
    return out


class PickGate(Protocol):
    """What may veto or choose among a call's free candidates (the per-SIM limits of
    mobile modules, gateway/sms/desk.py): one of ``free``, or a domain error."""

    def choose(self, group: str | None, free: Sequence[tuple[int, int | None]]
               ) -> tuple[int, int | None]: ...


class ChannelPicker:
    """Where the next call on a group, span or channel goes."""

    def __init__(self, loop: LineLoop, groups: Mapping[str, list[int]]) -> None:
        self.loop = loop
        self.card = loop.card
        self.groups = dict(groups)
        self.blocked: set[int] = set()
        #: How each group's candidates are tried (ORDERS): ``first`` always from the
        #: first (chan_dahdi's ``g``), ``round_robin`` from the span after the one used
        #: last (as chan_dahdi's ``r`` goes round channels; here the turn is a span's,
        #: so that a span of 8 analog lines weighs as much as an E1), which spreads a
        #: campaign over every span of a group.
        self.order: dict[str, str] = {}
        self._next: dict[str, int] = {}
        #: The per-SIM limits of mobile modules (gateway/sms/desk.py ``CallGate``): given
        #: the free ``(span, channel)`` candidates in order, it picks one (raising when
        #: every mobile one is over a limit and no other is free). None: the first.
        self.gate: PickGate | None = None

    def pick(self, *, group: str | None = None, span: int | None = None,
             channel: int | None = None) -> tuple[int, int | None]:
        """``(span, channel)`` for a new call (channel None: the span's module hunts).

        Raises ChannelError for an unknown channel, InvalidRequest for a channel that
        cannot carry calls, NotFound for an unknown group, StateConflict when nothing is
        free.
        """
        if channel is not None:
            info = self.card.channel(channel)
            self._module(channel)
            if self.loop.busy(channel) or channel in self.blocked:
                raise StateConflict(f"channel {channel} is busy or blocked")
            if self.gate is not None:
                return self.gate.choose(group, [(info.span, channel)])
            return info.span, channel
        candidates = self._candidates(group, span)
        name = group or "outbound"
        spans = list(dict.fromkeys(span_no for span_no, _ in candidates))
        rotate = span is None and self.order.get(name) == "round_robin" and spans
        if rotate:  # by span: each span of the group in turn, its channels in order
            start = self._next.get(name, 0) % len(spans)
            turn = {s: (i - start) % len(spans) for i, s in enumerate(spans)}
            candidates = sorted(candidates, key=lambda c: turn[c[0]])
        free_ones: list[tuple[int, int | None]] = []
        for span_no, ch in candidates:
            module = self.loop.module(span_no)
            if module.hunts():
                free = module.can_place(None)
            else:
                free = ch is not None and not self.loop.busy(ch) and ch not in self.blocked \
                    and module.can_place(ch)
            if free:
                free_ones.append((span_no, None if module.hunts() else ch))
                if self.gate is None:
                    break
        if free_ones:
            span_no, ch = free_ones[0] if self.gate is None else \
                self.gate.choose(group if span is None else None, free_ones)
            if rotate:
                self._next[name] = spans.index(span_no) + 1
            return span_no, ch
        where = f"span {span}" if span is not None else group or "outbound"
        raise StateConflict(f"no free channel in {where}")

    def _module(self, channel: int) -> Any:
        module = self.loop.module_of(channel)
        if module is None:
            sig = self.card.channel(channel).signalling
            raise InvalidRequest(f"channel {channel} ({sig}) cannot place calls")
        return module

    def _candidates(self, group: str | None, span: int | None) -> list[tuple[int, int | None]]:
        if span is not None:
            info = self.card.span(span)
            module = self.loop.module(span)
            if module.hunts():
                return [(span, None)]
            return [(span, c) for c in info.channels]
        name = group or "outbound"
        if name not in self.groups:
            raise NotFound(f"no group {name!r}; groups: {', '.join(self.groups)}")
        out: list[tuple[int, int | None]] = []
        for ch in self.groups[name]:
            module = self._module(ch)
            span_no = module.span.number
            if module.hunts():
                if (span_no, None) not in out:
                    out.append((span_no, None))
            else:
                out.append((span_no, ch))
        return out
