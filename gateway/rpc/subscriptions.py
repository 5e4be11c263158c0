"""Event subscriptions of gateway clients: what a client asked to receive, and the match.

A :class:`Subscription` is built once, when a client sends ``subscribe`` (see
``docs/protocol.md``), and then only read: :meth:`GatewayServer.publish
<trunkline.gateway.rpc.server.GatewayServer.publish>` asks each one whether an event
matches, for every event, so matching is a few set and dict lookups and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Subscription"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """A client's interest in events: every key that is not None must match.

    ``events`` lists event kinds; a kind ending in ``*`` matches by prefix (``"call.*"``),
    and None means every kind. ``span``, ``channel`` and ``call`` compare with the event's
    keys of the same name; an event without the key does not match a filter on it.
    """

    id: int
    events: frozenset[str] | None = None
    prefixes: tuple[str, ...] = ()
    span: int | None = None
    channel: int | None = None
    call: int | None = None

    @classmethod
    def build(cls, sid: int, events: list[str] | None, span: int | None,
              channel: int | None, call: int | None) -> Subscription:
        if events is None:
            return cls(sid, None, (), span, channel, call)
        exact = frozenset(e for e in events if not e.endswith("*"))
        prefixes = tuple(e[:-1] for e in events if e.endswith("*"))
        return cls(sid, exact, prefixes, span, channel, call)

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.events is not None:
            kind = event["event"]
            if kind not in self.events and not (
                self.prefixes and kind.startswith(self.prefixes)
            ):
                return False
        if self.span is not None and event.get("span") != self.span:
            return False
        if self.channel is not None and event.get("channel") != self.channel:
            return False
        return not (self.call is not None and event.get("call") != self.call)

    def describe(self) -> dict[str, Any]:
        events = None
        if self.events is not None:
            events = sorted(self.events) + [p + "*" for p in self.prefixes]
        return {"id": self.id, "events": events, "span": self.span, "channel": self.channel,
                "call": self.call}
