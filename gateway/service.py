"""The gateway service: a card, its media engine, and the RPC server in front of them.

The asyncio event loop serves clients; the media engine ticks in its own thread and
hands events to the loop (``call_soon_threadsafe``); requests that touch the card are
queued to the engine and awaited (:meth:`GatewayService.run`). The methods are declared
on :attr:`GatewayService.registry` by ``methods.py``, ``fax/methods.py``, the
recording methods and ``sms/methods.py``; :class:`~trunkline.gateway.testing.VirtualGateway`
dispatches through the same registry without a socket. See docs/gateway.md for the methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import structlog

from trunkline.clock import Clock, RealClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.registry import open_card
from trunkline.errors import ConfigError, NotFound, TrunklineError
from trunkline.gateway.config import GatewayConfig, load_config
from trunkline.gateway.media.channels import resolve_groups
from trunkline.gateway.media.engine import MediaEngine
from trunkline.gateway.rpc.registry import MethodRegistry

log = structlog.get_logger("trunkline.gateway")

T = TypeVar("T")

__all__ = ["GatewayService", "resolve_groups"]


def tone_zone(config: GatewayConfig, card: CardABC) -> str:
    """The configured zone, else the card's, else ``cn`` (said in the log)."""
    if config.zone:
        return config.zone
    if card.tone_zone:
        return card.tone_zone
    log.warning("tone_zone_assumed", zone="cn", card=card.name,
                hint="set [card] zone in the gateway configuration")
    return "cn"


def apply_line_options(config: GatewayConfig, card: CardABC) -> None:
    """The installer's ``[[line]]`` settings, onto the card's lines."""
    for entries, options in config.lines:
        for channel in resolve_groups(card, {"line": entries})["line"]:
            # What the file says replaces the card's own view, setting by setting.
            card.set_line_options(channel, replace(card.line_options(channel), **options))


def check_span_tables(config: GatewayConfig, card: CardABC) -> None:
    """Every ``[[span]]`` table names a span the card has: one that does not was a typo
    or the wrong card, and was ignored without a word (review of issue 15, item 4: bad
    configuration fails naming the file, line and field)."""
    have = sorted(span.number for span in card.spans)
    for number in sorted(set(config.spans) - set(have)):
        raise ConfigError(f"[[span]] span = {number}: card {card.name} has no span "
                          f"{number}; its spans are {', '.join(map(str, have)) or 'none'}",
                          source=config.source, key="span.span",
                          line=config.span_lines.get(number))
    # [[group]] and [[line]] channels: a channel or span the card lacks, said with the
    # file and line (before, "card emulated0 has no channel 999" named neither).
    tables = {**{f"[[group]] {name!r}": (name, entries)
                 for name, entries in config.groups.items()},
              **{f"[[line]] {i + 1}": (f"[[line]] {i + 1}", entries)
                 for i, (entries, _) in enumerate(config.lines)}}
    for what, (key, entries) in tables.items():
        try:
            resolve_groups(card, {key: entries})
        except NotFound as err:
            raise ConfigError(f"{what} channels: {err}", source=config.source,
                              key="channels", line=config.group_lines.get(key)) from err


def span_table_error(err: ConfigError, config: GatewayConfig) -> ConfigError:
    """``err`` from a span's signalling module, with the file and line of the span's
    ``[[span]]`` table when the options came from one: "span 5: no MFC/R2 variant 'xx'"
    named neither, unlike every other mistake in the file."""
    match = re.match(r"span (\d+)\b", str(err))
    if err.source is not None or match is None or int(match[1]) not in config.spans:
        return err
    return ConfigError(f"[[span]] {err}", source=config.source, key="span",
                       line=config.span_lines.get(int(match[1])))


