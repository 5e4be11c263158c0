"""AMD on audio with a gap (frames the card lost to a late read): a length-based
"machine" becomes "notsure" ("audio lost"); a beep and "human" stand; a gap up to 1 s
before the answer counts, an older one does not (docs/detector.md, "Lost audio")."""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.drivers.dsp.amd import Amd
from trunkline.drivers.dsp.detector import AUDIO_LOST_BEFORE_ANSWER, BLOCK, Detector
from trunkline.drivers.dsp.zones import load_zone

#: 3 s of words (200 ms of voice, 40 ms under the floor), then silence: a long greeting.
TALK = ([True] * 10 + [False] * 2) * 20 + [False] * 60
#: 500 ms of voice, then silence: a "hello".
HELLO = [True] * 25 + [False] * 60


def verdict(amd: Amd, voiced: list[bool], *, lost: bool) -> tuple[str, str]:
    amd.start(0)
    if lost:
        amd.audio_lost(0)
    ids = np.array([0])
    for v in voiced:
        out = amd.update(ids, np.array([v]), None,
                         np.array([-20.0 if v else -70.0], np.float32))
        if out:
            ((_, result, _, reason),) = out
            return result, reason
    raise AssertionError("no verdict")


def beep_verdict(amd: Amd, *, lost: bool) -> tuple[str, str]:
    """300 ms of a pure 1 kHz tone at -20 dBm0, then quiet."""
    amd.start(1)
    if lost:
        amd.audio_lost(1)
    tone = np.zeros((1, 81), np.float32)
    tone[0, 20] = 0.01  # bin 20 of 50 Hz: 1000 Hz
    quiet = np.full((1, 81), 1e-9, np.float32)
    for i in range(100):
        on = i < 15
        out = amd.update(np.array([1]), np.array([on]), tone if on else quiet,
                         np.array([-20.0 if on else -70.0], np.float32))
        if out:
            ((_, result, _, reason),) = out
            return result, reason
    raise AssertionError("no verdict")


def test_a_long_greeting_heard_after_a_gap_is_notsure() -> None:
    amd = Amd(2)
    assert verdict(amd, TALK, lost=False) == ("machine", "long greeting")
    assert verdict(amd, TALK, lost=True) == ("notsure", "audio lost")
    assert not amd.lost  # decided: forgotten
    assert verdict(amd, TALK, lost=False) == ("machine", "long greeting")  # a new call


def test_a_hello_and_a_beep_stand_after_a_gap() -> None:
    amd = Amd(2)
    assert verdict(amd, HELLO, lost=True) == ("human", "short greeting")
    assert beep_verdict(amd, lost=True) == ("machine", "beep")


def test_a_gap_before_amd_starts_is_forgotten_when_it_stops() -> None:
    amd = Amd(2)
    amd.audio_lost(0)  # not listening: nothing to taint
    assert not amd.lost
    amd.start(0)
    amd.audio_lost(0)
    amd.stop(0)
    assert not amd.lost


@pytest.mark.parametrize(("blocks", "counts"), [
    (0, True), (AUDIO_LOST_BEFORE_ANSWER // BLOCK, True),
    (AUDIO_LOST_BEFORE_ANSWER // BLOCK + 1, False), (200, False)])
def test_a_gap_counts_up_to_one_second_before_the_answer(blocks: int, counts: bool) -> None:
    detector = Detector(load_zone("cn"), max_channels=2)
    detector.enable(1, amd=True)
    quiet, ids = np.zeros((1, BLOCK), np.float32), np.array([1])
    for _ in range(5):
        detector.process(quiet, ids)
    detector.audio_lost(1)
    for _ in range(blocks):
        detector.process(quiet, ids)
    detector.mark_answered(1)  # the stalled tick's CONNECT, read after the gap
    detector.process(quiet, ids)
    assert (1 in detector.amd.lost) is counts
    detector.reset(1)
    assert 1 not in detector.amd.lost
