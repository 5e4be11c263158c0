"""Music ring-back (彩铃) and list cleaning, on the emulated card's FXO lines in virtual
time: a person who answers 2 s into a music ring-back must never be answered by
cleaning (a silent call), and every other number keeps its verdict.

The people are watched on the network's side (the exchange behind each FXO port): a
call is *answered by a person* when the far end picks up while our line is still held,
whether or not the gateway could tell (lines without polarity reversal give no signal).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cleaning_kit import FarEnds, clean_watching_far_ends, e164, numbers

from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings
from trunkline.drivers.dsp import music as music_rules

#: People on music ring-back who answer exactly 2 s after it starts (the shortest the
#: promise covers), one on tone ring-back answering as soon, and the numbers whose
#: verdicts must not move: busy, SIT + 空号 announcement, powered off, music that rings out.
NETWORK = """
spec = "1.0"
zone = "cn"
seed = 7
max_digits = 11

[[subscriber]]
number = "1381*"
behaviour = "human"
answer_after = 2.0
talk = [8, 12]
ringback = "music"

[[subscriber]]
number = "1382*"
behaviour = "human"
answer_after = 2.0
talk = [8, 12]
ringback = "tone"

[[subscriber]]
number = "1361*"
behaviour = "no_answer"
ringback = "music"

[[subscriber]]
number = "137*"
behaviour = "busy"

[[subscriber]]
number = "134*"
behaviour = "powered_off"

[[subscriber]]
number = "130*"
behaviour = "invalid_number"
"""

RANGES = (("1381", 8, "live"), ("1382", 1, "live"), ("1361", 1, "live"), ("137", 1, "live"),
          ("134", 1, "powered_off"), ("130", 1, "invalid"))
SETTINGS = CleaningSettings(concurrency=8, rate=5.0, retries=0, listen=30.0)


def clean(tmp_path: Path) -> tuple[FarEnds, dict[str, tuple[str, str | None]],
                                   CleaningRunner]:
    return clean_watching_far_ends(tmp_path, NETWORK, RANGES, SETTINGS)


def test_cleaning_releases_music_ringback_before_a_person_answering_at_2_s(
        tmp_path: Path) -> None:
    far, got, runner = clean(tmp_path)
    music = [n for n, _ in numbers(RANGES) if n.startswith("1381")]
    assert set(music) <= set(far.routed)
    # nobody picked up to silence: every music ring-back was released before 2 s ...
    assert {n: far.answered[n] - far.routed[n] for n in music if n in far.answered} == {}
    ring_to_release = [far.released[n] - far.routed[n] for n in music]
    assert max(ring_to_release) < 2.0, ring_to_release
    assert runner.answered == 0
    # ... and every number keeps the verdict its behaviour implies
    assert {n: got[e164(n)][0] for n, _ in numbers(RANGES)} == \
        {n: cls for n, cls in numbers(RANGES)}
    assert {got[e164(n)][1] for n in music} == {"ringing: music ring-back (彩铃)"}


def test_without_the_steady_music_rule_cleaning_answers_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same list with only the 3 s music rule (the detector before the 1 s and 1.5 s
    rules):
    every person answering 2 s into music ring-back is answered by cleaning."""
    monkeypatch.setattr(music_rules, "MUSIC_MAX_MOVES", -1)  # the 1 s rule never holds
    monkeypatch.setattr(music_rules, "MUSIC_SOON_BLOCKS", 10**6)  # nor the 1.5 s rule
    far, got, _ = clean(tmp_path)
    music = [n for n, _ in numbers(RANGES) if n.startswith("1381")]
    assert sorted(n for n in music if n in far.answered) == sorted(music)
    assert all(got[e164(n)][0] == "live" for n in music)
