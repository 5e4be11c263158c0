"""The gateway's media engine: the 20 ms tick over every open channel.

One thread owns the card. Each tick it reads a frame for every open channel, feeds
signalling (card events, PRI), drives each call's controller (progress, answer, AMD),
mixes what every channel sends (playback, bridged peers, supervisor monitoring),
writes recordings, and publishes events. Requests from clients do not touch the card:
they are queued with :meth:`MediaEngine.submit` and run at the start of the next tick,
so the tick never waits for a client and clients never race the tick.

Calls are kept apart from channels (DESIGN.md): a call has an id for its whole life,
and names the channel it holds while it holds one.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import structlog

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.detection_ops import CALL_PROGRESS, DetectorOp
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.fxo_call import DialAction, FxoCall, HookAction
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    Alarm,
    ChannelSignalling,
    ChannelState,
    EventKind,
    HookOp,
    SpanKind,
    SpanSignalling,
)
from trunkline.drivers.pri_call import ClearAction, PriCall, SetupAction
from trunkline.gateway.media.play import PlaySource, source_for
from trunkline.gateway.recording.recorder import Recorder, RecorderFactory
from trunkline.gateway.rpc.registry import RpcError

log = structlog.get_logger("trunkline.gateway.media.engine")

#: call.state names (docs/protocol.md).
STATES = ("dialing", "proceeding", "ringing", "early_media", "answered", "bridged",
          "hungup", "offered")


#: call.originate's ``detect`` options and the detector features they switch.
DETECT_OPTIONS = {"call_progress": "progress", "amd": "amd", "fax": "fax",
                  "announcements": "announcements"}


def detection_flags(detect: dict) -> dict[str, bool]:
    """Detector flags from ``detect`` (all on by default); unknown keys are refused."""
    unknown = sorted(set(detect) - set(DETECT_OPTIONS))
    if unknown:
        raise RpcError("invalid_params", f"call.originate: unknown detect option(s) "
                       f"{', '.join(map(repr, unknown))}; known: {', '.join(DETECT_OPTIONS)}")
    for key, value in detect.items():
        if not isinstance(value, bool):
            raise RpcError("invalid_params", f"call.originate: detect.{key} must be true or "
                           f"false, not {value!r}")
    return {DETECT_OPTIONS[k]: v for k, v in detect.items()}


class MediaProcessor(Protocol):
    """Something that runs on a call's audio every tick (a fax terminal, for one).

    ``process`` gets the 160 samples the call received this tick and returns the 160 to
    send (or None to send nothing of its own), and events to publish. ``done`` ends it;
    ``close`` is called when it is detached or the call ends.
    """

    def process(self, received: np.ndarray, now: float) -> tuple[np.ndarray | None,
                                                                  list[dict]]: ...

    @property
    def done(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class Collect:
    max_digits: int
    timeout: float
    terminator: str
    started: float
    digits: str = ""
    future: Future | None = None


@dataclass
class Call:
    id: int
    direction: str
    kind: str  # fxo | pri | fxs
    number: str
    span: int
    channel: int | None = None
    controller: Any = None
    state: str = "new"
    answered_by: str | None = None
    outcome: str | None = None
    cause: int | None = None
    created: float = 0.0
    answered_at: float | None = None
    play: PlaySource | None = None
    recorder: Recorder | None = None
    bridged_to: int | None = None
    listening_to: int | None = None
    collect: Collect | None = None
    detect: dict = field(default_factory=dict)
    cursor: int = 0
    pri_call: int | None = None
    offered_until: float | None = None
    detecting: str | None = None
    processor: Any = None
    """A :class:`MediaProcessor` that takes over the call's audio (fax, IVR...)."""

    def info(self) -> dict[str, Any]:
        return {"call": self.id, "direction": self.direction, "kind": self.kind,
                "number": self.number, "span": self.span, "channel": self.channel,
                "state": self.state, "answered_by": self.answered_by,
                "outcome": self.outcome, "cause": self.cause,
                "bridged_to": self.bridged_to, "listening_to": self.listening_to,
                "recording": str(self.recorder.path) if self.recorder else None}


