"""The mobile card (drivers/backends/mobile/card.py) and its signalling module
(drivers/signalling/mobile.py), on the sample card's emulated modules: pyserial on real
pseudo-terminals, the line loop driving the legs."""

from __future__ import annotations

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.mobile.card import MobileCard
from trunkline.drivers.backends.mobile.config import mobile_config_from_string
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import Alarm, ChannelState, EventKind, SpanKind
from trunkline.drivers.modem import CallProgress
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.mobile import MobileSignalling
from trunkline.errors import CardNotFound, ChannelStateError, ConfigError, NumberFormatError

CN = load_zone("cn")


@pytest.fixture
def card():
    card = open_card("mobile", clock=VirtualClock())
    yield card
    card.close()


def tick(card, frames: int) -> list:
    events = []
    for _ in range(frames):
        rx = card.read_frames()
        events += card.poll_events()
        card.write_frames(np.zeros_like(rx))
    return events


def test_each_module_is_a_span_of_one_channel_in_service(card) -> None:
    assert [(s.number, s.kind, s.channels) for s in card.spans] == [
        (1, SpanKind.MOBILE, (1,)), (2, SpanKind.MOBILE, (2,))]
    assert [card.span_status(s).alarms for s in (1, 2)] == [Alarm.NONE, Alarm.NONE]
    assert card.channel_state(1) is ChannelState.IDLE
    status = card.modem(1).status()
    assert status["sim"] == "ready" and status["operator"] == "CHINA MOBILE"
    assert status["port"].startswith("/dev/pts/") and status["registered"]
    assert [(h["name"], h["imsi"]) for h in card.hardware()] == [
        ("gsm1", "460001234567801"), ("gsm2", "460001234567802")]


def test_mobile_channels_take_no_hook_or_dial(card) -> None:
    card.open(1)
    with pytest.raises(ChannelStateError, match="mobile module"):
        card.hook(1, "offhook")
    with pytest.raises(ChannelStateError, match="not an FXO port"):
        card.dial(1, "123")
    card.close_channel(1)


def test_a_call_moves_the_far_ends_audio(card) -> None:
    link = card.modem(1)
    card.open(1)
    link.dial("13810000001")  # answers after 2..6 s
    levels = []
    progress = []
    for _ in range(450):
        rx = card.read_frames()
        levels.append(float(np.abs(rx.astype(np.float64)).mean()))
        card.write_frames(np.full_like(rx, 1000))  # our side talks
        while (event := link.receive()) is not None:
            progress.append(event.progress)
    assert progress[:3] == [CallProgress.DIALING, CallProgress.ALERTING, CallProgress.ACTIVE]
    assert max(levels[60:]) > 300  # ringback, then the greeting
    assert card.channel_state(1) is ChannelState.IN_USE
    # What we sent reached the module's audio port as 16-bit PCM (A-law on the card).
    assert card.emulated_modem(1).heard == pytest.approx(np.full(160, 1008.0))
    link.hang_up()
    tick(card, 5)
    assert card.channel_state(1) is ChannelState.IDLE
    card.close_channel(1)


def test_losing_the_network_is_a_red_alarm_and_back(card) -> None:
    modem = card.emulated_modem(2)
    modem.set_registration(0)
    events = tick(card, 3)
    assert [(e.kind, e.span, e.value) for e in events] == [
        (EventKind.ALARM, 2, int(Alarm.RED))]
    assert card.channel_state(2) is ChannelState.OUT_OF_SERVICE
    assert not card.modem(2).ready
    modem.set_registration(5)  # roaming is registered too
    events = tick(card, 3)
    assert [(e.kind, e.span) for e in events] == [(EventKind.NOALARM, 2)]


def test_a_module_without_sim_is_out_of_service_from_the_start() -> None:
    config = mobile_config_from_string('[[module]]\nname = "a"\nemulated = true\n'
                                       'sim = "absent"\n')
    with MobileCard(config, clock=VirtualClock()) as card:
        assert card.span_status(1).alarms == Alarm.RED
        assert card.modem(1).status()["sim"] == "absent"


