"""The emulated card's PRI span when the line loop starts late or first reads late.

The network's libpri comes up when our side takes the D-channel. A line loop set up
seconds after the card was opened used to start it at the card's opening time: the
card's catch-up ran it through the seconds before it existed, resending SABME every
T200 with no one to answer, and each UA after the first was an MDL-ERROR (C) that a
real link would not show. Its clock now starts at the line time it came up at.

The card runs the network's missed frames when its reader is late (as a board's line
does not wait). A first read 2.1 s late leaves both Q.921 sides resending SABME every
T200 (1 s) meanwhile, and each UA after the first is an unsolicited UA (MDL-ERROR C):
recovery a real link shows too when one end starts slowly. Each is handled and counted
(libpri used to drop the second one, "Trying to queue MDL-ERROR (C)"), and the link
comes up. Virtual time: the late read is a clock jump.
"""

from __future__ import annotations

from pathlib import Path

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling.pri.signalling import PriSignalling

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"


def test_a_late_first_read_costs_unsolicited_uas_and_no_dropped_mdl_error() -> None:
    clock = VirtualClock()
    card = open_card("emulated", clock=clock, network=PLAN)
    try:
        with LineLoop(card, zone=load_zone("cn"), spans=[1]) as loop:
            module = loop.module(1)
            assert isinstance(module, PriSignalling)
            ours = module.pri
            network = card.network_side(1).exchange.span
            clock.advance(2.1)  # the line loop starts 2.1 s after the card
            for _ in range(100):
                loop.tick()
            assert card.overruns == 1
            for side in (ours, network):
                assert not [e for e in side.errors if "Trying to queue" in e], \
                    (side.role, list(side.errors))
                assert "dropped" not in side.q921_errors
            assert network.q921_errors == {"C": 2}
            assert ours.q921_errors == {"C": 1}
            assert ours.up and network.up and module.link_up
    finally:
        card.close()


def test_a_line_loop_set_up_late_brings_the_link_up_without_q921_errors() -> None:
    clock = VirtualClock()
    card = open_card("emulated", clock=clock, network=PLAN)
    try:
        clock.advance(5.0)  # the card was opened 5 s before the line loop is set up
        with LineLoop(card, zone=load_zone("cn"), spans=[1]) as loop:
            module = loop.module(1)
            assert isinstance(module, PriSignalling)
            network = card.network_side(1).exchange.span
            for _ in range(100):
                loop.tick()
            assert card.overruns == 1  # the first read ran the 5 s it missed
            assert module.pri.q921_errors == {} and network.q921_errors == {}
            assert module.pri.up and network.up and module.link_up
            assert card.network_side(1).link_drops == 0
    finally:
        card.close()
