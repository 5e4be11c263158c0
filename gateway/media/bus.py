"""The engine's event bus: everyone who wants the gateway's events subscribes here.

The socket server's fan-out, inbound fax routing, recording policies, the in-process
gateway's client and the tests all listen the same way, in the order they subscribed,
on the thread that publishes (the media tick, mostly). A listener that raises is logged
and the others still hear the event: nothing a listener does can stop the tick.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any

import structlog

log = structlog.get_logger("trunkline.gateway.bus")

__all__ = ["EventBus", "Listener"]

Listener = Callable[[dict[str, Any]], None]


class EventBus:
    """Publish wire events (maps with an ``event`` key) to subscribed listeners."""

    def __init__(self) -> None:
        self._listeners: dict[int, Listener] = {}
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(self, listener: Listener) -> int:
        """Call ``listener(event)`` for every event from now on; returns a token for
        :meth:`unsubscribe`."""
        with self._lock:
            token = next(self._tokens)
            self._listeners = {**self._listeners, token: listener}
        return token

    def unsubscribe(self, token: int) -> None:
        """Stop the listener ``token`` (unknown tokens are ignored: unsubscribing twice is
        harmless)."""
        with self._lock:
            self._listeners = {k: v for k, v in self._listeners.items() if k != token}

    def publish(self, event: Mapping[str, Any]) -> None:
        """Hand ``event`` to every listener, in subscription order."""
        if not isinstance(event.get("event"), str):
            raise ValueError(f"an event is a map with a string 'event' key, not {event!r:.80}")
        self.published += 1
        for listener in self._listeners.values():  # a snapshot: (un)subscribing is safe
            try:
                listener(event)  # type: ignore[arg-type]
            except Exception:
                log.exception("event_listener_failed", wire_event=event.get("event"))

    def __len__(self) -> int:
        return len(self._listeners)
