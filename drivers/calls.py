"""Driving outbound FXO calls on a card: the media loop around :class:`FxoCall`.

This is the small piece of I/O between a card and the sans-IO call controllers: each
tick it reads one frame for every open channel, hands each call its channel's frame and
events, applies the hook and dial actions they return, and writes the frames back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from trunkline.drivers.card import CardABC
from trunkline.drivers.fxo_call import DialAction, FxoCall, HookAction
from trunkline.drivers.model import TICK_SECONDS, HookOp
from trunkline.drivers.pri_call import ClearAction, PriCall, SetupAction

from trunkline.clock import Clock


@dataclass
class LineCall:
    """A call placed on one channel, with what the channel received (when asked)."""

    channel: int
    call: FxoCall
    started: float = 0.0
    audio: list[np.ndarray] = field(default_factory=list)
    keep_audio: bool = False


def apply_actions(card: CardABC, channel: int, actions: list) -> None:
    for action in actions:
        if isinstance(action, HookAction):
            card.hook(channel, action.op)
        elif isinstance(action, DialAction):
            card.dial(channel, action.digits, action.mode)  # type: ignore[arg-type]


def run_calls(card: CardABC, calls: list[LineCall], *, now: Callable[[], float] | None = None,
              on_tick: Callable[[float], None] | None = None,
              pending: list[LineCall] | None = None, max_seconds: float = 3600.0) -> None:
    """Run ``calls`` (and start ``pending`` ones as channels free up) until all are done.

    ``now`` gives the card time (default: tick count x 20 ms from the start).
    """
    pending = list(pending or [])
    active: dict[int, LineCall] = {}
    ticks = 0

    def clock() -> float:
        return now() if now is not None else ticks * TICK_SECONDS

    def start(lc: LineCall) -> None:
        card.open(lc.channel)
        lc.started = clock()
        active[lc.channel] = lc
        apply_actions(card, lc.channel, lc.call.start(lc.started))

    for lc in calls:
        start(lc)
    while active and clock() < max_seconds:
        frames = card.read_frames()
        ticks += 1
        t = clock()
        events = card.poll_events()
        for ev in events:
            lc = active.get(ev.channel)
            if lc is not None:
                apply_actions(card, lc.channel, lc.call.on_event(ev))
        rows = {channel: card.row(channel) for channel in active}
        for channel, lc in list(active.items()):
            frame = frames[rows[channel]]
            if lc.keep_audio:
                lc.audio.append(frame.copy())
            apply_actions(card, channel, lc.call.on_frame(t, frame))
            if lc.call.done:
                card.hook(channel, HookOp.ONHOOK)
                card.close_channel(channel)
                del active[channel]
                free = channel
                nxt = next((p for p in pending if p.channel == free), None) or (
                    pending[0] if pending else None)
                if nxt is not None:
                    pending.remove(nxt)
                    nxt.channel = free
                    start(nxt)
        card.write_frames(np.zeros((len(card.open_channels), 160), dtype=np.int16))
        if on_tick is not None:
            on_tick(t)


def run_pri_call(card: CardABC, span: int, call: PriCall, *, clock: Clock,
                 trace: bool = False, max_seconds: float = 3600.0) -> None:
    """Place ``call`` on PRI span ``span`` of ``card`` and run it to its end."""
    from trunkline.drivers.pri.span import PriSpan

    info = card.span(span)
    pri = PriSpan(card.dchannel(span), role="cpe", clock=clock, span_id=span, trace=trace,
                  law=info.law)
    first = info.channels[0]  # the card channel of timeslot 1
    opened: int | None = None

    def follow_channel() -> None:
        nonlocal opened
        wanted = None if call.channel is None else first + call.channel - 1
        if wanted != opened:
            if opened is not None:
                card.close_channel(opened)
            if wanted is not None:
                card.open(wanted)
            opened = wanted

    def apply(actions: list) -> None:
        for action in actions:
            if isinstance(action, SetupAction):
                call_id = pri.setup(action.called, calling=action.calling)
                call.on_setup_sent(call_id, pri.call(call_id).channel)
            elif isinstance(action, ClearAction) and call.call_id is not None:
                pri.hangup(call.call_id, action.cause)

    try:
        apply(call.start(clock.now()))
        started = clock.now()
        while not call.done and clock.now() - started < max_seconds:
            frames = card.read_frames()
            now = clock.now()
            for event in pri.poll(now):
                apply(call.on_event(now, event))
            follow_channel()
            if opened is not None and not call.done:
                apply(call.on_frame(now, frames[card.row(opened)]) if opened in
                      card.open_channels and frames.shape[0] > card.row(opened)
                      else call.on_time(now))
            else:
                apply(call.on_time(now))
            card.write_frames(np.zeros((len(card.open_channels), 160), dtype=np.int16))
    finally:
        if opened is not None:
            card.close_channel(opened)
        pri.close()
