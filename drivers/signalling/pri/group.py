"""Hunting outgoing calls across several PRI spans and groups, retrying on glare.

A :class:`SpanGroup` knows spans by group name (``{"carrier_a": [span1, span2],
"backup": [span3]}``). :meth:`SpanGroup.setup` tries the groups the caller names, in
order, and in each group the spans in the group's ``strategy`` order, placing the call
on the first span whose D-channel is up and which has a free B-channel (preferred or
exclusive, as asked). When the network clears the call because an incoming call took
its channel (Q.931 5.7 channel selection conflict, "glare": cause 44, or 34 after a
glare), the group places it again, on another channel or span, under the same call id,
and reports :class:`~.events.CallRetrying` instead of the clearing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trunkline.clock import Clock

from . import events as ev
from .errors import PriConfigError, PriLinkDown, PriNoChannel
from .records import new_call_id
from .span import PriSpan

__all__ = ["GLARE_CAUSES", "SpanGroup"]

#: Causes that mean "your channel was taken" when the call is retried.
GLARE_CAUSES = frozenset({44})
STRATEGIES = ("sequential", "round_robin", "least_busy")


@dataclass(slots=True)
class _GroupCall:
    span: PriSpan
    called: str
    kwargs: dict[str, Any]
    groups: tuple[str, ...]
    retries: int = 0
    held: list[ev.PriEvent] = field(default_factory=list)


class SpanGroup:
    """Outgoing call hunting over named groups of :class:`PriSpan`.

    ``spans`` is a mapping of group name to spans, or a plain sequence (one group
    named ``"default"``). ``strategy``: ``sequential`` (first span first: keeps later
    spans free), ``round_robin`` or ``least_busy``. ``max_retries`` bounds glare
    retries per call. :meth:`poll` polls every span once and returns their events
    (with glare clearings replaced by :class:`~.events.CallRetrying`).
    """

    def __init__(self, spans: Mapping[str, Sequence[PriSpan]] | Sequence[PriSpan], *,
                 strategy: str = "sequential", max_retries: int = 3,
                 clock: Clock | None = None) -> None:
        if strategy not in STRATEGIES:
            raise PriConfigError(f"unknown hunting strategy {strategy!r}; expected one of "
                                 f"{list(STRATEGIES)}", key="strategy")
        if isinstance(spans, Mapping):
            groups = {str(name): tuple(members) for name, members in spans.items()}
        else:
            groups = {"default": tuple(spans)}
        if not groups or not any(groups.values()):
            raise PriConfigError("a span group needs at least one span", key="spans")
        self.groups = groups
        self.strategy = strategy
        self.max_retries = max_retries
        self.clock = clock
        self._spans: list[PriSpan] = []
        for members in groups.values():
            for span in members:
                if span not in self._spans:
                    self._spans.append(span)
        self._rr = {name: itertools.count() for name in groups}
        self._calls: dict[int, _GroupCall] = {}

    @property
    def spans(self) -> tuple[PriSpan, ...]:
        return tuple(self._spans)

    def span_of(self, call_id: int) -> PriSpan:
        """The span now carrying group call ``call_id``."""
        try:
            return self._calls[call_id].span
        except KeyError:
            raise KeyError(f"no group call {call_id}") from None

    def _candidates(self, groups: Iterable[str]) -> list[PriSpan]:
        out: list[PriSpan] = []
        for name in groups:
            members = list(self.groups[name])
            if self.strategy == "round_robin" and members:
                start = next(self._rr[name]) % len(members)
                members = members[start:] + members[:start]
            elif self.strategy == "least_busy":
                members.sort(key=lambda s: -len(s.free_channels()))
            out.extend(s for s in members if s not in out)
        return out

    def setup(self, called: str, *, groups: Sequence[str] | None = None,
              call_id: int | None = None, **kwargs: Any) -> int:
        """Place a call on the first suitable span of the named ``groups`` (default:
        all, in definition order); return its call id. Other keyword arguments go to
        :meth:`PriSpan.setup` (``calling``, ``exclusive``, plans, presentation...).

        Raises :class:`PriNoChannel` (naming the groups) when no span can take it.
        """
        names = tuple(groups) if groups is not None else tuple(self.groups)
        for name in names:
            if name not in self.groups:
                raise PriConfigError(f"unknown span group {name!r}; groups are "
                                     f"{sorted(self.groups)}", key="groups")
        cid = call_id if call_id is not None else new_call_id()
        span = self._place(called, names, cid, kwargs, exclude=None)
        self._calls[cid] = _GroupCall(span, called, dict(kwargs), names)
        return cid

    def _place(self, called: str, names: tuple[str, ...], cid: int,
               kwargs: dict[str, Any], exclude: PriSpan | None) -> PriSpan:
        reasons: list[str] = []
        spans = self._candidates(names)
        if exclude is not None and len(spans) > 1:
            # after a glare, prefer another span when there is one
            spans = [s for s in spans if s is not exclude] + [exclude]
        for span in spans:
            if not span.up:
                reasons.append(f"span {span.span_id}: D-channel down")
                continue
            if "channel" not in kwargs and not span.free_channels():
                reasons.append(f"span {span.span_id}: no free B-channel")
                continue
            try:
                span.setup(called, call_id=cid, **kwargs)
            except (PriNoChannel, PriLinkDown) as err:
                reasons.append(str(err))
                continue
            return span
        raise PriNoChannel(f"cannot place a call to {called!r} in groups {list(names)}: "
                           + ("; ".join(reasons) or "no spans"))

    def hangup(self, call_id: int, cause: int = 16) -> None:
        """Clear group call ``call_id`` on whichever span carries it."""
        self.span_of(call_id).hangup(call_id, cause)

    def poll(self, now: float | None = None) -> list[ev.PriEvent]:
        """Poll every span once; return their events, glare retries resolved."""
        out: list[ev.PriEvent] = []
        for span in self._spans:
            for event in span.poll(now):
                out.extend(self._filter(span, event))
        return out

    def _filter(self, span: PriSpan, event: ev.PriEvent) -> list[ev.PriEvent]:
        if not isinstance(event, ev.CallEvent):
            return [event]
        gcall = self._calls.get(event.call)
        if gcall is None or gcall.span is not span:
            return [event]
        if isinstance(event, ev.CallDisconnecting) and event.cause in GLARE_CAUSES:
            gcall.held.append(event)  # decided when the call ends
            return []
        if not isinstance(event, ev.CallEnded):
            return [event]
        glare = not event.answered and event.direction == "outgoing" and (
            event.glare or event.cause in GLARE_CAUSES)
        if glare and gcall.retries < self.max_retries:
            gcall.retries += 1
            gcall.held.clear()
            # the channel we asked for now carries the network's call: hunt again
            gcall.kwargs.pop("channel", None)
            try:
                new_span = self._place(gcall.called, gcall.groups, event.call,
                                       gcall.kwargs, exclude=span)
            except (PriNoChannel, PriLinkDown):
                pass
            else:
                gcall.span = new_span
                return [ev.CallRetrying(span.span_id, event.call, event.channel,
                                        cause=event.cause)]
        held, gcall.held = gcall.held, []
        del self._calls[event.call]
        return [*held, event]
