"""What every call sends this tick: playback, processors, bridged peers, conferences,
monitoring.

Each call's reply frame is the sum of what it plays, what its media processor (a fax
terminal) sends, what its bridged peer receives, in a conference what every other member
receives (the members' sum less its own: nobody hears itself), and, for a supervisor
on an agent's call, what ``supervise.py`` says each hears (listen, whisper, barge).
Recordings then take what the call received and what it sent; a recording the disk
refuses is announced (``recording.failed``) in that tick and stops, the call does not.
Everything is one row of the tick's arrays; the work per call is a few slices and additions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import structlog

from trunkline.gateway.media.calls import Call
from trunkline.gateway.media.supervise import monitor_mix

log = structlog.get_logger("trunkline.gateway.mixer")

__all__ = ["mix"]

Publish = Callable[[dict[str, Any]], None]


def mix(calls: Mapping[int, Call], frames: np.ndarray, rows: Mapping[int, int],
        out: np.ndarray, *, now: float, publish: Publish,
        detach: Callable[[int], None]) -> None:
    """Fill ``out`` (float32, rows as ``rows``) with what every call sends this tick."""
    conferences: dict[int, np.ndarray] = {}   # conference -> what its members receive
    for call in calls.values():
        number = call.conference
        row = _row(call, rows) if number is not None else None
        if number is not None and row is not None:
            total = conferences.get(number)
            conferences[number] = frames[row].astype(np.float32) if total is None \
                else total + frames[row]
    for call in list(calls.values()):
        row = _row(call, rows)
        if row is None:
            continue
        if call.processor is not None:
            _process(call, frames[row], out, row, now=now, publish=publish, detach=detach)
        _play(call, frames[row], out, row, publish)
        peer_row = _row(calls.get(call.bridged_to) if call.bridged_to else None, rows)
        if peer_row is not None:
            out[row] += frames[peer_row]
        if call.conference is not None and call.conference in conferences:
            out[row] += conferences[call.conference] - frames[row]
        if call.listening_to is not None:  # a supervisor: listen, whisper or barge
            monitor_mix(call, calls, frames, rows, out, conferences)
    for call in calls.values():
        row = _row(call, rows)
        if call.recorder is not None and row is not None:
            call.recorder.write(frames[row].astype(np.float32), out[row])
            failure = call.recorder.take_failure()
            if failure is not None:  # the disk refused: said at once, the call goes on
                publish({"event": "recording.failed", "call": call.id,
                         "channel": call.channel, "path": str(call.recorder.path),
                         "error": failure,
                         "duration": round(call.recorder.saved_seconds, 3)})


def _row(call: Call | None, rows: Mapping[int, int]) -> int | None:
    """The row of ``call``'s channel this tick (None: no call, or no audio for it)."""
    if call is None or call.channel is None:
        return None
    return rows.get(call.channel)


def _play(call: Call, received: np.ndarray, out: np.ndarray, row: int,
          publish: Publish) -> None:
    play = call.play
    if play is None:
        return
    if play.holding:
        if not play.hold(received):  # the far end went quiet: start
            publish({"event": "play.started", "call": call.id, "channel": call.channel,
                     "play": play.play_id, "waited": round(play.held_seconds, 2)})
        return
    out[row] += play.next_frame()
    if play.finished:
        publish({"event": "play.finished", "call": call.id, "channel": call.channel,
                 "play": play.play_id, "reason": "done"})
        call.play = None


def _process(call: Call, received: np.ndarray, out: np.ndarray, row: int, *, now: float,
             publish: Publish, detach: Callable[[int], None]) -> None:
    processor = call.processor
    assert processor is not None
    try:
        sent, events = processor.process(received, now)
    except Exception:  # a broken processor must not take the tick down
        log.exception("media_processor_failed", call=call.id)
        sent, events = None, [{"event": "processor.failed", "reason": "exception"}]
        detach(call.id)
    if sent is not None:
        out[row] += sent
    for event in events:
        publish({**event, **call.where()})
    if call.processor is not None and processor.done:
        detach(call.id)
