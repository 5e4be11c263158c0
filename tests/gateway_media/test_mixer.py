"""What every call sends in a tick: playback, bridged peers, monitoring, media processors
(and their failure), and what recordings are given."""

from __future__ import annotations

from typing import Any

import numpy as np
from media_kit import call

from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.gateway.media.calls import Call
from trunkline.gateway.media.mixer import mix
from trunkline.gateway.media.play import PlaySource

ROWS = {10: 0, 11: 1, 12: 2, 13: 3}


def frames() -> np.ndarray:
    """Row r carries the constant 100 * (r + 1): who hears whom is plain in the sums."""
    return np.repeat((100.0 * np.arange(1, 5))[:, None], FRAME_SAMPLES, axis=1).astype(np.int16)


def run(calls: dict[int, Call], received: np.ndarray | None = None) -> tuple[
        np.ndarray, list[dict[str, Any]], list[int]]:
    out = np.zeros((len(ROWS), FRAME_SAMPLES), np.float32)
    published: list[dict[str, Any]] = []
    detached: list[int] = []

    def detach(call_id: int) -> None:
        detached.append(call_id)
        calls[call_id].processor = None

    mix(calls, frames() if received is None else received, ROWS, out, now=3.0,
        publish=published.append, detach=detach)
    return out, published, detached


def calls(*items: Call) -> dict[int, Call]:
    return {c.id: c for c in items}


def test_nothing_to_send_is_silence() -> None:
    out, published, _ = run(calls(call(1, channel=10), call(2, channel=11)))
    assert not out.any() and published == []


def test_playback_steps_a_frame_a_tick_and_says_when_it_is_done() -> None:
    source = PlaySource("tone:test", np.arange(FRAME_SAMPLES + 10, dtype=np.int16), play_id=4)
    playing = call(1, channel=11, play=source)
    table = calls(playing)
    out, published, _ = run(table)
    assert (out[1] == np.arange(FRAME_SAMPLES)).all() and not out[[0, 2, 3]].any()
    assert published == [] and playing.play is source
    out, published, _ = run(table)
    assert (out[1, :10] == np.arange(FRAME_SAMPLES, FRAME_SAMPLES + 10)).all()
    assert not out[1, 10:].any()
    assert published == [{"event": "play.finished", "call": 1, "channel": 11, "play": 4,
                          "reason": "done"}]
    assert playing.play is None


def test_playback_waiting_for_silence_starts_when_the_far_end_is_quiet() -> None:
    source = PlaySource("file:x", np.full(FRAME_SAMPLES * 4, 7, np.int16), play_id=2,
                        wait_silence=0.04)
    playing = call(1, channel=10, play=source)
    loud = frames()
    quiet = np.zeros_like(loud)
    out, published, _ = run(calls(playing), loud)
    assert not out.any() and published == []
    out, published, _ = run(calls(playing), quiet)
    assert not out.any() and published == []
    out, published, _ = run(calls(playing), quiet)
    assert published == [{"event": "play.started", "call": 1, "channel": 10, "play": 2,
                          "waited": 0.06}]
    out, _, _ = run(calls(playing), quiet)
    assert (out[0] == 7).all()


def test_bridged_calls_hear_each_other() -> None:
    a = call(1, channel=10, bridged_to=2)
    b = call(2, channel=12, bridged_to=1)
    out, _, _ = run(calls(a, b, call(3, channel=11)))
    assert (out[0] == 300).all() and (out[2] == 100).all() and not out[[1, 3]].any()


def test_a_supervisor_hears_both_sides_and_is_not_heard() -> None:
    customer = call(1, channel=10, bridged_to=2)
    agent = call(2, channel=11, bridged_to=1)
    supervisor = call(3, channel=13, listening_to=1)
    out, _, _ = run(calls(customer, agent, supervisor))
    assert (out[3] == 100 + 200).all()
    assert (out[0] == 200).all() and (out[1] == 100).all()  # nobody hears row 4 (400)


