"""Calls over GSM/LTE modules: the sample mobile card's two emulated modules on the hil
number plan, every subscriber behaviour, calls toward us, DTMF, and the faults an
installer meets (a module that resets mid-call, no SIM, no network, noise on the line).

The card is the mobile backend with pyserial on real pseudo-terminals; behind them the
emulated modules (drivers/backends/emulated/modem.py) answer AT commands and carry PCM,
and route the calls through the same number plan as the other suites, so the same
number ends with the same outcome and cause as on PRI and SS7 (trunk_calls.OUTCOMES).
Runs with ``--card emulated`` (the default) and ``--card mobile``; a board skips it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from trunk_calls import OUTCOMES, Offers

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import Alarm
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling.leg import CallOptions, Leg

CN = load_zone("cn")
PLAN = Path(__file__).resolve().parent / "network.toml"


def _open(request, url: str):
    if request.config.getoption("--card").split(":", 1)[0] not in ("emulated", "mobile"):
        pytest.skip("needs emulated mobile modules")
    card = open_card(url, clock=VirtualClock(), network=PLAN)
    request.addfinalizer(card.close)
    return card


@pytest.fixture
def mobile(request):
    """The sample mobile card: spans 1 and 2 are emulated modules on the hil plan."""
    return _open(request, "mobile")


def place(card, number: str, span: int = 1, **options) -> Leg:
    with LineLoop(card, zone=CN, spans=[span]) as loop:
        leg = loop.originate(CallOptions(number, **{"hold": 1.0, **options}), span=span)
        loop.run(lambda: leg.ended, max_seconds=300)
    return leg


@pytest.mark.parametrize(("number", "outcome", "cause"), OUTCOMES)
def test_outcome_and_cause(mobile, number, outcome, cause):
    result = place(mobile, number).result()
    assert (result["outcome"], result["cause"]) == (outcome, cause), result["events"]


def test_an_answer_is_the_networks_word_and_ringback_is_heard_first(mobile):
    result = place(mobile, "13800000001").result()
    kinds = [e["event"] for e in result["events"]]
    assert kinds[:3] == ["setup", "alerting", "early_media"]
    answered = next(e for e in result["events"] if e["event"] == "answered")
    assert answered["by"] == "connect" and answered["t"] == pytest.approx(12.0, abs=0.2)


def test_no_answer_rings_until_we_give_up(mobile):
    result = place(mobile, "13600000001", ring_timeout=10.0).result()
    kinds = [e["event"] for e in result["events"]]
    assert result["outcome"] == "no_answer"
    assert "alerting" in kinds and "answered" not in kinds


def test_both_modules_call_at_once(mobile):
    with LineLoop(mobile, zone=CN, spans=[1, 2]) as loop:
        legs = [loop.originate(CallOptions("13900000001", hold=1.0), span=1),
                loop.originate(CallOptions("13700000001"), span=2)]
        assert not loop.module(2).can_place(None)  # one call per module
        loop.run(lambda: all(leg.ended for leg in legs), max_seconds=60)
    assert [leg.result()["outcome"] for leg in legs] == ["machine", "busy"]


def test_a_call_toward_us_is_offered_with_the_callers_number(mobile):
    offers = Offers()
    with LineLoop(mobile, zone=CN, spans=[2], listener=offers) as loop:
        mobile.emulated_modem(2).ring_in("13912345678")
        loop.run(lambda: bool(offers.offered), max_seconds=5)
        leg, offered = offers.offered[0]
        assert (offered.calling, leg.kind, leg.direction) == ("13912345678", "mobile",
                                                              "inbound")
        loop.answer(leg)
        loop.run(lambda: mobile.emulated_modem(2).call_state == 0, max_seconds=2)
        loop.run(lambda: False, max_seconds=3)  # the caller talks...
        mobile.emulated_modem(2).far_hang_up()  # ...and hangs up
        loop.run(lambda: leg.ended, max_seconds=5)
    result = leg.result()
    assert (result["outcome"], result["events"][-1]["by"]) == ("human", "far_end")


def test_the_far_ends_dtmf_is_heard(mobile):
    digits: list[str] = []

    def listener(leg, event):
        if getattr(event, "NAME", "") == "dtmf":
            digits.append(event.digit)

    with LineLoop(mobile, zone=CN, spans=[1], listener=listener) as loop:
        leg = loop.originate(CallOptions("13900000001"), span=1)
        loop.run(lambda: leg.state.value == "connected", max_seconds=30)
        mobile.emulated_modem(1).press("159#")
        loop.run(lambda: len(digits) >= 4, max_seconds=5)
        loop.hangup(leg)
        loop.run(lambda: leg.ended, max_seconds=5)
    assert "".join(digits) == "159#"


def test_a_module_reset_mid_call(mobile):
    with LineLoop(mobile, zone=CN, spans=[1]) as loop:
        leg = loop.originate(CallOptions("13810000001"), span=1)
        loop.run(lambda: leg.state.value == "connected", max_seconds=30)
        mobile.emulated_modem(1).reset()
        loop.run(lambda: leg.ended, max_seconds=10)
        loop.run(lambda: loop.module(1).can_place(None), max_seconds=10)
    last = leg.result()["events"][-1]
    assert last["event"] == "hangup" and last["reason"] == "the module restarted (rdy)"
    assert mobile.modem(1).status()["restarts"] == 1
    assert place(mobile, "13700000001").result()["outcome"] == "busy"


def test_noise_on_the_at_port_does_not_disturb_a_call(mobile):
    with LineLoop(mobile, zone=CN, spans=[1]) as loop:
        leg = loop.originate(CallOptions("13900000001", hold=1.0), span=1)
        loop.run(lambda: leg.state.value == "alerting", max_seconds=10)
        mobile.emulated_modem(1).inject("garbage")
        loop.run(lambda: leg.ended, max_seconds=60)
    assert leg.result()["outcome"] == "machine"
    assert mobile.modem(1).status()["garbage"] >= 1


@pytest.mark.parametrize(("module", "why"), [
    ('sim = "absent"', "absent"),
    ("registration = 3", "denied"),
])
def test_a_module_without_sim_or_network_is_out_of_service(request, tmp_path: Path, module,
                                                          why):
    card_file = tmp_path / "card.toml"
    card_file.write_text(f'[[module]]\nname = "gsm1"\nemulated = true\n{module}\n'
                         '[[module]]\nname = "gsm2"\nemulated = true\nrssi = 3\n')
    card = _open(request, f"mobile:{card_file}")
    assert card.span_status(1).alarms == Alarm.RED
    assert card.span_status(2).alarms == Alarm.NONE  # a weak signal is still service
    status = card.modem(1).status()
    assert why in (status["sim"], status["registration"])
    assert card.modem(2).status()["dbm"] == -107
    with LineLoop(card, zone=CN, spans=[1, 2]) as loop:
        assert not loop.module(1).can_place(None)
        assert loop.module(2).can_place(None)


# -- through the gateway -------------------------------------------------------------------
@pytest.fixture
def gateway(request, tmp_path):
    if request.config.getoption("--card").split(":", 1)[0] not in ("emulated", "mobile"):
        pytest.skip("needs emulated mobile modules")
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.testing import VirtualGateway

    config = GatewayConfig(recordings_root=tmp_path / "recordings", fax_spool=tmp_path / "fax",
                           prompts=Path("/"))
    config.card_url = "mobile"
    gw = VirtualGateway(config, network=PLAN)
    request.addfinalizer(gw.close)
    return gw


@pytest.mark.parametrize(("number", "outcome", "cause"), [
    ("13900000001", "machine", 16), ("13700000001", "busy", 17),
    ("13000000001", "invalid_number", 1),
])
def test_calls_through_the_gateway(gateway, number, outcome, cause):
    call = gateway.call("call.originate", number=number, span=2)["call"]
    ended = gateway.run_until(lambda: next(
        (e for e in gateway.events if e.get("call") == call and e.get("state") == "hungup"),
        None), 120)
    assert (ended["outcome"], ended["cause"]) == (outcome, cause)
    states = [e["state"] for e in gateway.events if e.get("event") == "call.state"]
    assert states[0] == "dialing"


def test_the_gateway_lists_each_modules_sim(gateway):
    spans = gateway.call("spans.list")
    assert [(s["kind"], s["alarms"]) for s in spans] == [("mobile", "OK"), ("mobile", "OK")]
    sim = spans[0]["signalling_state"]
    assert (sim["sim"], sim["registration"], sim["operator"]) == ("ready", "home",
                                                                    "CHINA MOBILE")
    assert sim["imsi"] and sim["iccid"] and sim["dbm"] == -73


def test_digits_go_out_as_at_vts_not_as_tones(gateway):
    """call.send_dtmf on a module's call is signalling (AT+VTS, TS 27.007 C.2.11): a GSM
    voice codec does not carry in-band DTMF reliably."""
    call = gateway.call("call.originate", number="13800000001", span=1)["call"]
    gateway.run_until(lambda: any(e.get("call") == call and e.get("state") == "answered"
                                  for e in gateway.events), 60)
    reply = gateway.call("call.send_dtmf", call=call, digits="123#")
    assert reply == {"call": call, "digits": "123#", "sent": "signalling"}
    modem = gateway.service.card.emulated_modem(1)
    gateway.run_until(lambda: modem.dtmf_sent == "123#" or None, 5)
    assert not any(e.get("event") == "play.started" and e.get("call") == call
                   for e in gateway.events)
    gateway.call("call.hangup", call=call)
