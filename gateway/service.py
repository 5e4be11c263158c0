"""The gateway service: a card, its media engine, and the RPC server in front of them.

The asyncio event loop serves clients; the media engine ticks in its own thread and
hands events to the loop (``call_soon_threadsafe``); requests that touch the card are
queued to the engine and awaited. See docs/gateway.md for the methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from pathlib import Path
from typing import Any

import structlog

from trunkline import __version__
from trunkline.clock import Clock, RealClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import SpanKind, SpanSignalling
from trunkline.drivers.registry import open_card
from trunkline.errors import ChannelError, ConfigError, TrunklineError
from trunkline.gateway.config import GatewayConfig, load_config
from trunkline.gateway.media.engine import MediaEngine
from trunkline.gateway.rpc.registry import MethodRegistry, Param, RpcError

log = structlog.get_logger("trunkline.gateway")

CALL = {"call": Param(int, required=True, doc="the call id")}


def resolve_groups(card: CardABC, groups: dict[str, list[Any]]) -> dict[str, list[int]]:
    """Channel numbers of each group, from kinds (fxo, fxs, pri), span:N and numbers."""
    out: dict[str, list[int]] = {}
    for name, entries in groups.items():
        chans: list[int] = []
        for entry in entries:
            if entry in ("fxo", "fxs"):
                chans += [c for s in card.spans if s.kind.value == entry for c in s.channels]
            elif entry == "pri":
                chans += [c for s in card.spans if s.signalling is SpanSignalling.PRI
                          for c in s.channels]
            elif isinstance(entry, str) and entry.startswith("span:"):
                chans += list(card.span(int(entry[5:])).channels)
            else:
                card.channel(int(entry))
                chans.append(int(entry))
        out[name] = list(dict.fromkeys(chans))
    return out


class GatewayService:
    def __init__(self, config: GatewayConfig, *, clock: Clock | None = None,
                 card: CardABC | None = None) -> None:
        self.config = config
        self.clock = clock or RealClock()
        options: dict[str, Any] = {}
        if config.card_url.split(":", 1)[0] == "emulated":
            options["clock"] = self.clock
            if config.network is not None:
                options["network"] = config.network
        self.card = card or open_card(config.card_url, **options)
        plan = getattr(self.card, "plan", None)
        self.zone = load_zone(plan.zone if plan is not None else "cn")
        self.started = time.time()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Any = None
        from trunkline.gateway.metrics import GatewayMetrics

        self.metrics = GatewayMetrics()
        self.registry = MethodRegistry()
        self.registry.map_exception(ConfigError, "invalid_params")
        self.registry.map_exception(ChannelError, "conflict")
        self.registry.map_exception(TrunklineError, "conflict")
        self._register()
        self.engine = MediaEngine(
            self.card, self.clock, zone=self.zone, publish=self._publish,
            groups=resolve_groups(self.card, config.groups),
            pri_switchtype=config.pri_switchtype, pri_trace=config.pri_trace,
            inbound_timeout=config.inbound_timeout, reject_cause=config.reject_cause,
            metrics=self,
            # call.record's recordings are indexed by this service's desk (made below).
            recorder_factory=lambda *args, **kw: self.recordings.recorder(*args, **kw),
        )
        from trunkline.gateway.fax.methods import register_fax_methods
        from trunkline.gateway.recording.methods import register_recording_methods

        register_fax_methods(self, spool=config.fax_spool)
        register_recording_methods(self, root=config.recordings_root)

    # -- events from the engine thread ----------------------------------------------
    def _publish(self, event: dict) -> None:
        if self.loop is None or self.server is None:
            return
        self.loop.call_soon_threadsafe(self.server.publish, event)

    def observe_tick(self, seconds: float) -> None:
        """Called by the engine each tick (engine thread)."""
        self.metrics.observe_tick(seconds, overrun=seconds > 0.02)
        if self.engine.ticks % 50 == 0:  # channel states once a second
            counts: dict[str, int] = {}
            for row in self.engine.channel_rows():
                counts[row["state"]] = counts.get(row["state"], 0) + 1
            self.metrics.set_channel_states(counts)

    def call_ended(self, outcome: str) -> None:
        self.metrics.call_finished(outcome)

    async def _engine(self, fn) -> Any:
        return await asyncio.wrap_future(self.engine.submit(fn))

    # -- methods --------------------------------------------------------------------
    def _register(self) -> None:
        r = self.registry

        @r.method("system.info", role="monitor")
        def system_info(session) -> dict:
            """Version, card, uptime and media-tick statistics."""
            return {"version": __version__, "card": self.card.name,
                    "backend": self.card.backend, "spans": len(self.card.spans),
                    "channels": sum(len(s.channels) for s in self.card.spans),
                    "uptime": round(time.time() - self.started, 1),
                    "ticks": self.engine.ticks, "calls": len(self.engine.calls),
                    "overruns": getattr(self.card, "overruns", 0),
                    "draining": self.engine.draining}

        @r.method("spans.list", role="monitor")
        async def spans_list(session) -> list:
            """Every span: kind, signalling, alarms, counters, D-channel state."""
            def collect() -> list:
                out = []
                for s in self.card.spans:
                    st = self.card.span_status(s.number)
                    out.append({
                        "span": s.number, "kind": s.kind.value, "signalling": s.signalling.value,
                        "description": s.description, "alarms": st.alarms.name or "OK"
                        if st.alarms else "OK",
                        "counters": {k: getattr(st.counters, k) for k in st.counters.__slots__},
                        "channels": len(s.channels), "dchannel": s.dchannel,
                        "dchannel_up": self.engine._pri_up.get(s.number),
                    })
                return out
            return await self._engine(collect)

        @r.method("channels.list", role="monitor",
                  params={"span": Param(int, doc="only this span")})
        async def channels_list(session, span=None) -> list:
            """Every channel: signalling, state, and the call on it."""
            rows = await self._engine(self.engine.channel_rows)
            return [row for row in rows if span is None or row["span"] == span]

        @r.method("groups.list", role="monitor")
        def groups_list(session) -> dict:
            """Channel groups calls can be placed on."""
            return {name: chans for name, chans in self.engine.groups.items()}

        @r.method("calls.list", role="monitor")
        async def calls_list(session) -> list:
            """The calls in progress."""
            return await self._engine(lambda: [c.info() for c in self.engine.calls.values()])

        @r.method("call.originate", role="control", params={
            "number": Param(str, required=True, doc="the number to dial"),
            "group": Param(str, doc="a channel group (default 'outbound')"),
            "span": Param(int, doc="a span to place the call on"),
            "channel": Param(int, doc="a channel to place the call on"),
            "caller_id": Param(str, doc="calling party number (PRI)"),
            "ring_timeout": Param(float, default=45.0, minimum=1, maximum=600),
            "detect": Param(dict, default={}, doc="call_progress, amd, fax, announcements"),
        })
        async def originate(session, number, group=None, span=None, channel=None,
                            caller_id=None, ring_timeout=45.0, detect=None) -> dict:
            """Place an outbound call; events follow on call.state."""
            return await self._engine(lambda: self.engine.originate(
                number, group=group, span=span, channel=channel, caller_id=caller_id,
                ring_timeout=ring_timeout, detect=detect))

        @r.method("call.answer", role="control", params=CALL)
        async def answer(session, call) -> dict:
            """Answer an offered inbound call."""
            return await self._engine(lambda: self.engine.answer(call))

        @r.method("call.hangup", role="control",
                  params={**CALL, "cause": Param(int, default=16, minimum=1, maximum=127)})
        async def hangup(session, call, cause=16) -> dict:
            """Clear a call (Q.850 cause on PRI)."""
            return await self._engine(lambda: self.engine.hangup(call, cause))

        @r.method("call.play", role="control", params={
            **CALL, "file": Param(str), "tone": Param(str), "digits": Param(str),
            "loop": Param(bool, default=False),
            "wait_silence": Param(float, default=0.0, minimum=0, maximum=30),
            "wait_max": Param(float, default=30.0, minimum=0.1, maximum=120)})
        async def play(session, call, file=None, tone=None, digits=None, loop=False,
                       wait_silence=0.0, wait_max=30.0) -> dict:
            """Play a WAV file, a zone tone or DTMF digits into the call; with
            ``wait_silence`` the start waits until the far end has been quiet that long
            (at most ``wait_max``): a message left after an answering machine's beep."""
            spec = {"file": file, "tone": tone, "digits": digits, "loop": loop,
                    "wait_silence": wait_silence, "wait_max": wait_max}
            return await self._engine(lambda: self.engine.play(call, spec))

        @r.method("call.stop_play", role="control", params=CALL)
        async def stop_play(session, call) -> dict:
            """Stop what the call is playing."""
            return await self._engine(lambda: self.engine.stop_play(call))

        @r.method("call.record", role="control", params={
            **CALL, "action": Param(str, default="start", choices=("start", "stop")),
            "path": Param(str), "encoding": Param(str, default="pcm16",
                                                  choices=("pcm16", "alaw", "ulaw"))})
        async def record(session, call, action="start", path=None, encoding="pcm16") -> dict:
            """Start or stop recording a call to a stereo WAV file."""
            return await self._engine(lambda: self.engine.record(call, action, path, encoding))

        @r.method("call.send_dtmf", role="control", params={
            **CALL, "digits": Param(str, required=True),
            "on_ms": Param(int, default=100, minimum=40, maximum=1000),
            "off_ms": Param(int, default=100, minimum=40, maximum=1000)})
        async def send_dtmf(session, call, digits, on_ms=100, off_ms=100) -> dict:
            """Send DTMF digits in band."""
            return await self._engine(lambda: self.engine.send_dtmf(call, digits, on_ms, off_ms))

        @r.method("call.collect_dtmf", role="control", params={
            **CALL, "max_digits": Param(int, default=1, minimum=1, maximum=64),
            "timeout": Param(float, default=10.0, minimum=0.1, maximum=600),
            "terminator": Param(str, default="#")})
        async def collect_dtmf(session, call, max_digits=1, timeout=10.0,
                               terminator="#") -> dict:
            """Wait for digits: until max_digits, the terminator or the timeout."""
            future = await self._engine(
                lambda: self.engine.collect_dtmf(call, max_digits, timeout, terminator))
            return await asyncio.wrap_future(future)

        @r.method("call.bridge", role="control", params={
            "call": Param(int, required=True), "other": Param(int, required=True)})
        async def bridge(session, call, other) -> dict:
            """Connect two answered calls' audio (e.g. customer and agent)."""
            return await self._engine(lambda: self.engine.bridge(call, other))

        @r.method("call.unbridge", role="control", params=CALL)
        async def unbridge(session, call) -> dict:
            """Separate a bridged call from its peer."""
            return await self._engine(lambda: self.engine.unbridge(call))

        @r.method("call.listen", role="control", params={
            **CALL, "target": Param(int, doc="the call to monitor; omit to stop")})
        async def listen(session, call, target=None) -> dict:
            """Let ``call`` (a supervisor) hear both sides of ``target`` silently."""
            return await self._engine(lambda: self.engine.listen(call, target))

        @r.method("channel.block", role="admin", params={"channel": Param(int, required=True)})
        async def block(session, channel) -> dict:
            """Take a channel out of service for new calls."""
            return await self._engine(lambda: self.engine.set_blocked(channel, True))

        @r.method("channel.unblock", role="admin",
                  params={"channel": Param(int, required=True)})
        async def unblock(session, channel) -> dict:
            """Return a blocked channel to service."""
            return await self._engine(lambda: self.engine.set_blocked(channel, False))

        @r.method("span.maintenance", role="admin", params={
            "span": Param(int, required=True),
            "mode": Param(str, required=True, choices=("alarm", "clear", "loopback", "off")),
            "alarm": Param(str, default="red", choices=("red", "yellow", "blue")),
            "duration": Param(float, minimum=0.02, maximum=86400)})
        async def maintenance(session, span, mode, alarm="red", duration=None) -> dict:
            """Simulate an alarm, or set a loopback, on a span."""
            return await self._engine(lambda: self._maintenance(span, mode, alarm, duration))

    def _maintenance(self, span: int, mode: str, alarm: str, duration: float | None) -> dict:
        self.card.span(span)
        inject = getattr(self.card, "inject", None)
        if mode in ("alarm", "clear"):
            if inject is None:
                raise RpcError("unavailable", f"{self.card.backend} cards cannot simulate alarms")
            from trunkline.drivers.backends.emulated.config import FaultConfig

            fault = FaultConfig(at=0, kind="alarm", span=span, alarm=alarm, duration=duration)
            (self.card.inject if mode == "alarm" else self.card.clear)(fault)
            return {"span": span, "mode": mode, "alarm": alarm}
        setter = getattr(self.card, "set_maintenance", None)
        if setter is None:
            raise RpcError("unavailable", "span loopback is not available on this card")
        setter(span, "local" if mode == "loopback" else "off")
        return {"span": span, "mode": mode}

    # -- lifecycle ------------------------------------------------------------------
    async def serve(self, *, ready: asyncio.Event | None = None,
                    stop: asyncio.Event | None = None) -> None:
        from trunkline.gateway.rpc.server import GatewayServer

        self.loop = asyncio.get_running_loop()
        cfg = self.config
        Path(cfg.socket).parent.mkdir(parents=True, exist_ok=True)
        self.server = GatewayServer(
            self.registry, unix_path=str(cfg.socket), tcp=cfg.tcp, tokens=cfg.tokens,
            tls=cfg.tls, queue_limit=cfg.queue_limit, metrics=self.metrics,
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
        await self._engine(lambda: setattr(self.engine, "draining", True))
        deadline = time.monotonic() + self.config.shutdown_grace
        while self.engine.calls and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.engine.calls:
            def clear_all() -> int:
                ids = list(self.engine.calls)
                for call_id in ids:
                    with contextlib.suppress(RpcError):
                        self.engine.hangup(call_id, 16)
                return len(ids)
            cleared = await self._engine(clear_all)
            log.info("gateway_cleared_calls", calls=cleared)
            await asyncio.sleep(0.5)
        self.engine.stop()
        await self.server.stop(grace=2.0)
        self.card.close()
        log.info("gateway_stopped")

    def reload(self) -> None:
        """SIGHUP: re-read tokens, groups and call settings (hardware untouched)."""
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
        log.info("gateway_reloaded", groups=list(fresh.groups))




__all__ = ["GatewayService", "SpanKind", "resolve_groups"]
