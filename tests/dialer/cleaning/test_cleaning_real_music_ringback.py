"""List cleaning on numbers whose music ring-back (彩铃) is a real song, on the emulated
card's FXO lines in virtual time: a person answering 2 s into it is never answered by
cleaning (no silent call).

The songs are Debian's ``asterisk-moh-opsound-wav`` (Opsound, CC BY-SA 3.0), read where
Debian puts them (scripts/setup; skipped without them), each number's ring-back set in
the emulated network's plan (``ringback`` = the file, ``ringback_start`` = where in the
song the network starts it): a beat-driven song, a song with vocals-like lead lines, a
sparse one (macroform-the_simplicity, at a phrase; its rests defeat a level rule
elsewhere), an acoustic one. On FXO nothing is signalled before the answer, so the
detector's ``music`` is all cleaning has (docs/list-cleaning.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cleaning_kit import clean_watching_far_ends, e164, numbers

from trunkline.dialer.cleaning.settings import CleaningSettings

MOH = Path("/usr/share/asterisk/moh")
#: (number prefix, song, second of the song the ring-back starts at)
SONGS = (("13810", "reno_project-system", 15), ("13811", "reno_project-system", 105),
         ("13812", "macroform-robot_dity", 15), ("13813", "macroform-robot_dity", 60),
         ("13814", "macroform-cold_day", 105), ("13815", "manolo_camp-morning_coffee", 15),
         ("13816", "manolo_camp-morning_coffee", 60),
         ("13817", "macroform-the_simplicity", 105))
RANGES = tuple((prefix, 1, "live") for prefix, _, _ in SONGS)
SETTINGS = CleaningSettings(concurrency=8, rate=5.0, retries=0, listen=30.0)


def network() -> str:
    out = ['spec = "1.0"\nzone = "cn"\nseed = 7\nmax_digits = 11\n']
    for prefix, song, start in SONGS:
        path = MOH / f"{song}.wav"
        if not path.is_file():
            pytest.skip(f"no real music at {path}: install Debian's asterisk-moh-opsound-wav "
                        f"(scripts/setup)")
        out.append(f'[[subscriber]]\nnumber = "{prefix}*"\nbehaviour = "human"\n'
                   f'answer_after = 2.0\ntalk = [8, 12]\nringback = "{path}"\n'
                   f"ringback_start = {start}\n")
    return "\n".join(out)


def test_cleaning_releases_real_music_ringback_before_a_person_answers_at_2_s(
        tmp_path: Path) -> None:
    far, got, runner = clean_watching_far_ends(tmp_path, network(), RANGES, SETTINGS)
    dialled = [n for n, _ in numbers(RANGES)]
    assert set(dialled) <= set(far.routed)
    # nobody picked up to silence: each song was named and the call released before 2 s
    assert {n: far.answered[n] - far.routed[n] for n in dialled if n in far.answered} == {}
    ring_to_release = {n: round(far.released[n] - far.routed[n], 2) for n in dialled}
    assert max(ring_to_release.values()) < 2.0, ring_to_release
    assert runner.answered == 0
    assert {got[e164(n)] for n in dialled} == {("live", "ringing: music ring-back (彩铃)")}