def test_a_call_without_a_row_this_tick_is_left_alone() -> None:
    source = PlaySource("x", np.ones(FRAME_SAMPLES, np.int16))
    away = call(1, channel=40, play=source)
    out, published, _ = run(calls(away, call(2, channel=None)))
    assert not out.any() and published == [] and away.play is source and source.pos == 0


class Processor:
    def __init__(self, sent: np.ndarray | None, events: list[dict[str, Any]], *,
                 done: bool = False, fail: bool = False) -> None:
        self.sent, self.events, self._done, self.fail = sent, events, done, fail
        self.received: list[np.ndarray] = []

    def process(self, received: np.ndarray, now: float) -> tuple[Any, list[dict[str, Any]]]:
        if self.fail:
            raise RuntimeError("processor bug")
        self.received.append(received.copy())
        return self.sent, self.events

    @property
    def done(self) -> bool:
        return self._done

    def close(self) -> None:
        pass


def test_a_media_processor_gets_the_audio_and_sends_its_own() -> None:
    processor = Processor(np.full(FRAME_SAMPLES, 5.0, np.float32), [{"event": "fax.page"}])
    faxing = call(1, channel=11, processor=processor)
    out, published, detached = run(calls(faxing))
    assert (processor.received[0] == 200).all() and (out[1] == 5.0).all()
    assert published == [{"event": "fax.page", "call": 1, "span": 1, "channel": 11}]
    assert detached == [] and faxing.processor is processor


def test_a_finished_processor_is_detached() -> None:
    processor = Processor(None, [], done=True)
    faxing = call(1, channel=11, processor=processor)
    out, _, detached = run(calls(faxing))
    assert detached == [1] and faxing.processor is None and not out.any()


def test_a_failing_processor_is_detached_and_the_tick_goes_on() -> None:
    broken = call(1, channel=10, processor=Processor(None, [], fail=True))
    fine = call(2, channel=11, processor=Processor(np.ones(FRAME_SAMPLES, np.float32), []))
    out, published, detached = run(calls(broken, fine))
    assert published == [{"event": "processor.failed", "reason": "exception", "call": 1,
                          "span": 1, "channel": 10}]
    assert detached == [1] and broken.processor is None
    assert (out[1] == 1.0).all() and not out[0].any()


class Recorder:
    def __init__(self) -> None:
        self.frames: list[tuple[np.ndarray, np.ndarray]] = []

    def write(self, received: np.ndarray, sent: np.ndarray) -> None:
        self.frames.append((received.copy(), sent.copy()))

    def take_failure(self) -> str | None:
        return None


def test_recordings_get_what_the_call_received_and_what_it_sent() -> None:
    recorder = Recorder()
    a = call(1, channel=10, bridged_to=2, recorder=recorder)
    b = call(2, channel=11, bridged_to=1)
    run(calls(a, b))
    ((received, sent),) = recorder.frames
    assert received.dtype == np.float32 and (received == 100).all() and (sent == 200).all()


def test_conference_members_hear_every_other_member_not_themselves() -> None:
    members = [call(1, channel=10), call(2, channel=11), call(3, channel=12)]
    for member in members:
        member.conference = 7
    outsider = call(4, channel=13)
    out, _, _ = run(calls(*members, outsider))
    # rows 1..3 receive 100, 200, 300: each member hears the two others
    assert (out[0] == 500).all() and (out[1] == 400).all() and (out[2] == 300).all()
    assert not out[3].any()


def test_a_conference_and_a_bridge_side_by_side() -> None:
    a, b = call(1, channel=10, bridged_to=2), call(2, channel=11, bridged_to=1)
    c, d = call(3, channel=12), call(4, channel=13)
    c.conference = d.conference = 1
    out, _, _ = run(calls(a, b, c, d))
    assert (out[0] == 200).all() and (out[1] == 100).all()
    assert (out[2] == 400).all() and (out[3] == 300).all()