@pytest.mark.parametrize(("text", "message"), [
    ("", "at least one"),
    ('[[module]]\nname = "a"\n', "needs its AT port"),
    ('[[module]]\nemulated = true\nsim = "maybe"\n', "sim must be"),
    ('[[module]]\nemulated = true\nport = "/dev/x"\n', "port"),
    ('[[module]]\nemulated = true\nprofile = "nokia"\n', "profile must be"),
    ('[[module]]\nemulated = true\nfaults = [{at = 1, kind = "fire"}]\n', "fault kind"),
    ('[[module]]\nname = "a"\nemulated = true\n[[module]]\nname = "a"\nemulated = true\n',
     "used twice"),
])
def test_the_config_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        mobile_config_from_string(text)


def test_a_missing_port_says_which_and_why() -> None:
    config = mobile_config_from_string('[[module]]\nname = "ec25"\nport = "/dev/nonexistent9"\n')
    with pytest.raises(CardNotFound, match=r"ec25.*nonexistent9"):
        MobileCard(config, clock=VirtualClock())


def test_a_number_plan_needs_emulated_modules(tmp_path) -> None:
    from trunkline.drivers.backends.emulated.plan import default_plan

    config = mobile_config_from_string('[[module]]\nname = "ec25"\nport = "/dev/null9"\n')
    with pytest.raises(ConfigError, match="number plan"):
        MobileCard(config, clock=VirtualClock(), network=default_plan())


# -- the signalling module on the line loop --------------------------------------------------
def place(card, number: str, span: int = 1, **options):
    with LineLoop(card, zone=CN, spans=[span]) as loop:
        assert isinstance(loop.module(span), MobileSignalling)
        leg = loop.originate(CallOptions(number, **{"hold": 1.0, **options}), span=span)
        loop.run(lambda: leg.ended, max_seconds=300)
    return leg.result()


@pytest.mark.parametrize(("number", "outcome", "cause"), [
    ("13800000001", "human", 16),
    ("13900000001", "machine", 16),
    ("13700000001", "busy", 17),
    ("13500000001", "congestion", 34),
    ("13000000001", "invalid_number", 1),
    ("13400000001", "unreachable", 20),
])
def test_outcomes_and_causes(card, number: str, outcome: str, cause: int) -> None:
    result = place(card, number)
    assert (result["outcome"], result["cause"]) == (outcome, cause), result["events"]


def test_we_stop_a_call_that_rings_too_long(card) -> None:
    result = place(card, "13600000001", ring_timeout=8.0)
    events = [e["event"] for e in result["events"]]
    assert result["outcome"] == "no_answer" and "alerting" in events
    assert events[-2:] == ["clearing", "hangup"]


def test_a_bad_number_is_refused_before_any_call(card) -> None:
    with LineLoop(card, zone=CN, spans=[1]) as loop, pytest.raises(NumberFormatError):
        loop.originate(CallOptions("12a4"), span=1)


def test_an_offered_call_is_answered_and_the_far_ends_digits_heard(card) -> None:
    offered = []

    def listener(leg, event) -> None:
        if leg is not None:
            offered.append((leg, event))

    with LineLoop(card, zone=CN, spans=[2], listener=listener) as loop:
        card.emulated_modem(2).ring_in("13912345678")
        loop.run(lambda: bool(offered), max_seconds=5)
        leg, event = offered[0]
        assert (event.NAME, event.calling, leg.direction) == ("offered", "13912345678",
                                                              "inbound")
        loop.answer(leg)
        loop.run(lambda: card.emulated_modem(2).call_state == 0, max_seconds=2)
        card.emulated_modem(2).press("42")
        loop.run(lambda: sum(e.NAME == "dtmf" for _, e in offered) >= 2, max_seconds=5)
        loop.hangup(leg)
        loop.run(lambda: leg.ended, max_seconds=5)
    assert "".join(e.digit for _, e in offered if e.NAME == "dtmf") == "42"
    assert leg.result()["outcome"] == "human"


def test_an_offered_call_nobody_takes_is_refused(card) -> None:
    legs = []
    with LineLoop(card, zone=CN, spans=[1],
                  listener=lambda leg, e: legs.append(leg)) as loop:
        card.emulated_modem(1).ring_in("13912345678")
        loop.run(lambda: any(leg is not None and leg.ended for leg in legs), max_seconds=30)
    leg = next(leg for leg in legs if leg is not None)
    assert leg.result()["outcome"] == "rejected"
    assert card.emulated_modem(1).call_state is None


