from __future__ import annotations

import pytest

from trunkline.drivers.signalling.pri.link import HdlcLink, LinkPair


def test_frames_travel_whole_in_order() -> None:
    pair = LinkPair()
    assert isinstance(pair.a, HdlcLink)
    pair.a.send(b"\x00\x01\x7f")
    pair.a.send(b"\x02\x01\x01\x03")
    assert pair.b.receive() == b"\x00\x01\x7f"
    assert pair.b.receive() == b"\x02\x01\x01\x03"
    assert pair.b.receive() is None
    assert pair.a.receive() is None


def test_down_loses_frames_and_reports_not_up() -> None:
    pair = LinkPair()
    pair.a.send(b"abc")
    pair.down = True
    assert not pair.a.up and not pair.b.up
    assert pair.b.receive() is None
    pair.a.send(b"def")
    pair.down = False
    assert pair.b.receive() is None


def test_drop_next_and_seeded_loss() -> None:
    pair = LinkPair(loss=0.5, seed=7)
    pair.drop_next(1)
    pair.a.send(b"one")
    for _ in range(100):
        pair.a.send(b"xyz")
    received = 0
    while pair.b.receive() is not None:
        received += 1
    assert pair.dropped == 101 - received
    assert 20 < received < 80
    again = LinkPair(loss=0.5, seed=7)
    again.drop_next(1)
    again.a.send(b"one")
    for _ in range(100):
        again.a.send(b"xyz")
    assert again.dropped == pair.dropped


def test_bad_frames_are_refused() -> None:
    pair = LinkPair()
    with pytest.raises(ValueError, match="frame length 2"):
        pair.a.send(b"ab")
    with pytest.raises(TypeError, match="must be bytes"):
        pair.a.send("abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="loss"):
        LinkPair(loss=1.5)