class MediaEngine:
    """Owns a card and runs its media tick; see the module docstring."""

    def __init__(self, card: CardABC, clock: Clock, *, zone: Zone,
                 publish: Callable[[dict], None], groups: dict[str, list[int]],
                 pri_switchtype: str = "euroisdn_e1", pri_trace: bool = False,
                 inbound_timeout: float = 10.0, reject_cause: int = 21,
                 metrics: Any = None, recorder_factory: RecorderFactory = Recorder) -> None:
        self.card = card
        self.clock = clock
        self.zone = zone
        self.publish = publish
        self.groups = groups
        self.inbound_timeout = inbound_timeout
        self.reject_cause = reject_cause
        self.metrics = metrics
        self._new_recorder = recorder_factory  # call.record's (unindexed by default)
        self.calls: dict[int, Call] = {}
        self._by_channel: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._play_ids = itertools.count(1)
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.blocked: set[int] = set()
        self.ticks = 0
        self.overruns = 0
        #: The engine's own work per tick, in seconds (the last 3000 ticks).
        self.tick_durations: deque[float] = deque(maxlen=3000)
        self._pri: dict[int, Any] = {}
        self._pri_up: dict[int, bool] = {}
        self._pri_first: dict[int, int] = {}
        for span in card.spans:
            if span.signalling is SpanSignalling.PRI:
                from trunkline.drivers.signalling.pri.span import PriSpan

                self._pri[span.number] = PriSpan(card.dchannel(span.number), role="cpe",
                                                 clock=clock, span_id=span.number,
                                                 switchtype=pri_switchtype, trace=pri_trace,
                                                 law=span.law)
                self._pri_up[span.number] = False
                self._pri_first[span.number] = span.channels[0]
        # Analog ports are always open: their ring and hook events must be seen, and
        # an FXO line must be read to hear dial tone.
        self._analog = [c for s in card.spans if s.kind in (SpanKind.FXO, SpanKind.FXS)
                        for c in s.channels]
        card.open(self._analog)
        self.draining = False
        from trunkline.drivers.dsp.detector import Detector
        from trunkline.runtime import limit_blas_threads

        limit_blas_threads()

        # In-call detection (DTMF from callers and agents) on answered calls; progress
        # and answer classification run in each call's controller.
        self.detector = Detector(zone, max_channels=max(card.channels) + 1)

    # -- threading ------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any]) -> Future:
        """Run ``fn`` on the engine thread at the next tick; its result in a Future."""
        future: Future = Future()
        self._commands.put((fn, future))
        return future

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
            except Exception:  # the tick must go on; log and count what broke
                log.exception("media_tick_failed")

    # -- the tick -------------------------------------------------------------------
    def tick(self) -> None:
        frames = self.card.read_frames()
        started = time.perf_counter()
        now = self.clock.now()
        self.ticks += 1
        rows = {ch: self.card.row(ch) for ch in self.card.open_channels}
        self._card_events(now)
        self._pri_events(now)
        out = np.zeros((len(rows), FRAME_SAMPLES), dtype=np.float32)
        for call in list(self.calls.values()):
            self._drive(call, now, frames, rows)
        self._detect(frames, rows)
        self._mix(frames, rows, out)
        if out.shape[0] != len(self.card.open_channels):
            # A PRI call moved channel during the tick: rebuild the reply in the new order.
            reply = np.zeros((len(self.card.open_channels), FRAME_SAMPLES), np.float32)
            for ch, row in rows.items():
                if ch in self.card.open_channels:
                    reply[self.card.row(ch)] = out[row]
            out = reply
        self.card.write_frames(np.clip(np.rint(out), -32768, 32767).astype(np.int16))
        # Client requests run last: channels they open or close change the frame layout
        # from the next read on, never under the frames of this tick.
        self._run_commands()
        elapsed = time.perf_counter() - started
        self.tick_durations.append(elapsed)
        if self.metrics is not None:
            self.metrics.observe_tick(elapsed)

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

    # -- signalling -----------------------------------------------------------------
    def _card_events(self, now: float) -> None:
        for event in self.card.poll_events():
            if event.kind in (EventKind.ALARM, EventKind.NOALARM):
                self.publish({"event": "alarm", "span": event.span,
                              "alarms": Alarm(event.value or 0).name or "OK"})
                continue
            call = self.calls.get(self._by_channel.get(event.channel, -1))
            if call is not None and call.kind == "fxo" and call.direction == "outbound":
                self._apply_fxo(call, call.controller.on_event(event))
            elif call is not None and call.kind == "fxs":
                self._fxs_event(call, event, now)
            elif call is not None and call.kind == "fxo" and call.direction == "inbound":
                if event.kind is EventKind.ONHOOK and call.state == "answered":
                    self._end(call, "human", None, by="far_end")
            elif event.kind is EventKind.RING_BEGIN and event.channel not in self._by_channel:
                self._offer_fxo(event.channel, now)
            elif event.kind in (EventKind.OFFHOOK, EventKind.ONHOOK):
                self.publish({"event": "channel.state", "channel": event.channel,
                              "span": event.span, "state": event.kind.value})

    def _pri_events(self, now: float) -> None:
        from trunkline.drivers.signalling.pri import events as pev

        for span, pri in self._pri.items():
            for event in pri.poll(now):
                if isinstance(event, pev.DChannelUp):
                    self._pri_up[span] = True
                    self.publish({"event": "alarm", "span": span, "dchannel": "up"})
                elif isinstance(event, pev.DChannelDown):
                    self._pri_up[span] = False
                    self.publish({"event": "alarm", "span": span, "dchannel": "down",
                                  "reason": event.reason})
                elif isinstance(event, pev.IncomingCall):
                    self._offer_pri(span, event, now)
                elif isinstance(event, pev.CallEvent):
                    call = next((c for c in self.calls.values()
                                 if c.kind == "pri" and c.span == span
                                 and c.pri_call == event.call), None)
                    if call is None:
                        continue
                    if call.direction == "outbound":
                        self._apply_pri(call, call.controller.on_event(now, event))
                        self._translate(call, now)
                    else:
                        self._inbound_pri_event(call, event)

    # -- driving calls --------------------------------------------------------------
    def _drive(self, call: Call, now: float, frames: np.ndarray, rows: dict[int, int]) -> None:
        if call.offered_until is not None and call.state == "offered" \
                and now >= call.offered_until:
            self._reject_unclaimed(call)
            return
        if call.kind == "pri" and call.direction == "outbound" and call.controller.quiet:
            # A connected PRI call changes only by Q.931 events (handled as they come);
            # its max-duration deadline is checked once a second.
            if (self.ticks + call.id) % 50 == 0:
                self._apply_pri(call, call.controller.on_time(now))
                self._translate(call, now)
            return
        if call.kind == "fxo" and call.direction == "outbound":
            self._apply_fxo(call, call.controller.on_time(now))
        elif call.kind == "pri" and call.direction == "outbound":
            self._follow_pri_channel(call)
            self._apply_pri(call, call.controller.on_time(now))
        if call.controller is not None:
            self._translate(call, now)
        if call.collect is not None:
            self._collect_timeout(call, now)

    def _apply_fxo(self, call: Call, actions: list) -> None:
        for action in actions:
            if isinstance(action, DetectorOp):
                self._detector_op(call, action)
            elif isinstance(action, HookAction):
                self.card.hook(call.channel, action.op)  # type: ignore[arg-type]
            elif isinstance(action, DialAction):
                self.card.dial(call.channel, action.digits, action.mode)  # type: ignore[arg-type]

    def _apply_pri(self, call: Call, actions: list) -> None:
        pri = self._pri[call.span]
        for action in actions:
            if isinstance(action, SetupAction):
                cid = pri.setup(action.called, calling=action.calling)
                call.pri_call = cid
                call.controller.on_setup_sent(cid, pri.call(cid).channel)
                self._follow_pri_channel(call)
            elif isinstance(action, ClearAction) and call.pri_call is not None:
                pri.hangup(call.pri_call, action.cause)
            elif isinstance(action, DetectorOp):
                self._detector_op(call, action)

    def _follow_pri_channel(self, call: Call) -> None:
        ts = call.controller.channel if call.controller is not None else None
        wanted = None if ts is None else self._pri_first[call.span] + ts - 1
        if wanted == call.channel:
            return
        if call.channel is not None:
            self._release_channel(call)
        if wanted is not None:
            call.channel = wanted
            self._by_channel[wanted] = call.id
            self.card.open(wanted)
            self._detect_on(call, "progress")

    def _translate(self, call: Call, now: float) -> None:
        """Turn the controller's new observations into gateway events."""
        events = call.controller.events
        while call.cursor < len(events):
            e = events[call.cursor]
            call.cursor += 1
            kind = e["event"]
            base = {"call": call.id, "span": call.span, "channel": call.channel}
            if kind in ("seized", "setup"):
                self._state(call, "dialing")
            elif kind == "proceeding":
                self._state(call, "proceeding")
            elif kind == "alerting" or (kind == "tone" and e.get("tone") in ("ringback",
                                                                             "music")):
                if call.state in ("dialing", "proceeding", "early_media"):
                    self._state(call, "ringing")
            elif kind in ("progress",) and e.get("inband"):
                if call.state in ("dialing", "proceeding"):
                    self._state(call, "early_media")
            elif kind == "answered":
                call.answered_at = now
                self._state(call, "answered", by="unknown")
            elif kind == "decided":
                call.answered_by = e.get("result") if e.get("result") != "notsure" else "human"
                self.publish({"event": "amd", **base, "result": e.get("result"),
                              "reason": e.get("reason"),
                              "after_answer": e.get("after_answer")})
            elif kind == "hangup":
                result = call.controller.result()
                self._end(call, result["outcome"], result.get("cause"), by=e.get("by"))
                return
            if kind == "tone" and e.get("tone") not in (None, "dial"):
                self.publish({"event": "tone", **base, "tone": e["tone"]})
            elif kind == "early_media" and e.get("heard"):
                heard = e["heard"]
                if e.get("kind"):
                    self.publish({"event": "announcement", **base, "kind": e["kind"]})
                elif heard not in ("voice", "silence"):
                    self.publish({"event": "tone", **base, "tone": heard})
            elif kind == "sit":
                self.publish({"event": "sit", **base, "code": e.get("code")})
            elif kind == "announcement":
                self.publish({"event": "announcement", **base, "kind": e.get("kind")})

    def _state(self, call: Call, state: str, **extra: Any) -> None:
        if call.state == state and not extra:
            return
        call.state = state
        log.info("call_state", call=call.id, span=call.span, channel=call.channel,
                 number=call.number, state=state, **extra)
        self.publish({"event": "call.state", "call": call.id, "span": call.span,
                      "channel": call.channel, "state": state, **extra})

    def _end(self, call: Call, outcome: str | None, cause: int | None, *, by: str | None) -> None:
        call.outcome, call.cause = outcome or "error", cause
        self.detach_processor(call.id)
        if call.recorder is not None:
            self._stop_recording(call)
        if call.bridged_to is not None:
            self._unbridge(call)
        for other in self.calls.values():
            if other.listening_to == call.id:
                other.listening_to = None
        if call.collect is not None and call.collect.future is not None:
            call.collect.future.set_result({"digits": call.collect.digits, "reason": "hangup"})
            call.collect = None
        self._release_channel(call)
        call.state = "hungup"
        self.calls.pop(call.id, None)
        log.info("call_ended", call=call.id, span=call.span, channel=call.channel,
                 number=call.number, outcome=call.outcome, cause=cause, by=by,
                 answered_by=call.answered_by)
        self.publish({"event": "call.state", "call": call.id, "span": call.span,
                      "channel": call.channel, "state": "hungup", "outcome": call.outcome,
                      "cause": cause, "by": by})
        if self.metrics is not None:
            self.metrics.call_ended(call.outcome)

    def _release_channel(self, call: Call) -> None:
        if call.channel is None:
            return
        self._detect_on(call, None)
        self._by_channel.pop(call.channel, None)
        if call.kind == "pri" and call.channel in self.card.open_channels:
            self.card.close_channel(call.channel)

    # -- FXS (agent positions) ------------------------------------------------------
    def _fxs_event(self, call: Call, event: Any, now: float) -> None:
        if event.kind is EventKind.OFFHOOK and call.state in ("ringing", "dialing"):
            self.card.hook(call.channel, HookOp.RINGOFF)  # type: ignore[arg-type]
            call.answered_at = now
            call.answered_by = "human"
            self._state(call, "answered", by="human")
        elif event.kind is EventKind.ONHOOK:
            self._end(call, "human" if call.answered_at else "no_answer", None, by="far_end")

    # -- inbound --------------------------------------------------------------------
    def _offer_fxo(self, channel: int, now: float) -> None:
        span = self.card.channel(channel).span
        call = Call(next(self._ids), "inbound", "fxo", "", span, channel, created=now,
                    state="offered", offered_until=now + self.inbound_timeout)
        self.calls[call.id] = call
        self._by_channel[channel] = call.id
        self.publish({"event": "call.offered", "call": call.id, "span": span,
                      "channel": channel, "calling": "", "called": ""})

    def _offer_pri(self, span: int, event: Any, now: float) -> None:
        channel = None if event.channel is None else self._pri_first[span] + event.channel - 1
        call = Call(next(self._ids), "inbound", "pri", event.calling, span, channel,
                    created=now, state="offered", pri_call=event.call,
                    offered_until=now + self.inbound_timeout)
        self.calls[call.id] = call
        if channel is not None:
            self._by_channel[channel] = call.id
        self._pri[span].proceeding(event.call)
        self.publish({"event": "call.offered", "call": call.id, "span": span,
                      "channel": channel, "calling": event.calling, "called": event.called})

    def _inbound_pri_event(self, call: Call, event: Any) -> None:
        from trunkline.drivers.signalling.pri import events as pev

        if isinstance(event, pev.CallEnded):
            self._end(call, "human" if call.answered_at else "rejected", event.cause,
                      by="far_end" if event.reason == "remote" else "near_end")

    def _reject_unclaimed(self, call: Call) -> None:
        if call.kind == "pri" and call.pri_call is not None:
            self._pri[call.span].hangup(call.pri_call, self.reject_cause)
            call.offered_until = None
            call.state = "rejecting"
        else:
            self._end(call, "rejected", None, by="near_end")

    # -- in-call detection ----------------------------------------------------------
    def _detect_on(self, call: Call, mode: str | None) -> None:
        """Set what the shared detector does on the call's channel: ``progress`` (call
        progress, fax, voice, AMD, announcements), ``dtmf`` (in-call digits), or None."""
        ch = call.channel
        if ch is None or mode == call.detecting:
            return
        if mode is None:
            self.detector.disable(ch)
        elif mode == "progress":
            self.detector.enable(ch, **{**CALL_PROGRESS, **detection_flags(call.detect)})
        elif call.detecting == "progress":
            self.detector.configure(ch, dtmf=True, progress=False, fax=False, vad=False,
                                    amd=False, announcements=False)
        else:
            self.detector.enable(ch, dtmf=True, progress=False, fax=False, vad=False)
        call.detecting = mode

    def _detector_op(self, call: Call, op: DetectorOp) -> None:
        if call.channel is None or call.detecting is None:
            return
        if op.op == "reset":
            self.detector.reset(call.channel)
        elif op.op == "answered":
            self.detector.mark_answered(call.channel, exact=op.exact)
            if call.kind == "fxo":
                # Analog: keep listening for a far-end busy tone, and hear digits too.
                self.detector.configure(call.channel, dtmf=True)
        elif op.op == "stop":
            self._detect_on(call, "dtmf")

    def _detect(self, frames: np.ndarray, rows: dict[int, int]) -> None:
        from trunkline.drivers.dsp.events import DtmfEvent

        for call in self.calls.values():  # answered calls without detection hear digits
            if call.detecting is None and call.answered_at is not None \
                    and call.channel in rows:
                self._detect_on(call, "dtmf")
        ids = [c.channel for c in self.calls.values()
               if c.detecting is not None and c.channel in rows]
        if not ids:
            return
        now = self.clock.now()
        for event in self.detector.process(frames[[rows[c] for c in ids]], np.array(ids)):
            call = self.calls.get(self._by_channel.get(int(event.channel), -1))
            if call is None:
                continue
            if isinstance(event, DtmfEvent):
                self.digit(call, event.digit)
            elif call.direction == "outbound" and call.kind == "fxo":
                self._apply_fxo(call, call.controller.on_detection(now, event))
                self._translate(call, now)
            elif call.direction == "outbound" and call.kind == "pri":
                self._apply_pri(call, call.controller.on_detection(now, event))
                self._translate(call, now)

    # -- mixing ---------------------------------------------------------------------
    def _mix(self, frames: np.ndarray, rows: dict[int, int], out: np.ndarray) -> None:
        for call in list(self.calls.values()):
            if call.channel not in rows:
                continue
            row = rows[call.channel]
            if call.processor is not None:
                self._process(call, frames[row], out, row)
            if call.play is not None and call.play.holding:
                if not call.play.hold(frames[row]):  # the far end went quiet: start
                    self.publish({"event": "play.started", "call": call.id,
                                  "channel": call.channel, "play": call.play.play_id,
                                  "waited": round(call.play.held_seconds, 2)})
            elif call.play is not None:
                out[row] += call.play.next_frame()
                if call.play.finished:
                    self.publish({"event": "play.finished", "call": call.id,
                                  "channel": call.channel, "play": call.play.play_id,
                                  "reason": "done"})
                    call.play = None
            peer = self.calls.get(call.bridged_to) if call.bridged_to else None
            if peer is not None and peer.channel in rows:
                out[row] += frames[rows[peer.channel]]
            target = self.calls.get(call.listening_to) if call.listening_to else None
            if target is not None and target.channel in rows:
                # A supervisor hears both sides of the monitored call, and is not heard.
                out[row] += frames[rows[target.channel]]
                tpeer = self.calls.get(target.bridged_to) if target.bridged_to else None
                if tpeer is not None and tpeer.channel in rows:
                    out[row] += frames[rows[tpeer.channel]]
        for call in self.calls.values():
            if call.recorder is not None and call.channel in rows:
                row = rows[call.channel]
                call.recorder.write(frames[row].astype(np.float32), out[row])

    def _process(self, call: Call, received: np.ndarray, out: np.ndarray, row: int) -> None:
        processor = call.processor
        try:
            sent, events = processor.process(received, self.clock.now())
        except Exception:  # a broken processor must not take the tick down
            log.exception("media_processor_failed", call=call.id)
            sent, events = None, [{"event": "processor.failed", "reason": "exception"}]
            self.detach_processor(call.id)
        if sent is not None:
            out[row] += sent
        base = {"call": call.id, "span": call.span, "channel": call.channel}
        for event in events:
            self.publish({**event, **base})
        if call.processor is not None and processor.done:
            self.detach_processor(call.id)

    def attach_processor(self, call_id: int, processor: MediaProcessor) -> None:
        """Hand the call's audio to ``processor`` (engine thread only)."""
        call = self._call(call_id)
        if call.processor is not None:
            raise RpcError("conflict", f"call {call_id} already has a media processor")
        call.processor = processor

    def detach_processor(self, call_id: int) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.processor is not None:
            processor, call.processor = call.processor, None
            processor.close()

    # -- operations (run on the engine thread through submit) -------------------------
    def _call(self, call_id: int) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise RpcError("not_found", f"no call {call_id} (it may have ended)")
        return call

    def _free_channel(self, group: str | None, span: int | None,
                      channel: int | None) -> tuple[str, int, int | None]:
        if channel is not None:
            info = self.card.channel(channel)
            kind = self._kind_of(channel)
            if channel in self._by_channel or channel in self.blocked:
                raise RpcError("conflict", f"channel {channel} is busy or blocked")
            return kind, info.span, channel
        candidates = self._candidates(group, span)
        for kind, span_no, ch in candidates:
            if kind == "pri":
                pri = self._pri[span_no]
                if self._pri_up.get(span_no) and pri.free_channels():
                    return kind, span_no, None
            elif ch not in self._by_channel and ch not in self.blocked and \
                    self.card.channel_state(ch) is ChannelState.IDLE:
                return kind, span_no, ch
        raise RpcError("conflict", f"no free channel in {group or f'span {span}'}")

    def _candidates(self, group: str | None, span: int | None) -> list[tuple[str, int, int | None]]:
        if span is not None:
            info = self.card.span(span)
            if info.signalling is SpanSignalling.PRI:
                return [("pri", span, None)]
            return [(self._kind_of(c), span, c) for c in info.channels]
        name = group or "outbound"
        if name not in self.groups:
            raise RpcError("not_found", f"no group {name!r}; groups: {', '.join(self.groups)}")
        out: list[tuple[str, int, int | None]] = []
        for ch in self.groups[name]:
            info = self.card.channel(ch)
            if info.signalling is ChannelSignalling.BCHAN:
                if ("pri", info.span, None) not in out:
                    out.append(("pri", info.span, None))
            else:
                out.append((self._kind_of(ch), info.span, ch))
        return out

    def _kind_of(self, channel: int) -> str:
        sig = self.card.channel(channel).signalling
        if sig in (ChannelSignalling.FXO_KEWLSTART, ChannelSignalling.FXO_LOOPSTART):
            return "fxo"
        if sig in (ChannelSignalling.FXS_KEWLSTART, ChannelSignalling.FXS_LOOPSTART):
            return "fxs"
        if sig is ChannelSignalling.BCHAN:
            return "pri"
        raise RpcError("invalid_params", f"channel {channel} ({sig}) cannot place calls")

    def originate(self, number: str, *, group: str | None = None, span: int | None = None,
                  channel: int | None = None, caller_id: str | None = None,
                  ring_timeout: float = 45.0, detect: dict | None = None) -> dict:
        if self.draining:
            raise RpcError("conflict", "the gateway is shutting down: no new calls")
        flags = detection_flags(detect or {})
        kind, span_no, ch = self._free_channel(group, span, channel)
        now = self.clock.now()
        call = Call(next(self._ids), "outbound", kind, number, span_no, ch, created=now,
                    detect=dict(detect or {}))
        try:
            if kind == "fxo":
                from trunkline.drivers.calls import answers_on_polarity

                call.controller = FxoCall(number, self.zone, ring_timeout=ring_timeout,
                                          max_duration=4 * 3600,
                                          amd=flags.get("amd", True),
                                          answer_on_polarity=answers_on_polarity(
                                              self.card, ch))  # type: ignore[arg-type]
            elif kind == "pri":
                call.controller = PriCall(number, self.zone, calling=caller_id,
                                          ring_timeout=ring_timeout, max_duration=4 * 3600,
                                          amd=flags.get("amd", True))
        except ValueError as err:
            raise RpcError("invalid_params", str(err)) from None
        self.calls[call.id] = call
        if ch is not None:
            self._by_channel[ch] = call.id
        if kind == "fxo":
            self._detect_on(call, "progress")
            self._apply_fxo(call, call.controller.start(now))
        elif kind == "pri":
            call.controller.start(now)
            from trunkline.drivers.signalling.pri import events as pev

            self._apply_pri(call, call.controller.on_event(now, pev.DChannelUp(span_no)))
        else:  # fxs: ring the agent's phone
            self.card.hook(ch, HookOp.RING)  # type: ignore[arg-type]
            self._state(call, "ringing")
        if call.controller is not None:
            self._translate(call, now)
        return call.info()

    def answer(self, call_id: int) -> dict:
        call = self._call(call_id)
        if call.direction != "inbound" or call.state != "offered":
            raise RpcError("conflict", f"cannot answer call {call_id}: it is {call.direction} "
                           f"and {call.state}")
        call.offered_until = None
        if call.kind == "fxo":
            self.card.hook(call.channel, HookOp.OFFHOOK)  # type: ignore[arg-type]
        else:
            self._pri[call.span].answer(call.pri_call)
            if call.channel is not None:
                self.card.open(call.channel)
        call.answered_at = self.clock.now()
        self._state(call, "answered", by="unknown")
        return call.info()

    def hangup(self, call_id: int, cause: int = 16) -> dict:
        call = self._call(call_id)
        now = self.clock.now()
        if call.kind == "fxo" and call.direction == "outbound":
            self._apply_fxo(call, call.controller.hangup(now))
            self._translate(call, now)
        elif call.kind == "pri" and call.direction == "outbound":
            self._apply_pri(call, call.controller.hangup(now, cause))
            self._translate(call, now)
        elif call.kind == "pri":
            self._pri[call.span].hangup(call.pri_call, cause)
        elif call.kind == "fxs":
            self.card.hook(call.channel, HookOp.ONHOOK)  # type: ignore[arg-type]
            self._end(call, "human" if call.answered_at else "no_answer", None, by="near_end")
        else:  # inbound fxo
            self.card.hook(call.channel, HookOp.ONHOOK)  # type: ignore[arg-type]
            self._end(call, "human" if call.answered_at else "rejected", None, by="near_end")
        return {"call": call_id, "state": call.state}

    def play(self, call_id: int, spec: dict) -> dict:
        call = self._call(call_id)
        if call.play is not None:
            self.publish({"event": "play.finished", "call": call.id, "channel": call.channel,
                          "play": call.play.play_id, "reason": "replaced"})
        call.play = source_for(spec, self.zone, next(self._play_ids))
        return {"call": call_id, "play": call.play.play_id, "source": call.play.name}

    def stop_play(self, call_id: int) -> dict:
        call = self._call(call_id)
        if call.play is None:
            return {"call": call_id, "stopped": None}
        play_id = call.play.play_id
        self.publish({"event": "play.finished", "call": call.id, "channel": call.channel,
                      "play": play_id, "reason": "stopped"})
        call.play = None
        return {"call": call_id, "stopped": play_id}

    def record(self, call_id: int, action: str, path: str | None, encoding: str) -> dict:
        call = self._call(call_id)
        if action == "start":
            if call.recorder is not None:
                raise RpcError("conflict", f"call {call_id} is already recording to "
                               f"{call.recorder.path}")
            if not path:
                raise RpcError("invalid_params", "record start needs a 'path'")
            recorder = self._new_recorder(Path(path), encoding, recording_id=next(self._play_ids))
            recorder.open()
            call.recorder = recorder
            return {"call": call_id, "recording": str(recorder.path)}
        if action == "stop":
            if call.recorder is None:
                raise RpcError("conflict", f"call {call_id} is not recording")
            return self._stop_recording(call)
        raise RpcError("invalid_params", f"record action must be 'start' or 'stop', not "
                       f"{action!r}")

    def _stop_recording(self, call: Call) -> dict:
        assert call.recorder is not None
        recorder, call.recorder = call.recorder, None
        duration = recorder.close()
        event = {"event": "recording.finished", "call": call.id, "channel": call.channel,
                 "path": str(recorder.path), "duration": round(duration, 3)}
        self.publish(event)
        return {k: v for k, v in event.items() if k != "event"}

    def send_dtmf(self, call_id: int, digits: str, on_ms: int, off_ms: int) -> dict:
        return self.play(call_id, {"digits": digits, "on_ms": on_ms, "off_ms": off_ms})

    def bridge(self, a: int, b: int) -> dict:
        first, second = self._call(a), self._call(b)
        if a == b:
            raise RpcError("invalid_params", "cannot bridge a call to itself")
        for call in (first, second):
            if call.bridged_to is not None:
                raise RpcError("conflict", f"call {call.id} is already bridged to "
                               f"{call.bridged_to}")
            if call.state not in ("answered", "bridged"):
                raise RpcError("conflict", f"cannot bridge call {call.id}: it is {call.state}")
        first.bridged_to, second.bridged_to = b, a
        for call in (first, second):
            self._state(call, "bridged", peer=call.bridged_to)
        return {"bridged": [a, b]}

    def _unbridge(self, call: Call) -> None:
        peer = self.calls.get(call.bridged_to) if call.bridged_to else None
        call.bridged_to = None
        if peer is not None:
            peer.bridged_to = None
            if peer.state == "bridged":
                self._state(peer, "answered", by=peer.answered_by or "unknown")

    def unbridge(self, call_id: int) -> dict:
        call = self._call(call_id)
        if call.bridged_to is None:
            raise RpcError("conflict", f"call {call_id} is not bridged")
        peer = call.bridged_to
        self._unbridge(call)
        self._state(call, "answered", by=call.answered_by or "unknown")
        return {"unbridged": [call_id, peer]}

    def listen(self, listener: int, target: int | None) -> dict:
        call = self._call(listener)
        if target is not None:
            self._call(target)
            if target == listener:
                raise RpcError("invalid_params", "a call cannot listen to itself")
        call.listening_to = target
        return {"call": listener, "listening_to": target}

    def collect_dtmf(self, call_id: int, max_digits: int, timeout: float,
                     terminator: str) -> Future:
        call = self._call(call_id)
        if call.collect is not None:
            raise RpcError("conflict", f"call {call_id} is already collecting digits")
        future: Future = Future()
        call.collect = Collect(max_digits, timeout, terminator, self.clock.now(), future=future)
        return future

    def digit(self, call: Call, digit: str) -> None:
        """A DTMF digit detected on ``call`` (from the detector)."""
        self.publish({"event": "dtmf", "call": call.id, "channel": call.channel,
                      "span": call.span, "digit": digit})
        c = call.collect
        if c is None:
            return
        if c.terminator and digit in c.terminator:
            self._finish_collect(call, "terminator")
            return
        c.digits += digit
        if len(c.digits) >= c.max_digits:
            self._finish_collect(call, "max_digits")

    def _collect_timeout(self, call: Call, now: float) -> None:
        c = call.collect
        if c is not None and now - c.started >= c.timeout:
            self._finish_collect(call, "timeout")

    def _finish_collect(self, call: Call, reason: str) -> None:
        c, call.collect = call.collect, None
        if c is not None and c.future is not None and not c.future.done():
            c.future.set_result({"call": call.id, "digits": c.digits, "reason": reason})

    def set_blocked(self, channel: int, blocked: bool) -> dict:
        self.card.channel(channel)
        if blocked:
            self.blocked.add(channel)
        else:
            self.blocked.discard(channel)
        self.publish({"event": "channel.state", "channel": channel,
                      "state": "blocked" if blocked else "unblocked"})
        return {"channel": channel, "blocked": blocked}

    def channel_rows(self) -> list[dict]:
        rows = []
        for span in self.card.spans:
            for ch in span.channels:
                call_id = self._by_channel.get(ch)
                state = "blocked" if ch in self.blocked else self.card.channel_state(ch).value
                rows.append({"channel": ch, "span": span.number,
                             "signalling": self.card.channel(ch).signalling.value,
                             "state": state, "call": call_id})
        return rows
