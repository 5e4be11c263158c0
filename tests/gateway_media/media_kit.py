"""What the gateway media tests share: a call around a stand-in leg."""

from __future__ import annotations

from types import SimpleNamespace

from trunkline.gateway.media.calls import Call


def call(call_id: int = 5, *, state: str = "new", span: int = 1, channel: int | None = 3,
         direction: str = "outbound", **fields: object) -> Call:
    """A gateway call on a leg that only has an identity (the wire reads no more)."""
    leg = SimpleNamespace(id=call_id, span=span, channel=channel, kind="pri",
                          direction=direction, number="13800000001")
    return Call(leg, state=state, **fields)
