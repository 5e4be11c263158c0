"""The media watch of a WebRTC position (gateway/webrtc/positions.py), as a state
machine driven by how many packets each 20 ms tick drained: ``lost`` (``no_media``)
exactly when a page that had sent packets sent none for MEDIA_TIMEOUT_TICKS ticks,
``connected`` at the first packet after, never twice in a row the same."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from trunkline.gateway.webrtc.positions import (
    MEDIA_TIMEOUT_TICKS,
    NO_MEDIA,
    Position,
    Positions,
)

# Runs of ticks: (packets per tick, how many ticks), long quiet runs included.
RUNS = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 2 * MEDIA_TIMEOUT_TICKS)),
                max_size=12)


def _reference(ticks: list[int]) -> list[tuple[int, str]]:
    """What should be reported, and at which tick, computed plainly."""
    out: list[tuple[int, str]] = []
    had, quiet, lost = False, 0, False
    for i, packets in enumerate(ticks):
        if packets:
            had, quiet = True, 0
            if lost:
                lost = False
                out.append((i, "connected"))
        else:
            quiet += 1
            if had and not lost and quiet == MEDIA_TIMEOUT_TICKS:
                lost = True
                out.append((i, "lost"))
    return out


@given(RUNS)
def test_lost_after_the_timeout_and_back_at_the_first_packet(runs):
    ticks = [packets for packets, n in runs for _ in range(n)]
    positions = Positions((200,), module=None)  # type: ignore[arg-type]
    position = Position(200, call=1)
    reports: list[tuple[int, str]] = []
    now = [0]

    def on_media(p: Position, kind: str, reason: str) -> None:
        assert p is position and reason == (NO_MEDIA if kind == "lost" else "")
        reports.append((now[0], kind))

    positions.on_media = on_media
    for now[0], packets in enumerate(ticks):
        positions._watch_media(position, packets)
    assert reports == _reference(ticks)
    kinds = [k for _, k in reports]
    assert all(a != b for a, b in itertools.pairwise(kinds))
    assert not kinds or kinds[0] == "lost"


def test_a_position_that_never_had_media_is_not_lost():
    positions = Positions((200,), module=None)  # type: ignore[arg-type]
    position = Position(200, call=1)
    seen: list[str] = []
    positions.on_media = lambda p, kind, reason: seen.append(kind)
    for _ in range(3 * MEDIA_TIMEOUT_TICKS):     # ringing: no page yet
        positions._watch_media(position, 0)
    assert seen == []