def test_a_module_reset_mid_call_ends_it_as_an_error_and_it_comes_back(card) -> None:
    with LineLoop(card, zone=CN, spans=[1]) as loop:
        leg = loop.originate(CallOptions("13800000001"), span=1)
        loop.run(lambda: leg.state.value == "connected", max_seconds=30)
        card.emulated_modem(1).reset()
        loop.run(lambda: leg.ended, max_seconds=10)
        result = leg.result()
        loop.run(lambda: loop.module(1).can_place(None), max_seconds=10)
    assert result["outcome"] == "human"  # it had been answered and classified
    assert result["events"][-1]["reason"] == "the module restarted (rdy)"
    assert card.modem(1).status()["restarts"] == 1
    assert place(card, "13700000001")["outcome"] == "busy"


# -- SMS over the same AT port -----------------------------------------------------------------
def sms_events(card, span: int, frames: int) -> list:
    link = card.sms(span)
    events = []
    for _ in range(frames):
        tick(card, 1)
        while (event := link.receive()) is not None:
            events.append(event)
    return events


def test_an_sms_goes_out_and_its_status_report_comes_back(card) -> None:
    from trunkline.drivers.sms import SmsDelivery, SmsSent, split_text

    link = card.sms(1)
    assert link.ready  # PDU mode was set up at open, with the module's init
    text = "还款提醒: please call us back " * 8  # UCS-2, in parts
    encoding, parts = split_text(text)
    assert encoding == "ucs2"
    link.send("m1", "13800000001", text)
    events = sms_events(card, 1, 300)
    sent = [e for e in events if isinstance(e, SmsSent)]
    assert len(sent) == 1 and sent[0].message == "m1" and len(sent[0].references) == len(parts) > 1
    reports = [e for e in events if isinstance(e, SmsDelivery)]
    assert sorted(r.reference for r in reports) == sorted(sent[0].references)
    assert {r.outcome for r in reports} == {"delivered"}
    modem = card.emulated_modem(1)
    assert "".join(s.text for s in modem.sms_sent) == text


def test_an_sms_arrives_and_is_deleted_once_acknowledged(card) -> None:
    from trunkline.drivers.sms import SmsReceived

    modem = card.emulated_modem(2)
    modem.receive_sms("13912345678", "Hello from the far end, " * 10)  # two parts
    [received] = [e for e in sms_events(card, 2, 50) if isinstance(e, SmsReceived)]
    assert (received.sender, received.parts) == ("13912345678", 2)
    assert received.text == "Hello from the far end, " * 10
    assert len(modem.sms_store) == 2  # kept on the SIM until the gateway has stored it
    card.sms(2).acknowledge(received.receipt)
    sms_events(card, 2, 20)
    assert modem.sms_store == {}


def test_sms_and_a_call_share_the_port(card) -> None:
    from trunkline.drivers.sms import SmsSent

    with LineLoop(card, zone=CN, spans=[1]) as loop:
        leg = loop.originate(CallOptions("13700000001"), span=1)
        card.sms(1).send("m2", "13800000001", "while dialing")
        got = []
        loop.run(lambda: leg.ended and any(isinstance(e, SmsSent) for e in got),
                 max_seconds=10, on_tick=lambda f: got.extend(
                     iter(card.sms(1).receive, None)))
    assert leg.result()["outcome"] == "busy"


def test_status_shows_each_modules_sim_and_network() -> None:
    from trunkline.drivers.commissioning.status import mobile_rows

    config = mobile_config_from_string('[[module]]\nname = "a"\nemulated = true\nrssi = 3\n'
                                       '[[module]]\nname = "b"\nemulated = true\n'
                                       'sim = "absent"\n')
    with MobileCard(config, clock=VirtualClock()) as card:
        rows = mobile_rows(card)
    assert rows == [
        ("1", "a", "ready", "460001234567801", "89860012345678901201", "home", "CHINA MOBILE",
         "-107 dBm", "0"),
        ("2", "b", "absent", "-", "-", "not searching", "-", "-73 dBm", "0")]


