"""Driving calls on a card: the media loop around the sans-IO call controllers.

This is the small piece of I/O between a card and the controllers. Each tick it reads
one frame for every open channel, runs the shared multi-channel detector once over the
channels of calls in progress, hands each call its card events and detection events,
applies the hook, dial, Q.931 and detector actions they return, and writes the frames
back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.detection_ops import CALL_PROGRESS, DetectorOp, apply_detector_ops
from trunkline.drivers.dsp.detector import Detector
from trunkline.drivers.fxo_call import DialAction, FxoCall, HookAction
from trunkline.drivers.model import TICK_SECONDS, HookOp
from trunkline.drivers.pri_call import ClearAction, PriCall, SetupAction


@dataclass
class LineCall:
    """A call placed on one channel, with what the channel received (when asked)."""

    channel: int
    call: FxoCall
    started: float = 0.0
    audio: list[np.ndarray] = field(default_factory=list)
    keep_audio: bool = False


def card_detector(card: CardABC, zone) -> Detector:
    """One detector able to serve every channel of ``card``."""
    from trunkline.runtime import limit_blas_threads

    limit_blas_threads()
    return Detector(zone, max_channels=max(card.channels) + 1)


def answers_on_polarity(card: CardABC, channel: int) -> bool:
    """Whether the line on FXO ``channel`` reverses polarity on answer.

    The emulated card knows its lines; on other cards it is the installer's setting
    (absent here: assume it does not, so voice after ringback is an answer).
    """
    line = getattr(card, "line", None)
    if line is None:
        return False
    try:
        return bool(line(channel).settings.polarity_reversal)
    except Exception:  # not an FXO port of this card
        return False


def apply_actions(card: CardABC, detector: Detector, channel: int, actions: list) -> None:
    for action in actions:
        if isinstance(action, HookAction):
            card.hook(channel, action.op)
        elif isinstance(action, DialAction):
            card.dial(channel, action.digits, action.mode)  # type: ignore[arg-type]
        elif isinstance(action, DetectorOp):
            apply_detector_ops(detector, channel, [action])


def detect(detector: Detector, frames: np.ndarray, rows: dict[int, int],
           channels: list[int]) -> dict[int, list]:
    """Run the detector over ``channels`` (enabled ones) and group events by channel."""
    channels = [c for c in channels if c in rows and detector.enabled[c]]
    if not channels:
        return {}
    ids = np.array(channels)
    out: dict[int, list] = {}
    for event in detector.process(frames[[rows[c] for c in channels]], ids):
        out.setdefault(int(event.channel), []).append(event)
    return out


def run_calls(card: CardABC, calls: list[LineCall], *, now: Callable[[], float] | None = None,
              on_tick: Callable[[float], None] | None = None,
              pending: list[LineCall] | None = None, max_seconds: float = 3600.0) -> None:
    """Run FXO ``calls`` (and start ``pending`` ones as channels free up) until all end.

    ``now`` gives the card time (default: tick count x 20 ms from the start).
    """
    pending = list(pending or [])
    active: dict[int, LineCall] = {}
    ticks = 0
    first = calls[0] if calls else (pending[0] if pending else None)
    if first is None:
        return
    detector = card_detector(card, first.call.zone)

    def clock() -> float:
        return now() if now is not None else ticks * TICK_SECONDS

    def start(lc: LineCall) -> None:
        card.open(lc.channel)
        lc.call.answer_on_polarity = answers_on_polarity(card, lc.channel)
        detector.enable(lc.channel, **CALL_PROGRESS)
        lc.started = clock()
        active[lc.channel] = lc
        apply_actions(card, detector, lc.channel, lc.call.start(lc.started))

    for lc in calls:
        start(lc)
    while active and clock() < max_seconds:
        frames = card.read_frames()
        ticks += 1
        t = clock()
        rows = {channel: card.row(channel) for channel in card.open_channels}
        for ev in card.poll_events():
            lc = active.get(ev.channel)
            if lc is not None:
                apply_actions(card, detector, lc.channel, lc.call.on_event(ev))
        found = detect(detector, frames, rows, list(active))
        for channel, lc in list(active.items()):
            if lc.keep_audio and channel in rows:
                lc.audio.append(frames[rows[channel]].copy())
            for event in found.get(channel, ()):
                apply_actions(card, detector, channel, lc.call.on_detection(t, event))
            apply_actions(card, detector, channel, lc.call.on_time(t))
            if lc.call.done:
                card.hook(channel, HookOp.ONHOOK)
                card.close_channel(channel)
                detector.disable(channel)
                del active[channel]
                nxt = next((p for p in pending if p.channel == channel), None) or (
                    pending[0] if pending else None)
                if nxt is not None:
                    pending.remove(nxt)
                    nxt.channel = channel
                    start(nxt)
        card.write_frames(np.zeros((len(card.open_channels), 160), dtype=np.int16))
        if on_tick is not None:
            on_tick(t)


def run_pri_call(card: CardABC, span: int, call: PriCall, *, clock: Clock,
                 trace: bool = False, max_seconds: float = 3600.0,
                 on_frame: Callable[[float, np.ndarray], None] | None = None) -> None:
    """Place ``call`` on PRI span ``span`` of ``card`` and run it to its end.

    ``on_frame`` (optional) sees every frame the call's B-channel received.
    """
    from trunkline.drivers.signalling.pri.span import PriSpan

    info = card.span(span)
    pri = PriSpan(card.dchannel(span), role="cpe", clock=clock, span_id=span, trace=trace,
                  law=info.law)
    detector = card_detector(card, call.zone)
    first = info.channels[0]  # the card channel of timeslot 1
    opened: int | None = None

    def follow_channel() -> None:
        nonlocal opened
        wanted = None if call.channel is None else first + call.channel - 1
        if wanted != opened:
            if opened is not None:
                card.close_channel(opened)
                detector.disable(opened)
            if wanted is not None:
                card.open(wanted)
                detector.enable(wanted, **CALL_PROGRESS)
            opened = wanted

    def apply(actions: list) -> None:
        for action in actions:
            if isinstance(action, SetupAction):
                call_id = pri.setup(action.called, calling=action.calling)
                call.on_setup_sent(call_id, pri.call(call_id).channel)
            elif isinstance(action, ClearAction) and call.call_id is not None:
                pri.hangup(call.call_id, action.cause)
            elif isinstance(action, DetectorOp) and opened is not None:
                apply_detector_ops(detector, opened, [action])

    try:
        apply(call.start(clock.now()))
        started = clock.now()
        while not call.done and clock.now() - started < max_seconds:
            frames = card.read_frames()
            now = clock.now()
            rows = {channel: card.row(channel) for channel in card.open_channels}
            for event in pri.poll(now):
                apply(call.on_event(now, event))
            if opened is not None and opened in rows:
                if on_frame is not None:
                    on_frame(now, frames[rows[opened]])
                for event in detect(detector, frames, rows, [opened]).get(opened, ()):
                    apply(call.on_detection(now, event))
            apply(call.on_time(now))
            follow_channel()
            card.write_frames(np.zeros((len(card.open_channels), 160), dtype=np.int16))
    finally:
        if opened is not None:
            card.close_channel(opened)
        pri.close()
