"""The module's call state machine (drivers/backends/mobile/voice.py), sans-IO and against
the emulated modem on its real pty through pyserial (tests/mobile/modem_kit.py)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modem_kit import ModemRig

from trunkline.drivers.backends.emulated.modem import ModemSettings
from trunkline.drivers.backends.mobile.voice import VoiceModule, cause_from_ceer
from trunkline.drivers.modem import CallProgress as P
from trunkline.errors import CallStateError


@pytest.fixture
def rig():
    made: list[ModemRig] = []

    def make(settings: ModemSettings | None = None, profile: str = "quectel") -> ModemRig:
        r = ModemRig(settings, profile)
        made.append(r)
        r.run(1.0)
        return r

    yield make
    for r in made:
        r.close()


def progress(events) -> list[tuple[str, int | None]]:
    return [(e.progress.value, e.cause) for e in events]


def test_init_reads_sim_network_and_signal(rig) -> None:
    r = rig()
    status = r.module.status.as_dict()
    assert r.module.ready
    assert status | {"model": ""} == status | {
        "sim": "ready", "imsi": "460001234567890", "iccid": "89860012345678901234",
        "operator": "CHINA MOBILE", "registered": True, "registration": "home", "rssi": 20,
        "dbm": -73, "model": ""}
    assert r.modem.received[:3] == ["ATE0", "AT+CMEE=2", "ATI"]
    assert "AT^DSCI=1" in r.modem.received


@pytest.mark.parametrize("profile", ["quectel", "generic", "simcom"])
def test_an_answered_call_then_dtmf_then_our_hang_up(rig, profile: str) -> None:
    r = rig(profile=profile)
    r.module.dial("13812345678", r.now)
    r.until(lambda: r.module.call_progress is P.ACTIVE, 30)
    r.module.send_dtmf("12#", r.now)
    r.run(0.5)
    assert r.modem.dtmf_sent == "12#"
    r.module.hang_up(r.now)
    r.run(0.5)
    assert progress(r.events) == [("dialing", None), ("alerting", None), ("active", None),
                                  ("ended", 16)]
    assert r.events[-1].reason == "near_end" and r.modem.call_state is None


@pytest.mark.parametrize(("number", "cause", "seconds"), [
    ("13712345678", 17, 5),     # busy
    ("13012345678", 1, 40),     # invalid number: announcement, then cause 1
    ("13412345678", 20, 40),    # powered off: subscriber absent
    ("13312345678", 27, 40),    # unreachable: destination out of order
    ("13512345678", 34, 5),     # congestion
])
def test_unanswered_calls_end_with_the_networks_cause(rig, number: str, cause: int,
                                                      seconds: float) -> None:
    r = rig()
    r.module.dial(number, r.now)
    r.until(lambda: not r.module.in_call, seconds)
    assert r.events[0].progress is P.DIALING
    assert (r.events[-1].progress, r.events[-1].cause) == (P.ENDED, cause)
    assert r.module.ready


def test_no_answer_rings_until_the_network_gives_up(rig) -> None:
    r = rig(profile="generic")
    r.module.dial("13612345678", r.now)
    r.until(lambda: not r.module.in_call, 100)
    assert progress(r.events) == [("dialing", None), ("alerting", None), ("ended", 19)]


def test_the_far_end_hangs_up(rig) -> None:
    r = rig()
    r.module.dial("13812345678", r.now)
    r.until(lambda: r.module.call_progress is P.ACTIVE, 30)
    r.modem.far_hang_up()
    r.run(0.5)
    assert progress(r.events)[-1] == ("ended", 16) and r.events[-1].reason == "far_end"


def test_an_incoming_call_is_offered_with_its_number_and_answered(rig) -> None:
    r = rig()
    r.modem.ring_in("13900000009")
    r.run(0.5)
    assert progress(r.events) == [("incoming", None)]
    assert r.events[0].number == "13900000009"
    r.module.answer(r.now)
    r.run(0.5)
    assert r.module.call_progress is P.ACTIVE and r.modem.call_state == 0
    r.module.hang_up(r.now)
    r.run(0.5)
    assert progress(r.events)[-1] == ("ended", 16)


def test_a_caller_who_gives_up(rig) -> None:
    r = rig(profile="generic")
    r.modem.ring_in("13900000009", rings=2)
    r.run(8)
    assert progress(r.events) == [("incoming", None), ("ended", 19)]


def test_requests_out_of_state_are_refused(rig) -> None:
    r = rig()
    with pytest.raises(CallStateError, match="no call"):
        r.module.answer(r.now)
    r.module.dial("13812345678", r.now)
    with pytest.raises(CallStateError, match="it has a call"):
        r.module.dial("13812345678", r.now)


def test_no_sim(rig) -> None:
    r = rig(ModemSettings(sim="absent"))
    assert r.module.status.sim == "absent" and not r.module.ready
    r.module.dial("13812345678", r.now)
    [event] = r.module.take_call_events() or r.events[-1:]
    assert event.progress is P.ENDED and "SIM absent" in event.reason


@pytest.mark.parametrize(("stat", "words"), [(0, "not searching"), (3, "denied")])
def test_no_network(rig, stat: int, words: str) -> None:
    r = rig(ModemSettings(registration=stat))
    assert not r.module.status.registered and not r.module.ready
    r.module.dial("13812345678", r.now)
    r.run(0.1)
    assert r.events[-1].progress is P.ENDED and words in r.events[-1].reason


def test_registration_lost_mid_call_ends_it(rig) -> None:
    r = rig()
    r.module.dial("13812345678", r.now)
    r.until(lambda: r.module.call_progress is P.ACTIVE, 30)
    r.modem.set_registration(0)
    r.run(0.5)
    assert progress(r.events)[-1] == ("ended", 38)
    assert not r.module.status.registered


def test_weak_signal_is_reported(rig) -> None:
    r = rig(ModemSettings(rssi=3))
    assert (r.module.status.rssi, r.module.status.dbm) == (3, -107)
    assert r.module.ready


def test_a_reset_mid_call_ends_it_and_the_module_comes_back(rig) -> None:
    r = rig()
    r.module.dial("13812345678", r.now)
    r.until(lambda: r.module.call_progress is P.ACTIVE, 30)
    r.modem.reset()
    r.until(lambda: not r.module.in_call, 10)
    assert r.events[-1].progress is P.ENDED
    assert r.events[-1].reason == "the module restarted (rdy)"
    r.until(lambda: r.module.ready, 10)
    assert r.module.status.restarts == 1 and r.module.status.garbage >= 1
    r.module.dial("13712345678", r.now)
    r.until(lambda: not r.module.in_call, 10)
    assert progress(r.events)[-1] == ("ended", 17)


def test_garbage_on_the_line_is_counted_and_calls_go_on(rig) -> None:
    r = rig()
    r.module.dial("13812345678", r.now)
    r.modem.inject("garbage")
    r.until(lambda: r.module.call_progress is P.ACTIVE, 30)
    assert r.module.status.garbage >= 2


# -- sans-IO: the vendors' URCs, fed as bytes ----------------------------------------------
def ready_module(profile: str = "generic") -> VoiceModule:
    """A module whose init was answered OK with a registered SIM (echo already off)."""
    m = VoiceModule(profile)
    m.start(0.0)
    answers = {"AT+CPIN?": "+CPIN: READY", "AT+CREG?": "+CREG: 2,1", "AT+CSQ": "+CSQ: 20,99"}
    while m.channel.pending is not None:
        text = m.channel.pending.text
        m.data_to_send()
        extra = answers.get(text)
        m.feed((f"\r\n{extra}\r\n" if extra else "").encode() + b"\r\nOK\r\n", 0.0)
    assert m.ready
    return m


def test_huawei_cend_carries_the_cause() -> None:
    m = ready_module("huawei")
    m.dial("10086", 1.0)
    m.feed(b"\r\nOK\r\n\r\n^ORIG:1,0\r\n\r\n^CONF:1\r\n\r\n^CONN:1,0\r\n", 1.1)
    assert m.data_to_send().endswith(b"AT^DDSETEX=2\r")  # once, at ^ORIG
    m.feed(b"\r\n^CEND:1,5,104,17\r\n", 9.0)
    assert progress(m.take_call_events()) == [("dialing", None), ("alerting", None),
                                              ("active", None), ("ended", 17)]


@pytest.mark.parametrize("voice", [True, False])
def test_huawei_init_asks_whether_the_firmware_has_voice(rig, voice: bool) -> None:
    r = rig(ModemSettings(voice=voice), profile="huawei")
    assert r.module.ready  # a stick without voice still serves SMS
    assert "AT^CVOICE?" in r.modem.received
    assert not any(c.startswith("AT^CVOICE=") for c in r.modem.received)  # never set
    assert r.module.status.as_dict()["voice"] is voice


def test_simcom_voice_call_urcs_and_ceer() -> None:
    m = ready_module("simcom")
    m.dial("10086", 1.0)
    # As a SIM7600 reports a call (its log): the voice channel begins while dialing.
    m.feed(b'\r\nOK\r\n\r\n+CLCC: 3,0,2,0,0,"10086",129\r\n\r\nVOICE CALL: BEGIN\r\n', 1.1)
    assert m.data_to_send().endswith(b"AT+CPCMREG=1\r")
    assert m.call_progress is P.DIALING  # early media, no answer yet
    m.feed(b'\r\nOK\r\n\r\n+CLCC: 3,0,0,0,0,"10086",129\r\n', 2.0)
    m.feed(b'\r\n+CLCC: 3,0,6,0,0,"10086",129\r\n\r\nVOICE CALL: END: 000012\r\n'
           b"\r\nNO CARRIER\r\n", 5.0)
    assert m.data_to_send() == b"AT+CEER\r"
    m.feed(b"\r\n+CEER: Normal call clearing\r\n\r\nOK\r\n", 5.1)
    assert progress(m.take_call_events()) == [("dialing", None), ("active", None),
                                              ("ended", 16)]
    assert m.data_to_send() == b"AT+CPCMREG=0\r"


def test_an_urc_cannot_move_a_call_backwards() -> None:
    m = ready_module("quectel")
    m.dial("10086", 1.0)
    m.feed(b'\r\nOK\r\n\r\n^DSCI: 1,0,0,0,"10086",129\r\n'
           b'\r\n^DSCI: 1,0,3,0,"10086",129\r\n', 1.1)
    assert progress(m.take_call_events()) == [("dialing", None), ("active", None)]


@pytest.mark.parametrize(("report", "cause"), [
    ('"User busy",17', 17), ('"CC_CAUSE",19', 19), ("Normal call clearing", 16),
    ("No report available", None), ('"Unallocated (unassigned) number"', 1),
])
def test_ceer_reports(report: str, cause: int | None) -> None:
    assert cause_from_ceer(report) == cause


URCS = [b"RING", b'+CLIP: "139",129', b"NO CARRIER", b"BUSY", b"OK", b"ERROR",
        b'+CLCC: 1,0,3,0,0,"1",129', b'+CLCC: 1,1,4,0,0,"1",129', b"+CLCC: 1,0,0,0,0",
        b'^DSCI: 1,0,6,0,"1",129', b"^CEND:1,0,104,16", b"^CONN:1,0", b"RDY",
        b"+CEER: \"User busy\",17", b"+CREG: 0", b"+CREG: 1", b"\xff\xfe", b"+CSQ: 3,99"]
ACTIONS = ["dial", "answer", "hang_up", "dtmf", "tick"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(URCS), st.sampled_from(ACTIONS)), max_size=40))
def test_any_sequence_keeps_the_call_consistent(steps: list) -> None:
    """Whatever the module says and the caller asks, events never move a call backwards,
    a call ends at most once, and every call that began is over or still on."""
    m = ready_module("quectel")
    now = 1.0
    events = []
    for step in steps:
        now += 0.3
        if isinstance(step, bytes):
            m.feed(b"\r\n" + step + b"\r\n", now)
        elif step == "dial":
            with contextlib.suppress(CallStateError):
                m.dial("10086", now)
        elif step == "answer":
            with contextlib.suppress(CallStateError):
                m.answer(now)
        elif step == "hang_up":
            m.hang_up(now)
        elif step == "dtmf":
            m.send_dtmf("1", now)
        else:
            m.handle_timer(now + 10)
        m.data_to_send()
        events += m.take_call_events()
    order = {P.DIALING: 0, P.INCOMING: 0, P.ALERTING: 1, P.ACTIVE: 2}
    last = -1
    open_call = False
    for event in events:
        if event.progress is P.ENDED:
            open_call, last = False, -1
            continue
        if event.progress in (P.DIALING, P.INCOMING):
            assert not open_call
            open_call = True
        assert order[event.progress] > last
        last = order[event.progress]
    # An incoming call is offered once its number is known (+CLIP or +CLCC): until then
    # the module has a call nobody has heard of yet.
    assert open_call == m.in_call or (not open_call and m.call_progress is P.INCOMING)


def test_a_silent_module_gets_one_probe_at_a_time() -> None:
    """Nobody answers (a module still booting, the wrong port): ATE0 times out, and is
    tried again every few seconds; nothing piles up behind it."""
    m = VoiceModule("quectel")
    sent = b""
    for step in range(1, 1501):  # 30 s
        m.handle_timer(step * 0.02)
        sent += m.data_to_send()
    assert set(sent.split(b"\r")) == {b"ATE0", b""}
    assert 3 <= sent.count(b"ATE0") <= 5
    assert not m.status.responding and not m.ready
    assert len(m.channel._queue) == 0
    now = 30.0
    while m.channel.pending is None:  # the next probe
        now += 0.02
        m.handle_timer(now)
    assert m.data_to_send() == b"ATE0\r"
    m.feed(b"\r\nOK\r\n", now)  # it answers at last: the rest of the init follows
    assert m.status.responding and m.data_to_send() == b"AT+CMEE=2\r"


def test_scheduled_faults_outlive_the_calls_before_them(rig) -> None:
    r = rig(ModemSettings(faults=((4.0, "garbage"), (6.0, "reset"))))
    r.modem.ring_in("13900000009")
    r.run(0.5)
    r.module.answer(r.now)
    r.run(1.0)
    r.module.hang_up(r.now)
    r.until(lambda: r.module.status.restarts == 1, 10)
    assert r.module.status.garbage >= 1 and r.now >= 6.0


@pytest.mark.parametrize(("answer", "cause", "reason"), [
    (b"NO CARRIER", 21, "far_end"),
    (b"NO ANSWER", 19, "no answer"),
    (b"+CME ERROR: no network service", None, "refused the dial: no network service"),
])
def test_a_dial_that_fails_at_once(answer: bytes, cause: int | None, reason: str) -> None:
    m = ready_module("generic")
    m.dial("10086", 1.0)
    assert m.data_to_send() == b"ATD10086;\r"
    m.feed(b"\r\n" + answer + b"\r\n", 1.5)
    if answer == b"NO CARRIER":
        assert m.data_to_send() == b"AT+CEER\r"
        m.feed(b'\r\n+CEER: "Call rejected",21\r\n\r\nOK\r\n', 1.6)
    [*_, ended] = m.take_call_events()
    assert (ended.progress, ended.cause) == (P.ENDED, cause) and reason in ended.reason
    assert m.ready


def test_both_forms_of_dsci() -> None:
    m = ready_module("quectel")
    m.dial("18062077083", 1.0)
    m.feed(b"\r\nOK\r\n\r\n^DSCI: 1,0,2,0,0,18062077083,129,,,,0\r\n"
           b'\r\n^DSCI: 1,0,3,0,0,"18062077083",129\r\n'
           b'\r\n^DSCI: 1,0,6,0,0,"18062077083",129,,17,3\r\n', 1.1)
    assert progress(m.take_call_events()) == [("dialing", None), ("alerting", None),
                                              ("ended", 17)]
    m.feed(b"\r\nRING\r\n\r\n^DSCI: 4,1,4,0,+8613912345678,145\r\n", 2.0)
    [offer] = m.take_call_events()
    assert (offer.progress, offer.number) == (P.INCOMING, "+8613912345678")


def test_simcom_missed_call() -> None:
    m = ready_module("simcom")
    m.feed(b"\r\nRING\r\n\r\n+CLCC: 4,1,4,0,0,08020866256,128\r\n", 1.0)
    [offer] = m.take_call_events()
    assert (offer.progress, offer.number) == (P.INCOMING, "08020866256")
    assert m.data_to_send() == b"AT+CLCC\r"
    m.feed(b"\r\n+CLCC: 4,1,4,0,0,08020866256,128\r\n\r\nOK\r\n", 1.1)
    m.feed(b"\r\nMISSED_CALL: 11:53AM 08020866256\r\n", 9.0)
    assert m.data_to_send().endswith(b"AT+CEER\r")
