"""The emulated network behind the simulated kernel's analog ports (simexchange.py):
what the description may say, and a call both ways on the DAHDI backend's own path."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.errors import ConfigError

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"
BOARD = """\
spec = "1.0"
zone = "cn"
[[span]]
type = "analog"
far_end = "exchange"
ports = ["fxo", "fxs"]
"""


@pytest.mark.parametrize(("text", "network", "message"), [
    (BOARD.replace('"exchange"', '"moon"'), None, "far_end is \"exchange\""),
    ('spec = "1.0"\n[[span]]\ntype = "T1"\nfar_end = "exchange"\n', None,
     "for analog spans and E1 PRI spans"),
    ('spec = "1.0"\n[[span]]\ntype = "E1"\nconfigured = "cas"\nfar_end = "exchange"\n', None,
     "for analog spans and E1 PRI spans"),
    ('spec = "1.0"\n[[span]]\ntype = "analog"\nports = ["fxo"]\n', PLAN,
     "needs an analog span with far_end"),
])
def test_the_description_says_what_is_wrong(text, network, message):
    with pytest.raises(ConfigError, match=message):
        SimulatedKernel(text, clock=VirtualClock(), network=network)


@pytest.mark.parametrize("mode", ["dtmf", "pulse"])
def test_a_call_out_through_the_kernels_own_dialling(mode):
    kernel = SimulatedKernel(BOARD, clock=VirtualClock(), network=PLAN)
    card = DahdiCard(kernel)
    with card, LineLoop(card, zone=load_zone("cn")) as loop:
        fxo = card.spans[0].channels[0]
        leg = loop.originate(CallOptions("13800000001", hold=0.5, dial_mode=mode),
                             span=card.spans[0].number, channel=fxo)
        loop.run(lambda: leg.ended, max_seconds=60)
        result = leg.result()
    assert result["outcome"] == "human"
    events = [e["event"] for e in result["events"]]
    assert events.index("dial_tone") < events.index("digits_sent") < events.index("answered")
    # The exchange got every digit: it routed at once (max_digits 11), not after the
    # interdigit time-out, so ring-back was heard within a second of the last digit.
    tone = next(e["t"] for e in result["events"] if e["event"] == "tone"
                and e["t"] > next(x["t"] for x in result["events"]
                                  if x["event"] == "digits_sent") - 1.0)
    digits = next(e["t"] for e in result["events"] if e["event"] == "digits_sent")
    assert tone - digits < 1.0


def test_ringing_an_fxs_port_rings_its_phone_until_lifted():
    kernel = SimulatedKernel(BOARD, clock=VirtualClock(), network=PLAN)
    card = DahdiCard(kernel)
    with card, LineLoop(card, zone=load_zone("cn")) as loop:
        fxs = card.spans[1].channels[0]
        leg = loop.originate(CallOptions("agent"), span=card.spans[1].number, channel=fxs)
        loop.run(lambda: leg.answered, max_seconds=10)
        assert card.phone(fxs).state == "offhook"
        loop.hangup(leg)
        loop.run(lambda: leg.ended, max_seconds=2)
    assert leg.result()["outcome"] == "human"
