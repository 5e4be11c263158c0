"""The gateway's media engine: the 20 ms tick over every call, and the command queue.

One thread owns the card. Each tick the line loop (:mod:`trunkline.drivers.lineloop`)
reads a frame for every open channel and feeds signalling, timers and detection to the
call legs; the engine turns what the legs report into wire events (``wire.py``), mixes
what every call sends (``mixer.py``) and writes it back. Requests from clients never
touch the card: they are queued with :meth:`MediaEngine.submit` and run at the end of
the tick, so the tick never waits for a client and clients never race the tick.

Events go out on one bus (:meth:`MediaEngine.subscribe`): the socket server, fax
routing, recording policies and in-process clients all listen there. Operations raise
domain errors (:mod:`trunkline.errors`); the service maps them to wire codes.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import structlog

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import features
from trunkline.drivers.signalling.base import InboundPolicy, ModuleSpec
from trunkline.drivers.signalling.detection import detection_flags
from trunkline.drivers.signalling.leg import CallOptions, Leg
from trunkline.drivers.signalling.pri.signalling import PriSignalling
from trunkline.errors import CallStateError, InvalidRequest, NotFound, StateConflict
from trunkline.gateway.media import wire
from trunkline.gateway.media.bus import EventBus, Listener
from trunkline.gateway.media.calls import Call, Collect, MediaProcessor
from trunkline.gateway.media.channels import ChannelPicker
from trunkline.gateway.media.mixer import mix
from trunkline.gateway.media.play import source_for
from trunkline.gateway.recording.recorder import Recorder, RecorderFactory

log = structlog.get_logger("trunkline.gateway.engine")

__all__ = ["MAX_CALL_SECONDS", "MediaEngine", "MediaProcessor"]

T = TypeVar("T")

#: The longest a gateway call may last (a forgotten call must end some day).
MAX_CALL_SECONDS = 4 * 3600.0
#: The most calls in one conference: a three-way call, with room for a supervisor or
#: two; each member costs a subtraction per tick, the sum is shared.
MAX_CONFERENCE = 8

class MediaEngine:
    """Owns a card's line loop and runs its media tick; see the module docstring."""

    def __init__(self, card: CardABC, clock: Clock, *, zone: Zone,
                 groups: Mapping[str, list[int]], pri_switchtype: str = "euroisdn_e1",
                 pri_trace: bool = False, inbound_timeout: float = 10.0,
                 reject_cause: int = 21, metrics: Any = None,
                 recorders: RecorderFactory = Recorder,
                 signalling: Mapping[int, ModuleSpec | str] | None = None) -> None:
        self.card = card
        self.clock = clock
        self.zone = zone
        self.metrics = metrics
        #: Builds call.record's recorders (unindexed by default; the service's recording
        #: desk indexes them).
        self.recorders = recorders
        self.bus = EventBus()
        self.inbound = InboundPolicy(inbound_timeout, reject_cause)
        self.loop = LineLoop(card, zone=zone, clock=clock, listener=self._on_line,
                             inbound=self.inbound, signalling=signalling,
                             options={"pri_switchtype": pri_switchtype, "pri_trace": pri_trace})
        self.picker = ChannelPicker(self.loop, groups)
        self._overruns_seen = card.overruns
        self.calls: dict[int, Call] = {}
        #: call id -> the client's correlation tag, kept until the call's hungup is out
        self._tags: dict[int, str] = {}
        self.draining = False
        self.ticks = 0
        #: The engine's own work per tick, in seconds (the last 3000 ticks).
        self.tick_durations: deque[float] = deque(maxlen=3000)
        self._play_ids = itertools.count(1)
        self._conference_ids = itertools.count(1)
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = \
            queue.SimpleQueue()
        self._timers: list[tuple[float, int, float, Callable[[], bool | None]]] = []
        self._timer_ids = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- events ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> int:
        """Hear every event the gateway publishes (on the engine's thread); see EventBus."""
        return self.bus.subscribe(listener)

    def unsubscribe(self, token: int) -> None:
        self.bus.unsubscribe(token)

    def publish(self, event: dict[str, Any]) -> None:
        """Publish ``event``; one about a tagged call carries the call's ``tag`` (every
        event of the call, wherever in the gateway it is made)."""
        tag = self._tags.get(event.get("call"))  # type: ignore[arg-type]
        if tag is not None and "tag" not in event:
            event = {**event, "tag": tag}
        self.bus.publish(event)

    # -- groups and inbound policy (changed on reload) ---------------------------------------
    @property
    def groups(self) -> dict[str, list[int]]:
        return self.picker.groups

    @groups.setter
    def groups(self, groups: Mapping[str, list[int]]) -> None:
        self.picker.groups = dict(groups)

    @property
    def blocked(self) -> set[int]:
        return self.picker.blocked

    @property
    def inbound_timeout(self) -> float:
        return self.inbound.timeout

    @inbound_timeout.setter
    def inbound_timeout(self, seconds: float) -> None:
        self.inbound.timeout = seconds

    @property
    def reject_cause(self) -> int:
        return self.inbound.reject_cause

    @reject_cause.setter
    def reject_cause(self, cause: int) -> None:
        self.inbound.reject_cause = cause

    # -- threading ------------------------------------------------------------------------
    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run ``fn`` on the engine thread at the end of the next tick; its result in a
        Future."""
        future: Future[T] = Future()
        self._commands.put((fn, future))
        return future

    def every(self, seconds: float, fn: Callable[[], bool | None]) -> None:
        """Run ``fn`` on the engine thread from the next tick on, every ``seconds`` of
        card time, until it returns True (a fax broadcast polling its destinations).
        Engine thread only."""
        heapq.heappush(self._timers, (self.clock.now(), next(self._timer_ids), seconds, fn))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trunkline-media", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the tick must go on; log what broke
                log.exception("media_tick_failed")

    # -- the tick -------------------------------------------------------------------------
    def tick(self) -> None:
        loop = self.loop
        frames = loop.read()
        started = time.perf_counter()
        worked_from = time.thread_time()
        now = self.clock.now()
        self.ticks += 1
        loop.signal(now)
        loop.run_timers(now)
        self._collect_timeouts(now)
        loop.detect(frames, now)
        out = np.zeros((len(loop.rows), FRAME_SAMPLES), dtype=np.float32)
        mix(self.calls, frames, loop.rows, out, now=now, publish=self.publish,
            detach=self.detach_processor)
        loop.write(out)
        self._run_timers(now)
        # Client requests run last: channels they open or close change the frame layout
        # from the next read on, never under the frames of this tick.
        self._run_commands()
        self._account(time.perf_counter() - started, time.thread_time() - worked_from)

    def _run_commands(self) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as err:
                    future.set_exception(err)

    def _run_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, every, fn = heapq.heappop(self._timers)
            try:
                finished = fn()
            except Exception:
                log.exception("engine_timer_failed")
                finished = True
            if not finished:
                heapq.heappush(self._timers, (now + every, next(self._timer_ids), every, fn))

    def _account(self, elapsed: float, worked: float) -> None:
        """``elapsed``: the tick's wall-clock time; ``worked``: the CPU time its thread
        used in it. An overrun whose work fit in the period waited (for a core, the GIL,
        a lock): the machine or another thread was late, not the tick's own work."""
        self.tick_durations.append(elapsed)
        if self.metrics is not None:
            lost = self.card.overruns - self._overruns_seen
            self._overruns_seen = self.card.overruns
            self.metrics.observe_tick(elapsed, overrun=elapsed > 0.02,
                                      card_overruns=max(0, lost),
                                      overworked=worked > 0.02)
            if self.ticks % 50 == 0:  # channel states once a second
                self.metrics.set_channel_states(
                    Counter(row["state"] for row in self.channel_rows()))
                for span, module in self.loop.modules.items():
                    if isinstance(module, PriSignalling):
                        self.metrics.q921_errors_seen(span, module.q921_errors)

    # -- what the legs report -------------------------------------------------------------
    def _on_line(self, leg: Leg | None, event: Any) -> None:
        if leg is None:
            rule = wire.SPAN_EVENTS.get(type(event))
            if rule is not None:
                self.publish(rule(event))
            return
        call = self.calls.get(leg.id)
        if call is None:
            if not isinstance(event, ev.Offered):
                return
            call = self.calls[leg.id] = Call(leg, created=event.at)
        if isinstance(event, ev.HungUp):
            self._end(call, event.outcome, event.cause, by=event.by)
            return
        for item in wire.translate(call, event):
            if item["event"] == "call.state":
                log.info("call_state", call=call.id, span=call.span, channel=call.channel,
                         number=call.number, **{k: v for k, v in item.items()
                                                if k not in ("event", "call", "span",
                                                             "channel")})
            self.publish(item)
        if isinstance(event, ev.DigitReceived):
            self._digit(call, event.digit)

    def _end(self, call: Call, outcome: str | None, cause: int | None, *, by: str | None
             ) -> None:
        call.outcome, call.cause = outcome or "error", cause
        self.detach_processor(call.id)
        if call.recorder is not None:
            self._stop_recording(call)
        if call.bridged_to is not None:
            self._unbridge(call)
        if call.conference is not None:
            self._leave_conference(call)
        for other in self.calls.values():
            if other.listening_to == call.id:
                other.listening_to = None
        if call.collect is not None and call.collect.future is not None:
            call.collect.future.set_result({"digits": call.collect.digits, "reason": "hangup"})
            call.collect = None
        self.calls.pop(call.id, None)
        log.info("call_ended", call=call.id, span=call.span, channel=call.channel,
                 number=call.number, outcome=call.outcome, cause=cause, by=by,
                 answered_by=call.answered_by)
        self.publish(wire.hungup(call, by))
        self._tags.pop(call.id, None)
        if self.metrics is not None:
            self.metrics.call_finished(call.outcome)

    # -- calls ----------------------------------------------------------------------------
    def call(self, call_id: int) -> Call:
        """The call ``call_id``; NotFound when there is none (any more)."""
        call = self.calls.get(call_id)
        if call is None:
            raise NotFound(f"no call {call_id} (it may have ended)")
        return call

    def originate(self, number: str, *, group: str | None = None, span: int | None = None,
                  channel: int | None = None, caller_id: str | None = None,
                  caller_name: str | None = None, ring_timeout: float = 45.0,
                  detect: dict[str, Any] | None = None,
                  tag: str | None = None) -> dict[str, Any]:
        """Place a call; its events follow on the bus, each with ``tag`` when one is
        given. Returns the call's info."""
        if self.draining:
            raise StateConflict("the gateway is shutting down: no new calls")
        try:
            flags = detection_flags(detect or {})
        except ValueError as err:
            raise InvalidRequest(str(err)) from None
        for label, text in (("caller_id", caller_id), ("caller_name", caller_name)):
            # What a phone's caller ID display can show (GR-30-CORE: ASCII only).
            if text is not None and not (text.isascii() and text.isprintable()):
                raise InvalidRequest(f"{label} {text!r} must be printable ASCII")
        span_no, ch = self.picker.pick(group=group, span=span, channel=channel)
        options = CallOptions(number, ring_timeout=ring_timeout, max_duration=MAX_CALL_SECONDS,
                              amd=flags.get("amd", True), detect=features(**flags),
                              calling=caller_id, calling_name=caller_name)
        leg = self.loop.module(span_no).outbound(self.loop.next_id(), ch, options)
        call = self.calls[leg.id] = Call(leg, created=self.clock.now(),
                                         detect=dict(detect or {}), tag=tag)
        if tag is not None:
            self._tags[leg.id] = tag
        try:
            self.loop.place(leg)
        except BaseException:
            del self.calls[leg.id]  # refused as it started: no call was placed
            self._tags.pop(leg.id, None)
            raise
        return call.info()

    def answer(self, call_id: int) -> dict[str, Any]:
        call = self.call(call_id)
        if call.direction != "inbound" or call.state != "offered":
            raise CallStateError(f"cannot answer call {call_id}: it is {call.direction} "
                                 f"and {call.state}")
        self.loop.answer(call.leg)
        return call.info()

    def hangup(self, call_id: int, cause: int = 16) -> dict[str, Any]:
        call = self.call(call_id)
        self.loop.hangup(call.leg, cause)
        return {"call": call_id, "state": call.state}

    def play(self, call_id: int, spec: dict[str, Any]) -> dict[str, Any]:
        call = self.call(call_id)
        if call.play is not None:
            self.publish({"event": "play.finished", "call": call.id, "channel": call.channel,
                          "play": call.play.play_id, "reason": "replaced"})
        call.play = source_for(spec, self.zone, next(self._play_ids))
        return {"call": call_id, "play": call.play.play_id, "source": call.play.name}

    def stop_play(self, call_id: int) -> dict[str, Any]:
        call = self.call(call_id)
        if call.play is None:
            return {"call": call_id, "stopped": None}
        play_id = call.play.play_id
        self.publish({"event": "play.finished", "call": call.id, "channel": call.channel,
                      "play": play_id, "reason": "stopped"})
        call.play = None
        return {"call": call_id, "stopped": play_id}

    def send_dtmf(self, call_id: int, digits: str, on_ms: int, off_ms: int) -> dict[str, Any]:
        """Digits as tones in the call's audio, or, where the line's signalling carries
        them (a mobile module: AT+VTS), as signalling (no play, no play.finished)."""
        call = self.call(call_id)
        if call.leg.digits_out_of_band:
            self.loop.send_digits(call.leg, digits)
            return {"call": call_id, "digits": digits, "sent": "signalling"}
        return self.play(call_id, {"digits": digits, "on_ms": on_ms, "off_ms": off_ms})

    # -- recording ------------------------------------------------------------------------
    def record(self, call_id: int, action: str, path: str | None, encoding: str) -> dict[str, Any]:
        call = self.call(call_id)
        if action == "start":
            if call.recorder is not None:
                raise CallStateError(f"call {call_id} is already recording to "
                                     f"{call.recorder.path}")
            if not path:
                raise InvalidRequest("record start needs a 'path'")
            recorder = self.recorders(Path(path), encoding,
                                      recording_id=next(self._play_ids))
            recorder.open()
            call.recorder = recorder
            return {"call": call_id, "recording": str(recorder.path)}
        if action == "stop":
            if call.recorder is None:
                raise CallStateError(f"call {call_id} is not recording")
            return self._stop_recording(call)
        raise InvalidRequest(f"record action must be 'start' or 'stop', not {action!r}")

    def _stop_recording(self, call: Call) -> dict[str, Any]:
        assert call.recorder is not None
        recorder, call.recorder = call.recorder, None
        duration = recorder.close()
        path = str(recorder.final_path or recorder.path)
        failure = recorder.take_failure()  # one that only finishing met (a rename)
        if failure is not None:
            self.publish({"event": "recording.failed", "call": call.id,
                          "channel": call.channel, "path": path, "error": failure,
                          "duration": round(duration, 3)})
        event = {"event": "recording.finished", "call": call.id, "channel": call.channel,
                 "path": path, "duration": round(duration, 3)}
        if recorder.error is not None:  # the stop reply must not read as a success
            event["error"] = recorder.error
        self.publish(event)
        return {k: v for k, v in event.items() if k != "event"}

    # -- bridging and monitoring ----------------------------------------------------------
    def bridge(self, a: int, b: int) -> dict[str, Any]:
        first, second = self.call(a), self.call(b)
        if a == b:
            raise InvalidRequest("cannot bridge a call to itself")
        for call in (first, second):
            if call.bridged_to is not None:
                raise CallStateError(f"call {call.id} is already bridged to "
                                     f"{call.bridged_to}")
            if call.conference is not None:
                raise CallStateError(f"call {call.id} is in conference {call.conference}")
            if call.state not in ("answered", "bridged"):
                raise CallStateError(f"cannot bridge call {call.id}: it is {call.state}")
        first.bridged_to, second.bridged_to = b, a
        for call in (first, second):
            self._publish_state(call, "bridged", peer=call.bridged_to)
        return {"bridged": [a, b]}

    def unbridge(self, call_id: int) -> dict[str, Any]:
        call = self.call(call_id)
        if call.bridged_to is None:
            raise CallStateError(f"call {call_id} is not bridged")
        peer = call.bridged_to
        self._unbridge(call)
        self._publish_state(call, "answered", by=call.answered_by or "unknown")
        return {"unbridged": [call_id, peer]}

    def _unbridge(self, call: Call) -> None:
        peer = self.calls.get(call.bridged_to) if call.bridged_to else None
        call.bridged_to = None
        if peer is not None:
            peer.bridged_to = None
            if peer.state == "bridged":
                self._publish_state(peer, "answered", by=peer.answered_by or "unknown")

    def conference(self, call_ids: list[int], conference: int | None = None
                   ) -> dict[str, Any]:
        """Join answered calls in a conference: each hears the sum of the others (a
        three-way call: customer, agent and a consulted party). ``conference`` adds the
        calls to an existing one. Bridged calls among them are unbridged first; a call
        bridged to a call outside them, or in another conference, is refused."""
        if len(set(call_ids)) != len(call_ids):
            raise InvalidRequest("a call is listed twice")
        calls = [self.call(c) for c in call_ids]
        members = [c for c in self.calls.values()
                   if conference is not None and c.conference == conference]
        if conference is not None and not members:
            raise NotFound(f"no conference {conference}")
        if len(members) + len(calls) < 2:
            raise InvalidRequest("a conference needs at least two calls")
        if len(members) + len(calls) > MAX_CONFERENCE:
            raise InvalidRequest(f"a conference has at most {MAX_CONFERENCE} calls")
        for call in calls:
            if call.state not in ("answered", "bridged"):
                raise CallStateError(f"cannot join call {call.id}: it is {call.state}")
            if call.conference is not None:
                raise CallStateError(f"call {call.id} is in conference {call.conference}")
            if call.bridged_to is not None and call.bridged_to not in call_ids:
                raise CallStateError(f"call {call.id} is bridged to {call.bridged_to}, "
                                     "which is not joining")
        for call in calls:
            if call.bridged_to is not None:
                self._unbridge(call)
        number = conference if conference is not None else next(self._conference_ids)
        for call in calls:
            call.conference = number
            if call.state == "answered":
                self._publish_state(call, "bridged", conference=number)
        return {"conference": number,
                "calls": sorted(c.id for c in self.calls.values() if c.conference == number)}

    def leave_conference(self, call_id: int) -> dict[str, Any]:
        """Take ``call`` out of its conference; a conference left with one call ends."""
        call = self.call(call_id)
        if call.conference is None:
            raise CallStateError(f"call {call_id} is not in a conference")
        number = call.conference
        self._leave_conference(call)
        self._publish_state(call, "answered", by=call.answered_by or "unknown")
        return {"conference": number, "left": call_id}

    def _leave_conference(self, call: Call) -> None:
        number, call.conference = call.conference, None
        rest = [c for c in self.calls.values() if c.conference == number and c is not call]
        if len(rest) == 1:
            rest[0].conference = None
            if rest[0].state == "bridged":
                self._publish_state(rest[0], "answered", by=rest[0].answered_by or "unknown")

    def _publish_state(self, call: Call, state: str, **extra: Any) -> None:
        for item in wire.state_event(call, state, **extra):
            log.info("call_state", call=call.id, span=call.span, channel=call.channel,
                     number=call.number, state=state, **extra)
            self.publish(item)

    def listen(self, listener: int, target: int | None) -> dict[str, Any]:
        call = self.call(listener)
        if target is not None:
            self.call(target)
            if target == listener:
                raise InvalidRequest("a call cannot listen to itself")
        call.listening_to, call.monitor_mode = target, "listen"
        return {"call": listener, "listening_to": target}

    # -- digits ---------------------------------------------------------------------------
    def collect_dtmf(self, call_id: int, max_digits: int, timeout: float,
                     terminator: str) -> Future[dict[str, Any]]:
        call = self.call(call_id)
        if call.collect is not None:
            raise CallStateError(f"call {call_id} is already collecting digits")
        future: Future[dict[str, Any]] = Future()
        call.collect = Collect(max_digits, timeout, terminator, self.clock.now(), future=future)
        return future

    def _digit(self, call: Call, digit: str) -> None:
        c = call.collect
        if c is None:
            return
        if c.terminator and digit in c.terminator:
            self._finish_collect(call, "terminator")
            return
        c.digits += digit
        if len(c.digits) >= c.max_digits:
            self._finish_collect(call, "max_digits")

    def _collect_timeouts(self, now: float) -> None:
        for call in list(self.calls.values()):
            c = call.collect
            if c is not None and now - c.started >= c.timeout:
                self._finish_collect(call, "timeout")

    def _finish_collect(self, call: Call, reason: str) -> None:
        c, call.collect = call.collect, None
        if c is not None and c.future is not None and not c.future.done():
            c.future.set_result({"call": call.id, "digits": c.digits, "reason": reason})

    # -- media processors -----------------------------------------------------------------
    def attach_processor(self, call_id: int, processor: MediaProcessor) -> None:
        """Hand the call's audio to ``processor`` (engine thread only)."""
        call = self.call(call_id)
        if call.processor is not None:
            raise CallStateError(f"call {call_id} already has a media processor")
        call.processor = processor

    def detach_processor(self, call_id: int) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.processor is not None:
            processor, call.processor = call.processor, None
            processor.close()

    # -- channels -------------------------------------------------------------------------
    def set_blocked(self, channel: int, blocked: bool) -> dict[str, Any]:
        self.card.channel(channel)
        module = self.loop.module_of(channel)
        if module is not None:
            # MFC/R2 and SS7 tell the far end too, so it offers no calls there either.
            module.block_circuit(self.clock.now(), channel, blocked)
        if blocked:
            self.picker.blocked.add(channel)
        else:
            self.picker.blocked.discard(channel)
        self.publish({"event": "channel.state", "channel": channel,
                      "state": "blocked" if blocked else "unblocked"})
        return {"channel": channel, "blocked": blocked}

    def channel_rows(self) -> list[dict[str, Any]]:
        rows = []
        for span in self.card.spans:
            for ch in span.channels:
                leg = self.loop.by_channel.get(ch)
                state = "blocked" if ch in self.picker.blocked \
                    else self.card.channel_state(ch).value
                rows.append({"channel": ch, "span": span.number,
                             "signalling": self.card.channel(ch).signalling.value,
                             "state": state, "call": None if leg is None else leg.id})
        return rows

    def link_up(self, span: int) -> bool | None:
        """Whether ``span``'s D-channel is up (None: the span has none)."""
        module = self.loop.modules.get(span)
        return None if module is None else module.link_up

    def signalling_state(self, span: int) -> dict[str, Any] | None:
        """What ``span``'s signalling knows of its circuits and links, where it keeps
        such state (MFC/R2 line states per timeslot; an SS7 linkset's links and
        circuits); None otherwise."""
        module = self.loop.modules.get(span)
        return None if module is None else module.state()

    def close(self) -> None:
        """Stop driving the card's lines (the card itself stays open)."""
        self.loop.close()
