"""Prometheus metrics of one gateway, and the HTTP endpoint that serves them.

Each :class:`GatewayMetrics` owns its own ``CollectorRegistry`` rather than the global
one, so several gateways (or a test and a gateway) in one process never collide over a
metric name. The server updates the wire-level metrics itself; the media engine calls
:meth:`GatewayMetrics.set_channel_states`, :meth:`GatewayMetrics.call_finished` and
:meth:`GatewayMetrics.observe_tick`. All names start with ``trunkline_gateway_``.

The endpoint listens on localhost by default: metrics reveal call volumes, and Prometheus
normally scrapes through a local agent or a reverse proxy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

__all__ = ["TICK_BUCKETS", "GatewayMetrics", "MetricsEndpoint"]

#: Tick durations around the 20 ms frame: resolution where overruns begin.
TICK_BUCKETS = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.040, 0.080, 0.160, 0.5)
#: Request durations, from an inline ping to an originate that waits for the network.
REQUEST_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)

_PREFIX = "trunkline_gateway"


class GatewayMetrics:
    """The gateway's metrics in their own registry.

    Attributes are prometheus-client metric objects, usable directly
    (``metrics.tick_overruns.inc()``); the methods cover the common engine updates.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.channels = Gauge(
            f"{_PREFIX}_channels", "Channels by state (set by the media engine).",
            ["state"], registry=r)
        self.calls = Counter(
            f"{_PREFIX}_calls", "Finished calls by outcome.", ["outcome"], registry=r)
        self.tick_seconds = Histogram(
            f"{_PREFIX}_tick_seconds", "Duration of one media tick.",
            buckets=TICK_BUCKETS, registry=r)
        self.tick_overruns = Counter(
            f"{_PREFIX}_tick_overruns", "Media ticks that finished after their deadline.",
            registry=r)
        self.tick_overruns_worked = Counter(
            f"{_PREFIX}_tick_overruns_worked",
            "Overruns in which the tick's thread itself used more than the 20 ms period "
            "of CPU (the rest waited: for a core, the GIL or a lock).", registry=r)
        self.clients = Gauge(
            f"{_PREFIX}_clients", "Connected clients by transport.", ["transport"], registry=r)
        self.client_queue_depth_max = Gauge(
            f"{_PREFIX}_client_queue_depth_max",
            "Largest outgoing queue (frames) over connected clients, at scrape time.",
            registry=r)
        self.client_queue_frames = Gauge(
            f"{_PREFIX}_client_queue_frames",
            "Frames waiting in all clients' outgoing queues, at scrape time.", registry=r)
        self.clients_disconnected = Counter(
            f"{_PREFIX}_clients_disconnected", "Client disconnections by reason.",
            ["reason"], registry=r)
        self.requests = Counter(
            f"{_PREFIX}_requests", "Requests by method and outcome (ok or an error name).",
            ["method", "outcome"], registry=r)
        self.request_seconds = Histogram(
            f"{_PREFIX}_request_seconds", "Time from request to reply, by method.",
            ["method"], buckets=REQUEST_BUCKETS, registry=r)
        self.frames_in = Counter(f"{_PREFIX}_frames_in", "Frames received.", registry=r)
        self.decode_throttled = Counter(
            f"{_PREFIX}_decode_throttled",
            "Times a client was not read from because its decoding passed its share of "
            "the event loop (gateway/rpc/decode_budget.py).", registry=r)
        self.rate_limited = Counter(
            f"{_PREFIX}_rate_limited",
            "Requests refused (action=refused) and connections cut (action=cut) for "
            "passing their request rate (gateway/rpc/request_rate.py).", ["action"],
            registry=r)
        self.frames_out = Counter(f"{_PREFIX}_frames_out", "Frames sent.", registry=r)
        self.card_overruns = Counter(
            f"{_PREFIX}_card_overruns",
            "Card frames lost because the media tick read them too late.", registry=r)
        self.q921_errors = Counter(
            f"{_PREFIX}_q921_errors",
            "Q.921 MDL-ERRORs libpri reported on a PRI span, by span and code (A-F: "
            "recovery already over; G-K: the link failed or was re-established; "
            "docs/pri.md).", ["span", "code"], registry=r)
        self._q921_seen: dict[tuple[int, str], int] = {}
        self.events_published = Counter(
            f"{_PREFIX}_events_published", "Events published by the engine.", registry=r)
        self.events_delivered = Counter(
            f"{_PREFIX}_events_delivered", "Event frames queued to subscribed clients.",
            registry=r)
        self._known_states: set[str] = set()

    # -- engine-facing helpers -------------------------------------------------------------

    def set_channel_states(self, counts: Mapping[str, int]) -> None:
        """Set the channel gauge from a full ``{state: count}`` map.

        States seen before but absent now are set to 0, so a state that empties does not
        keep its last count on the dashboard.
        """
        for state in self._known_states - counts.keys():
            self.channels.labels(state=state).set(0)
        for state, count in counts.items():
            self.channels.labels(state=state).set(count)
        self._known_states.update(counts)

    def call_finished(self, outcome: str) -> None:
        """Count one call by its outcome (``human``, ``busy``, ...; DESIGN.md's list)."""
        self.calls.labels(outcome=outcome).inc()

    def observe_tick(self, seconds: float, *, overrun: bool = False,
                     card_overruns: int = 0, overworked: bool = False) -> None:
        """Record one media tick's duration, whether it missed its deadline, and the card
        frames lost since the last tick (a lost frame is an overrun too, even when the
        tick itself was quick: the one before it, or the machine, was slow).
        ``overworked``: the tick's own CPU time passed the period, which tells an
        overrun the gateway's work caused from one a busy machine caused."""
        self.tick_seconds.observe(seconds)
        if overrun or card_overruns:
            self.tick_overruns.inc()
            if overworked:
                self.tick_overruns_worked.inc()
        if card_overruns:
            self.card_overruns.inc(card_overruns)

    def q921_errors_seen(self, span: int, counts: Mapping[str, int]) -> None:
        """Count what a span's running totals by code (``PriSignalling.q921_errors``)
        grew by since the last call; a total that went down (a new span object) counts
        afresh from zero."""
        for code, total in counts.items():
            before = self._q921_seen.get((span, code), 0)
            grown = total - before if total >= before else total
            if grown:
                self.q921_errors.labels(span=str(span), code=code).inc(grown)
            self._q921_seen[(span, code)] = total

    def track_queues(self, depths: Callable[[], list[int]]) -> None:
        """Compute the queue gauges at scrape time from ``depths()`` (one int per client)."""
        self.client_queue_depth_max.set_function(lambda: max(depths(), default=0))
        self.client_queue_frames.set_function(lambda: sum(depths()))

    def render(self) -> bytes:
        """The text exposition format, as served on /metrics."""
        return generate_latest(self.registry)

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's current value (for tests and the CLI); None when absent."""
        return self.registry.get_sample_value(name, dict(labels or {}))

    def serve(self, port: int, host: str = "127.0.0.1") -> MetricsEndpoint:
        """Start the HTTP endpoint for this registry; see :class:`MetricsEndpoint`."""
        return MetricsEndpoint(self.registry, port=port, host=host)


class MetricsEndpoint:
    """A threaded HTTP server answering ``GET /metrics`` from one registry.

    ``port=0`` picks a free port; the chosen one is in :attr:`port`. :meth:`close` stops
    the server and is safe to call twice.
    """

    def __init__(self, registry: CollectorRegistry, *, port: int, host: str = "127.0.0.1"):
        server, thread = start_http_server(port, addr=host, registry=registry)
        self._server: Any = server
        self._thread: threading.Thread = thread
        self.host = host
        self.port: int = server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