class GatewayService:
    """The card, its engine, and the registry of methods clients call."""

    def __init__(self, config: GatewayConfig, *, clock: Clock | None = None,
                 card: CardABC | None = None) -> None:
        self.config = config
        self.card = card or open_card(config.card_url, clock=clock or RealClock(),
                                      network=config.network)
        #: Timing belongs to the card (a board keeps real time whatever it was given).
        self.clock: Clock = self.card.clock
        try:
            check_span_tables(config, self.card)
        except ConfigError:
            if card is None:           # ours to close: the caller's card is the caller's
                self.card.close()
            raise
        apply_line_options(config, self.card)
        self.zone = load_zone(tone_zone(config, self.card))
        self.started = time.time()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Any = None
        from trunkline.gateway.metrics import GatewayMetrics

        self.metrics = GatewayMetrics()
        self.registry = MethodRegistry()
        try:
            self.engine = self._engine(config)
        except ConfigError as err:
            if card is None:
                self.card.close()
            raise span_table_error(err, config) from err
        self.engine.picker.order = dict(config.group_order)
        # The socket fan-out listens first: whatever else listens, clients see the events
        # in the order they were published.
        self.forwarding = self.engine.subscribe(self._forward)
        from trunkline.gateway.fax.methods import register_fax_methods
        from trunkline.gateway.methods import register_call_methods
        from trunkline.gateway.paths import GatewayPaths, default_prompts
        from trunkline.gateway.prompt_methods import register_prompt_methods
        from trunkline.gateway.recording.methods import register_recording_methods
        from trunkline.gateway.sms.methods import register_sms_methods
        from trunkline.gateway.supervise_methods import register_supervise_methods

        register_call_methods(self)
        register_supervise_methods(self)
        register_prompt_methods(self)   # prompts.check: a file call.play could play
        register_fax_methods(self, spool=config.fax_spool)
        register_recording_methods(self, root=config.recordings_root)
        # The card's mobile modules carry SMS (CardABC.sms).
        register_sms_methods(self, store=config.sms_store, policies=config.sim_limits)
        # Agents' browsers as positions (issue 19): channels after the card's.
        from trunkline.gateway.webrtc.methods import register_webrtc_methods

        self.softphone = register_webrtc_methods(self, getattr(config, "webrtc", None))
        #: The folders clients' paths are confined to (gateway/paths.py); every method
        #: taking a path resolves it through these.
        self.paths = GatewayPaths.of(
            recordings=self.recordings.root,
            fax_documents=config.fax_documents or self.fax.spool / "documents",
            prompts=config.prompts or default_prompts())

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the engine's thread at the end of the next tick; its result."""
        return await asyncio.wrap_future(self.engine.submit(fn))

    def _forward(self, event: dict) -> None:
        """Engine thread: hand an event to the socket server's loop."""
        if self.loop is not None and self.server is not None:
            self.loop.call_soon_threadsafe(self.server.publish, event)

    # -- lifecycle ------------------------------------------------------------------
    def _engine(self, config: GatewayConfig) -> MediaEngine:
        """The media engine; it builds each span's signalling module, which checks the
        module's options (a ``[[span]]`` table's among them)."""
        return MediaEngine(
            self.card, self.clock, zone=self.zone,
            groups=resolve_groups(self.card, config.groups),
            pri_switchtype=config.pri_switchtype, pri_trace=config.pri_trace,
            inbound_timeout=config.inbound_timeout, reject_cause=config.reject_cause,
            metrics=self.metrics,
            # call.record's recordings are indexed by this service's desk (made below).
            recorders=lambda *args, **kw: self.recordings.recorder(*args, **kw),
            signalling=config.spans,
        )

    async def serve(self, *, ready: asyncio.Event | None = None,
                    stop: asyncio.Event | None = None) -> None:
        from trunkline.gateway.rpc.server import GatewayServer

        self.loop = asyncio.get_running_loop()
        cfg = self.config
        Path(cfg.socket).parent.mkdir(parents=True, exist_ok=True)
        self.server = GatewayServer(
            self.registry, unix_path=str(cfg.socket), tcp=cfg.tcp, tokens=cfg.tokens,
            tls=cfg.tls, queue_limit=cfg.queue_limit, metrics=self.metrics,
            max_clients=cfg.max_clients, max_clients_per_peer=cfg.max_clients_per_peer,
            admin_reserved_slots=cfg.admin_reserved_slots, auth_timeout=cfg.auth_timeout,
            decode_share=cfg.decode_share, request_rate=cfg.request_rate,
            request_burst=cfg.request_burst,
            metrics_port=cfg.metrics[1] if cfg.metrics else None,
            metrics_host=cfg.metrics[0] if cfg.metrics else "127.0.0.1")
        await self.server.start()
        # Everything built so far (card, network audio, libpri, tables) lives as long as
        # the service: keep it out of the garbage collector's full passes, whose pauses
        # would otherwise land in the media tick.
        gc.collect()
        gc.freeze()
        self.engine.start()
        stop = stop or asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            self.loop.add_signal_handler(signal.SIGTERM, stop.set)
            self.loop.add_signal_handler(signal.SIGINT, stop.set)
            self.loop.add_signal_handler(signal.SIGHUP, self.reload)
        log.info("gateway_started", socket=str(cfg.socket), tcp=cfg.tcp, card=self.card.name)
        if ready is not None:
            ready.set()
        await stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        """No new calls; let calls end for ``shutdown_grace`` s, then clear the rest."""
        log.info("gateway_stopping", calls=len(self.engine.calls))
        await self.run(lambda: setattr(self.engine, "draining", True))
        deadline = time.monotonic() + self.config.shutdown_grace
        while self.engine.calls and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.engine.calls:
            def clear_all() -> int:
                ids = list(self.engine.calls)
                for call_id in ids:
                    with contextlib.suppress(TrunklineError):
                        self.engine.hangup(call_id, 16)
                return len(ids)
            cleared = await self.run(clear_all)
            log.info("gateway_cleared_calls", calls=cleared)
            await asyncio.sleep(0.5)
        self.engine.stop()
        self.softphone.stop()
        await self.server.stop(grace=2.0)
        self.engine.close()
        self.card.close()
        log.info("gateway_stopped")

    def reload(self) -> None:
        """SIGHUP: re-read tokens, groups, call settings and the request rate limit
        (hardware untouched)."""
        if self.config.source is None:
            return
        try:
            fresh = load_config(self.config.source)
        except ConfigError as err:
            log.error("gateway_reload_failed", error=str(err))
            return
        self.config.tokens = fresh.tokens
        if self.server is not None and hasattr(self.server, "set_tokens"):
            self.server.set_tokens(fresh.tokens)
        self.engine.inbound_timeout = fresh.inbound_timeout
        self.engine.reject_cause = fresh.reject_cause
        self.engine.groups = resolve_groups(self.card, fresh.groups)
        self.engine.picker.order = dict(fresh.group_order)
        self.config.request_rate = fresh.request_rate
        self.config.request_burst = fresh.request_burst
        if self.server is not None:  # open connections too (gateway/rpc/request_rate.py)
            self.server.set_request_rate(fresh.request_rate, fresh.request_burst)
        log.info("gateway_reloaded", groups=list(fresh.groups))


