"""The gateway's methods for calls, channels and spans (docs/gateway.md).

Each is declared once, with its role and parameters, on the service's
:class:`~trunkline.gateway.rpc.registry.MethodRegistry`: the socket server and the
in-process gateway (:class:`~trunkline.gateway.testing.VirtualGateway`) dispatch
through the same registry, so both check, default and refuse alike. Handlers that touch
the card run on the engine's thread (``service.run``); they raise domain errors, which
the registry turns into wire codes.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from trunkline import __version__
from trunkline.gateway.rpc.registry import Param

if TYPE_CHECKING:
    from trunkline.gateway.service import GatewayService

__all__ = ["CALL", "register_call_methods"]

CALL = {"call": Param(int, required=True, doc="the call id")}


def _string_keys(value: Any) -> Any:
    """``value`` with every map key a string: msgpack clients (ours among them) refuse
    integer keys by default, and JSON has none."""
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    return value


def register_call_methods(service: GatewayService) -> None:
    """Add system, span, channel and call methods to ``service.registry``."""
    r = service.registry
    engine = service.engine
    card = service.card
    run = service.run

    @r.method("system.info", role="monitor")
    def system_info(session: Any) -> dict[str, Any]:
        """Version, card, uptime and media-tick statistics."""
        return {"version": __version__, "card": card.name, "backend": card.backend,
                "spans": len(card.spans),
                "channels": sum(len(s.channels) for s in card.spans),
                "uptime": round(time.time() - service.started, 1),
                "ticks": engine.ticks, "calls": len(engine.calls),
                "overruns": card.overruns, "draining": engine.draining}

    @r.method("spans.list", role="monitor")
    async def spans_list(session: Any) -> list[dict[str, Any]]:
        """Every span: kind, signalling, alarms, counters, D-channel state; for MFC/R2
        and SS7 spans the state of their circuits and links."""
        def collect() -> list[dict[str, Any]]:
            out = []
            for s in card.spans:
                st = card.span_status(s.number)
                out.append({
                    "span": s.number, "kind": s.kind.value, "signalling": s.signalling.value,
                    "description": s.description,
                    "alarms": st.alarms.name or "OK" if st.alarms else "OK",
                    "counters": {k: getattr(st.counters, k) for k in st.counters.__slots__},
                    "channels": len(s.channels), "dchannel": s.dchannel,
                    "dchannel_up": engine.link_up(s.number),
                })
                state = engine.signalling_state(s.number)
                if state is not None:  # MFC/R2 and SS7 spans (docs/gateway.md)
                    out[-1]["signalling_state"] = _string_keys(state)
            return out
        return await run(collect)

    @r.method("channels.list", role="monitor", params={"span": Param(int, doc="only this span")})
    async def channels_list(session: Any, span: int | None = None) -> list[dict[str, Any]]:
        """Every channel: signalling, state, and the call on it."""
        if span is not None:
            card.span(span)  # not_found for a span the card does not have
        rows = await run(engine.channel_rows)
        return [row for row in rows if span is None or row["span"] == span]

    @r.method("groups.list", role="monitor")
    def groups_list(session: Any) -> dict[str, Any]:
        """Channel groups calls can be placed on."""
        return {name: chans for name, chans in engine.groups.items()}

    @r.method("calls.list", role="monitor")
    async def calls_list(session: Any) -> list[dict[str, Any]]:
        """The calls in progress."""
        return await run(lambda: [c.info() for c in engine.calls.values()])

    @r.method("call.originate", role="control", params={
        "number": Param(str, required=True, doc="the number to dial"),
        "group": Param(str, doc="a channel group (default 'outbound')"),
        "span": Param(int, doc="a span to place the call on"),
        "channel": Param(int, doc="a channel to place the call on"),
        "caller_id": Param(str, doc="calling party number (PRI, SS7; on an FXS port "
                                    "with caller ID, the number its phone shows)"),
        "caller_name": Param(str, maximum=64, doc="on an FXS port with caller ID, the "
                                                  "name its phone shows (printable ASCII)"),
        "ring_timeout": Param(float, default=45.0, minimum=1, maximum=600),
        "detect": Param(dict, default={}, doc="call_progress, amd, fax, announcements"),
        "tag": Param(str, minimum=1, maximum=128,
                     doc="a correlation tag the client chooses; every event of the call "
                         "and its calls.list row carry it"),
    })
    async def originate(session: Any, number: str, group: str | None = None,
                        span: int | None = None, channel: int | None = None,
                        caller_id: str | None = None, caller_name: str | None = None,
                        ring_timeout: float = 45.0, detect: dict[str, Any] | None = None,
                        tag: str | None = None) -> dict[str, Any]:
        """Place an outbound call; events follow on call.state (each with the call's
        ``tag`` when one was given)."""
        return await run(lambda: engine.originate(
            number, group=group, span=span, channel=channel, caller_id=caller_id,
            caller_name=caller_name, ring_timeout=ring_timeout, detect=detect, tag=tag))

    @r.method("call.answer", role="control", params=CALL)
    async def answer(session: Any, call: int) -> dict[str, Any]:
        """Answer an offered inbound call."""
        return await run(lambda: engine.answer(call))

    @r.method("call.hangup", role="control",
              params={**CALL, "cause": Param(int, default=16, minimum=1, maximum=127)})
    async def hangup(session: Any, call: int, cause: int = 16) -> dict[str, Any]:
        """Clear a call (Q.850 cause on PRI)."""
        return await run(lambda: engine.hangup(call, cause))

    @r.method("call.play", role="control", params={
        **CALL, "file": Param(str), "tone": Param(str), "digits": Param(str),
        "loop": Param(bool, default=False),
        "wait_silence": Param(float, default=0.0, minimum=0, maximum=30),
        "wait_max": Param(float, default=30.0, minimum=0.1, maximum=120)})
    async def play(session: Any, call: int, file: str | None = None, tone: str | None = None,
                   digits: str | None = None, loop: bool = False, wait_silence: float = 0.0,
                   wait_max: float = 30.0) -> dict[str, Any]:
        """Play a WAV file, a zone tone or DTMF digits into the call; with
        ``wait_silence`` the start waits until the far end has been quiet that long
        (at most ``wait_max``): a message left after an answering machine's beep."""
        if file is not None:
            file = str(service.paths.prompts.file_to_read(file, method="call.play",
                                                          param="file"))
        spec = {"file": file, "tone": tone, "digits": digits, "loop": loop,
                "wait_silence": wait_silence, "wait_max": wait_max}
        return await run(lambda: engine.play(call, spec))

    @r.method("call.stop_play", role="control", params=CALL)
    async def stop_play(session: Any, call: int) -> dict[str, Any]:
        """Stop what the call is playing."""
        return await run(lambda: engine.stop_play(call))

    @r.method("call.record", role="control", params={
        **CALL, "action": Param(str, default="start", choices=("start", "stop")),
        "path": Param(str), "encoding": Param(str, default="pcm16",
                                              choices=("pcm16", "alaw", "ulaw"))})
    async def record(session: Any, call: int, action: str = "start", path: str | None = None,
                     encoding: str = "pcm16") -> dict[str, Any]:
        """Start or stop recording a call to a stereo WAV file (in the recordings
        folder: a relative path is taken there)."""
        if action == "start" and path is not None:
            path = str(service.paths.recordings.file_to_write(path, method="call.record",
                                                              param="path"))
        return await run(lambda: engine.record(call, action, path, encoding))

    @r.method("call.send_dtmf", role="control", params={
        **CALL, "digits": Param(str, required=True),
        "on_ms": Param(int, default=100, minimum=40, maximum=1000),
        "off_ms": Param(int, default=100, minimum=40, maximum=1000)})
    async def send_dtmf(session: Any, call: int, digits: str, on_ms: int = 100,
                        off_ms: int = 100) -> dict[str, Any]:
        """Send DTMF digits in band."""
        return await run(lambda: engine.send_dtmf(call, digits, on_ms, off_ms))

    @r.method("call.collect_dtmf", role="control", params={
        **CALL, "max_digits": Param(int, default=1, minimum=1, maximum=64),
        "timeout": Param(float, default=10.0, minimum=0.1, maximum=600),
        "terminator": Param(str, default="#")})
    async def collect_dtmf(session: Any, call: int, max_digits: int = 1, timeout: float = 10.0,
                           terminator: str = "#") -> dict[str, Any]:
        """Wait for digits: until max_digits, the terminator or the timeout."""
        future = await run(lambda: engine.collect_dtmf(call, max_digits, timeout, terminator))
        return await asyncio.wrap_future(future)

    @r.method("call.bridge", role="control", params={
        "call": Param(int, required=True), "other": Param(int, required=True)})
    async def bridge(session: Any, call: int, other: int) -> dict[str, Any]:
        """Connect two answered calls' audio (e.g. customer and agent)."""
        return await run(lambda: engine.bridge(call, other))

    @r.method("call.unbridge", role="control", params=CALL)
    async def unbridge(session: Any, call: int) -> dict[str, Any]:
        """Separate a bridged call from its peer."""
        return await run(lambda: engine.unbridge(call))

    @r.method("call.conference", role="control", params={
        "calls": Param(list, required=True, items=int, minimum=1, maximum=8,
                       doc="the calls to join (answered)"),
        "conference": Param(int, doc="an existing conference to add them to")})
    async def conference(session: Any, calls: list[int], conference: int | None = None
                         ) -> dict[str, Any]:
        """Join calls in a conference: each hears all the others (a three-way call)."""
        return await run(lambda: engine.conference(calls, conference))

    @r.method("call.leave_conference", role="control", params=CALL)
    async def leave_conference(session: Any, call: int) -> dict[str, Any]:
        """Take a call out of its conference; one left alone leaves it too."""
        return await run(lambda: engine.leave_conference(call))

    @r.method("call.listen", role="control", params={
        **CALL, "target": Param(int, doc="the call to monitor; omit to stop")})
    async def listen(session: Any, call: int, target: int | None = None) -> dict[str, Any]:
        """Let ``call`` (a supervisor) hear both sides of ``target`` silently."""
        return await run(lambda: engine.listen(call, target))

    @r.method("channel.block", role="admin", params={"channel": Param(int, required=True)})
    async def block(session: Any, channel: int) -> dict[str, Any]:
        """Take a channel out of service for new calls."""
        return await run(lambda: engine.set_blocked(channel, True))

    @r.method("channel.unblock", role="admin", params={"channel": Param(int, required=True)})
    async def unblock(session: Any, channel: int) -> dict[str, Any]:
        """Return a blocked channel to service."""
        return await run(lambda: engine.set_blocked(channel, False))

    @r.method("span.maintenance", role="admin", params={
        "span": Param(int, required=True),
        "mode": Param(str, required=True, choices=("alarm", "clear", "loopback", "off")),
        "alarm": Param(str, default="red", choices=("red", "yellow", "blue")),
        "duration": Param(float, minimum=0.02, maximum=86400)})
    async def maintenance(session: Any, span: int, mode: str, alarm: str = "red",
                          duration: float | None = None) -> dict[str, Any]:
        """Simulate an alarm, or set a loopback, on a span."""
        def apply() -> dict[str, Any]:
            if mode in ("alarm", "clear"):
                card.simulate_alarm(span, alarm, on=mode == "alarm", duration=duration)
                return {"span": span, "mode": mode, "alarm": alarm}
            card.set_maintenance(span, "local" if mode == "loopback" else "off")
            return {"span": span, "mode": mode}
        return await run(apply)