def test_an_unplugged_module_ends_its_call_and_only_its_span_goes_down(card) -> None:
    """A module leaving the USB bus: its tty hangs up. The card must not stop: that
    module's call ends with the reason, its span is RED, the other module works on."""
    with LineLoop(card, zone=CN, spans=[1, 2]) as loop:
        leg = loop.originate(CallOptions("13810000001"), span=1)
        loop.run(lambda: leg.state.value == "connected", max_seconds=30)
        card.emulated_modem(1).unplug()
        loop.run(lambda: leg.ended, max_seconds=5)
        assert card.span_status(1).alarms == Alarm.RED
        assert not loop.module(1).can_place(None)
        other = loop.originate(CallOptions("13700000001"), span=2)
        loop.run(lambda: other.ended, max_seconds=10)
        loop.run(lambda: False, max_seconds=6)  # a reopen attempt fails: still down
    reason = leg.result()["events"][-1]["reason"]
    assert reason.startswith("the module's") and "port failed" in reason
    assert other.result()["outcome"] == "busy"
    status = card.modem(1).status()
    assert status["lost"] and card.span_status(1).alarms == Alarm.RED


def test_gains_trim_the_levels_both_ways() -> None:
    def card_with(gains: str) -> MobileCard:
        return MobileCard(mobile_config_from_string(
            f'seed = 3\n[[module]]\nname = "a"\nemulated = true\n{gains}\n'),
            clock=VirtualClock())

    levels = []
    for gains in ("", "rx_gain = -6.0\ntx_gain = 6.0"):
        with card_with(gains) as card:
            card.open(1)
            card.modem(1).dial("13810000001")
            total = 0.0
            for _ in range(150):  # ringback, the same on both cards (the same seed)
                rx = card.read_frames()
                total += float(np.abs(rx.astype(np.float64)).sum())
                card.write_frames(np.full_like(rx, 1000))
            levels.append((total, float(card.emulated_modem(1).heard.max())))
            card.modem(1).hang_up()
            tick(card, 3)
            card.close_channel(1)
    (plain, heard_plain), (trimmed, heard_boosted) = levels
    assert trimmed / plain == pytest.approx(10 ** (-6 / 20), rel=0.05)
    # 1000 and 1995 after A-law, whose step is 16 near 1000 and 32 near 2000.
    assert heard_plain == pytest.approx(1000, abs=16)
    assert heard_boosted == pytest.approx(1995, abs=32)


def test_gains_are_checked() -> None:
    with pytest.raises(ConfigError, match="rx_gain must be dB"):
        mobile_config_from_string('[[module]]\nemulated = true\nrx_gain = 40\n')


def test_scan_says_why_a_module_is_out_of_service() -> None:
    from trunkline.drivers.commissioning.checks import diagnose_span

    config = mobile_config_from_string(
        '[[module]]\nname = "a"\nemulated = true\nsim = "absent"\n'
        '[[module]]\nname = "b"\nemulated = true\nregistration = 3\n'
        '[[module]]\nname = "c"\nemulated = true\n')
    with MobileCard(config, clock=VirtualClock()) as card:
        found = [diagnose_span(s, card.span_status(s.number), card.alarm_detail(s.number))[0]
                 for s in card.spans]
        card.emulated_modem(3).unplug()
        card.open(3)
        card.modem(3).dial("13800000001")
        tick(card, 5)
        lost = card.alarm_detail(3)
        card.close_channel(3)
    assert [(f.level, f.message) for f in found] == [
        ("FAIL", "module out of service (SIM absent)"),
        ("FAIL", "module out of service (not registered (denied))"),
        ("PASS", "module in service (SIM ready, registered)")]
    assert "insert it" in found[0].cause and "antenna" in found[1].cause
    assert lost == ["port lost"]


def test_scan_times_a_mobile_card_as_modules_not_analog_ports(card) -> None:
    from trunkline.drivers.commissioning.checks import diagnose_timing

    [timing] = diagnose_timing(card, {s.number: card.span_status(s.number)
                                      for s in card.spans})
    assert (timing.level, timing.message) == (
        "PASS", "mobile modules only: each module times its own audio (no span to take a "
                "clock from)")
