"""A SIM that asks for its PIN (issue 20): the module's PIN entered with AT+CPIN only
when the SIM has two or more attempts left, never again after a refusal, a PUK never
entered; all of it against the emulated module on its real pty through pyserial."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modem_kit import ModemRig

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.modem import ModemSettings
from trunkline.drivers.backends.mobile.at import Command, Response, Result
from trunkline.drivers.backends.mobile.card import MobileCard
from trunkline.drivers.backends.mobile.config import load_mobile_config, mobile_config_from_string
from trunkline.drivers.backends.mobile.voice import PROFILES, VoiceModule, pin_counters
from trunkline.drivers.model import Alarm
from trunkline.errors import ConfigError

PIN = "73915"


@pytest.fixture
def rig():
    made: list[ModemRig] = []

    def make(settings: ModemSettings, profile: str = "quectel", pin: str = PIN) -> ModemRig:
        r = ModemRig(settings, profile)
        r.module = VoiceModule(profile, pin=pin)
        made.append(r)
        r.run(1.0)
        return r

    yield make
    for r in made:
        r.close()


def locked(**kw) -> ModemSettings:
    return ModemSettings(**{"sim": "pin", "sim_pin": PIN, **kw})


def pin_entries(r: ModemRig) -> list[str]:
    return [line for line in r.modem.received if line.upper().startswith("AT+CPIN=")]


@pytest.mark.parametrize(("profile", "counter"), [
    ("quectel", "AT+QPINC?"), ("simcom", "AT+SPIC"), ("huawei", "AT^CPIN?"),
    ("generic", "AT+CPINR")])
def test_the_pin_is_entered_after_reading_the_attempts_left(rig, profile, counter) -> None:
    r = rig(locked(), profile)
    r.until(lambda: r.module.ready, 20)
    assert counter in r.modem.received
    assert pin_entries(r) == [f'AT+CPIN="{PIN}"']
    assert r.modem.received.index(counter) < r.modem.received.index(pin_entries(r)[0])
    status = r.module.status
    assert (status.sim, status.pin_note, status.pin_attempts) == ("ready", "entered", 3)
    assert status.imsi == "460001234567890" and status.registered and r.module.ready


def test_a_wrong_pin_is_entered_once_and_reported(rig) -> None:
    r = rig(locked(sim_pin="0000"))
    r.until(lambda: r.module.status.pin_attempts == 2, 20)
    r.run(65.0)  # two status polls: the SIM still asks, and is not asked again
    assert pin_entries(r) == [f'AT+CPIN="{PIN}"']
    assert r.modem.pin_left == 2
    status = r.module.status
    assert status.sim == "pin" and status.pin_attempts == 2
    assert status.pin_note.startswith("wrong PIN") and not r.module.ready
    r.modem.reset()  # after a restart the SIM asks again: still not entered
    r.run(6.0)
    assert len(pin_entries(r)) == 1 and r.module.status.restarts == 1


def test_the_last_attempt_is_never_spent(rig) -> None:
    r = rig(locked(pin_attempts=1))
    r.until(lambda: r.module.status.pin_note.startswith("PIN not entered"), 20)
    assert pin_entries(r) == [] and r.modem.pin_left == 1
    assert r.module.status.pin_note.startswith("PIN not entered: 1 attempt left")


def test_a_blocked_sim_is_reported_with_its_puk_attempts_and_no_puk_is_entered(rig) -> None:
    r = rig(ModemSettings(sim="puk"))
    r.until(lambda: "PUK" in r.module.status.pin_note, 20)
    assert pin_entries(r) == []
    status = r.module.status
    assert (status.sim, status.puk_attempts) == ("puk", 10)
    assert "PUK" in status.pin_note and "10 PUK attempts left" in status.pin_note


def test_without_a_configured_pin_nothing_is_entered(rig) -> None:
    r = rig(locked(), pin="")
    r.until(lambda: r.module.status.pin_note != "", 20)
    assert pin_entries(r) == []
    assert r.module.status.pin_note.startswith("no PIN configured")


def test_after_a_reset_the_right_pin_is_entered_again(rig) -> None:
    r = rig(locked())
    r.until(lambda: r.module.ready, 20)
    r.modem.reset()
    r.until(lambda: r.module.status.restarts == 1, 10)
    r.until(lambda: r.module.ready, 15)
    assert len(pin_entries(r)) == 2 and r.modem.pin_left == 3


def test_a_module_without_counters_gets_no_pin() -> None:
    # A counter query the module refuses: the attempts are unknown, so no PIN.
    module = VoiceModule("generic", pin=PIN)
    module.status.sim = "pin"
    module._on_pincount(Response(Command("AT+CPINR"), Result.ERROR), "", 0.0)
    assert module.data_to_send() == b""
    assert "does not say how many attempts" in module.status.pin_note


@pytest.mark.parametrize(("command", "lines", "expected"), [
    ("AT+QPINC?", ('+QPINC: "SC",2,10', '+QPINC: "P2",3,10'), (2, 10)),
    ("AT+SPIC", ("+SPIC: 3,10,3,10",), (3, 10)),
    ("AT+SPIC", ("+SPIC: 1",), (1, None)),
    ("AT^CPIN?", ("^CPIN: SIM PIN,2,10,2,10,3",), (2, 10)),
    ("AT^CPIN?", ("^CPIN: READY,,10,3,10,3",), (3, 10)),
    ("AT+CPINR", ("+CPINR: SIM PIN,3,3", "+CPINR: SIM PUK,9,10"), (3, 9)),
    ("AT+CPINR", ('+CPINR: "SIM PIN",1,3',), (1, None)),
])
def test_pin_counters_per_vendor(command, lines, expected) -> None:
    assert pin_counters(command, Response(Command(command), Result.OK, lines)) == expected


@given(st.sampled_from([p.pin_counter for p in PROFILES.values()]),
       st.lists(st.text(max_size=40), max_size=4))
def test_pin_counters_never_raise(command, lines) -> None:
    pin, puk = pin_counters(command, Response(Command(command), Result.OK, tuple(lines)))
    assert pin is None or pin >= 0
    assert puk is None or puk >= 0


def tick(card: MobileCard, frames: int) -> None:
    for _ in range(frames):
        rx = card.read_frames()
        card.poll_events()
        card.write_frames(np.zeros_like(rx))


CARD = """
name = "pin-test"
[[module]]
name = "gsm1"
emulated = true
number = "13900000101"
sim = "pin"
sim_pin = "{sim_pin}"
pin = "{pin}"
"""


def test_the_card_puts_a_locked_module_in_service_and_never_shows_the_pin() -> None:
    config = mobile_config_from_string(CARD.format(sim_pin=PIN, pin=PIN))
    assert PIN not in repr(config)
    card = MobileCard(config, clock=VirtualClock())
    try:
        tick(card, 200)
        assert card.span_status(1).alarms == Alarm.NONE
        status = card.modem(1).status()
        assert status["pin_note"] == "entered" and status["pin_source"] == "the card file"
        assert PIN not in repr(status) and PIN not in repr(card.hardware())
    finally:
        card.close()


def test_scan_says_the_pin_was_wrong() -> None:
    from trunkline.drivers.commissioning.checks import diagnose_span

    card = MobileCard(mobile_config_from_string(CARD.format(sim_pin="0000", pin=PIN)),
                      clock=VirtualClock())
    try:
        tick(card, 200)
        assert card.span_status(1).alarms & Alarm.RED
        (detail,) = card.alarm_detail(1)
        assert detail.startswith("SIM pin (wrong PIN") and PIN not in detail
        (finding,) = diagnose_span(card.spans[0], card.span_status(1), [detail])
        assert finding.level == "FAIL" and "pin_file or pin_env" in finding.cause
    finally:
        card.close()


REAL = """
[[module]]
name = "ec25"
port = "/dev/ttyUSB2"
{keys}
"""


def test_the_pin_comes_from_a_private_file(tmp_path) -> None:
    (tmp_path / "ec25.pin").write_text(PIN + "\n")
    os.chmod(tmp_path / "ec25.pin", 0o600)
    (tmp_path / "card.toml").write_text(REAL.format(keys='pin_file = "ec25.pin"'))
    module = load_mobile_config(tmp_path / "card.toml").modules[0]
    assert module.pin == PIN and module.pin_source == f"file {tmp_path / 'ec25.pin'}"


def test_the_pin_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TRUNKLINE_TEST_PIN", PIN)
    module = mobile_config_from_string(REAL.format(keys='pin_env = "TRUNKLINE_TEST_PIN"'))
    assert module.modules[0].pin == PIN


@pytest.mark.parametrize(("keys", "message"), [
    ('pin_env = "TRUNKLINE_NO_SUCH_PIN"', "TRUNKLINE_NO_SUCH_PIN, which is not set"),
    ('pin = "123"', "must be 4 to 8 digits"),
    ('pin = "12a4"', "must be 4 to 8 digits"),
    ('pin = "1234"\npin_env = "X"', "give the PIN one way"),
    ('pin_file = "/nonexistent/sim.pin"', "cannot read it"),
])
def test_pin_settings_are_checked(keys, message) -> None:
    with pytest.raises(ConfigError, match=message):
        mobile_config_from_string(REAL.format(keys=keys))


def test_a_pin_file_anyone_may_read_is_refused(tmp_path) -> None:
    (tmp_path / "sim.pin").write_text(PIN)
    os.chmod(tmp_path / "sim.pin", 0o644)
    (tmp_path / "card.toml").write_text(REAL.format(keys='pin_file = "sim.pin"'))
    with pytest.raises(ConfigError, match="may be read by any user: chmod 600") as err:
        load_mobile_config(tmp_path / "card.toml")
    assert PIN not in str(err.value)


def test_scan_waits_for_the_pin_and_reports_each_sim(tmp_path, capsys) -> None:
    from trunkline.cli import main

    card = tmp_path / "card.toml"
    card.write_text(
        CARD.format(sim_pin=PIN, pin=PIN)
        + CARD.format(sim_pin="0000", pin=PIN).replace('name = "pin-test"\n', "")
        .replace('"gsm1"', '"gsm2"').replace("13900000101", "13900000102")
        + '[[module]]\nname = "gsm3"\nemulated = true\nnumber = "13900000103"\nsim = "puk"\n')
    assert main(["scan", "--card", f"mobile:{card}", "--no-usb"]) == 1
    out = capsys.readouterr().out
    assert "PASS  span 1 (MOBILE): module in service" in out  # the PIN went in, then init
    assert "span 2 (MOBILE): module out of service (SIM pin (wrong PIN" in out
    assert "span 3 (MOBILE): module out of service (SIM puk (blocked" in out
    assert "10 PUK attempts left" in out and PIN not in out


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["quectel", "simcom", "huawei", "generic"]), st.integers(1, 3),
       st.booleans(), st.integers(0, 2))
def test_the_last_attempt_is_never_spent_and_a_refused_pin_never_retried(
        profile, attempts, right, resets) -> None:
    r = ModemRig(locked(pin_attempts=attempts, sim_pin=PIN if right else "0000"), profile)
    r.module = VoiceModule(profile, pin=PIN)
    enters = attempts >= 2 and right

    def settle() -> None:
        # Wait for what the module decides, not for a fixed time: a loaded machine
        # moves the pty's bytes later in the rig's ticks.
        if enters:
            r.until(lambda: r.module.ready, 20)
        else:
            r.until(lambda: r.module.status.initialised and r.module.status.pin_note, 20)
            r.run(1.0)

    try:
        settle()
        for _ in range(resets):
            before = r.module.status.restarts
            r.modem.reset()
            r.until(lambda: r.module.status.restarts > before, 10)  # noqa: B023
            settle()
        entries = len(pin_entries(r))
        assert r.modem.pin_left >= 1 and r.modem.sim_state != "puk"
        if attempts < 2:
            assert entries == 0 and not r.module.ready
        elif enters:
            assert entries == resets + 1 and r.module.ready
        else:
            assert entries == 1 and r.modem.pin_left == attempts - 1
    finally:
        r.close()
