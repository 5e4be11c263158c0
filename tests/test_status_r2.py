"""``trunkline status`` on MFC/R2 spans: what the far end sends on each timeslot, read
without signalling anything ourselves."""

from __future__ import annotations

from trunkline.clock import VirtualClock
from trunkline.drivers.commissioning.status import r2_far_end
from trunkline.drivers.registry import open_card

R2_SPAN = 5


def test_status_once_reads_the_r2_far_end(capsys):
    from trunkline.cli import main

    assert main(["status", "--once"]) == 0
    out = capsys.readouterr().out
    assert "MFC/R2: what the far end sends" in out and "1-15,17-31" in out
    assert "idle" in out


def test_blocked_and_seized_timeslots_are_told_apart_from_idle_ones():
    card = open_card("emulated", clock=VirtualClock())
    with card:
        channels = card.span(R2_SPAN).channels
        card.open(list(channels))
        card.read_frames()  # the emulated exchange starts: China No.1 idle is 1011
        side = card.network_side(R2_SPAN)
        side.block(channels[0])
        side.port(channels[1]).far_end_bits(0b0011)  # seizing, China's c=d=1
        card.read_frames()
        rows = r2_far_end(card)
        card.close_channel(list(channels))
        assert card.open_channels == ()  # what it opened to read, it closed
    assert rows == [(R2_SPAN, "1111", "blocked by the far end", [1]),
                    (R2_SPAN, "0011", "seized by the far end (a call is waiting)", [2]),
                    (R2_SPAN, "1011", "idle", [*range(3, 16), *range(17, 32)])]
