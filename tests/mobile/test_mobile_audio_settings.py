"""A module's audio settings (issue 20): the installer's audio_commands sent at each init
and their answers in status, and a module whose voice is a USB Audio Class card (Quectel
AT+QPCMV=1,2) run with its AT port on the emulated module's pty and its audio on ALSA's
null device through pyalsaaudio."""

from __future__ import annotations

import numpy as np
import pytest
from modem_kit import ModemRig

from trunkline.drivers.backends.emulated.modem import ModemBank, ModemSettings
from trunkline.drivers.backends.emulated.plan import default_plan
from trunkline.drivers.backends.mobile.card import _Module
from trunkline.drivers.backends.mobile.config import mobile_config_from_string
from trunkline.drivers.backends.mobile.voice import VoiceModule
from trunkline.drivers.modem import CallProgress
from trunkline.errors import ConfigError


def test_audio_commands_go_at_each_init_and_their_answers_are_kept() -> None:
    rig = ModemRig(ModemSettings(), "quectel")
    rig.module = VoiceModule("quectel", audio_commands=("AT+CLVL=5", "AT+QEEC=0,1"))
    try:
        rig.until(lambda: len(rig.module.status.audio) == 2, 20)
        assert rig.modem.volume == 5
        assert rig.module.status.as_dict()["audio_commands"] == {
            "AT+CLVL=5": "OK", "AT+QEEC=0,1": "error"}
        rig.modem.reset()  # a restart forgets them: they go again
        rig.until(lambda: rig.module.status.restarts == 1, 10)
        rig.until(lambda: rig.module.ready, 10)
        assert rig.modem.received.count("AT+CLVL=5") == 2 and rig.modem.volume == 5
    finally:
        rig.close()


REAL = '[[module]]\nname = "ec25"\nport = "/dev/ttyUSB2"\nprofile = "{profile}"\n{keys}\n'


@pytest.mark.parametrize(("profile", "keys", "message"), [
    ("quectel", 'audio_commands = ["ATD13800000001"]', "not an audio setting"),
    ("quectel", 'audio_commands = ["AT+CPIN=\\"1234\\""]', "not an audio setting"),
    ("quectel", 'audio_commands = ["AT+CLVL=3;D112;"]', "no ';'"),
    ("quectel", 'audio_commands = ["CLVL=3"]', "one AT command line"),
    ("quectel", 'audio_commands = "AT+CLVL=3"', "must be a list"),
    ("simcom", 'audio = "uac"', "simcom module carries voice on a serial audio port"),
    ("huawei", 'audio = "alsa:hw:1"', "huawei module carries voice on a serial audio port"),
    ("quectel", 'audio = "uac:"', "needs what follows the colon"),
    ("quectel", 'audio = "uac"\naudio_rate = 44100', "8000 or 16000"),
    ("quectel", 'audio = "/dev/ttyUSB1"\naudio_rate = 16000', "audio_rate is for USB audio"),
    ("quectel", "echo_canceller = 4", "a tail in ms, 8..128"),
    ("quectel", "echo_canceller = 256", "a tail in ms, 8..128"),
    ("quectel", "echo_canceller = true", "a tail in ms, 8..128"),
])
def test_audio_settings_are_checked(profile, keys, message) -> None:
    with pytest.raises(ConfigError, match=message):
        mobile_config_from_string(REAL.format(profile=profile, keys=keys))


def test_usb_audio_settings_are_read() -> None:
    config = mobile_config_from_string(REAL.format(
        profile="quectel", keys='audio = "uac:1-1.4"\naudio_rate = 16000\n'
        'audio_commands = ["AT+CLVL=3"]'))
    module = config.modules[0]
    assert (module.uac, module.audio_rate, module.audio_commands) == (
        True, 16000, ("AT+CLVL=3",))


def test_a_uac_module_runs_its_calls_with_audio_on_an_alsa_card() -> None:
    pytest.importorskip("alsaaudio")
    bank = ModemBank(default_plan(), [("ec25", ModemSettings())])
    modem = bank.modems[0]
    config = mobile_config_from_string(REAL.format(
        profile="quectel", keys='audio = "alsa:null"')).modules[0]
    module = _Module(1, config, "alaw")
    module.emulated = modem  # the card's pty bookkeeping for an emulated module
    module.open(modem.at.path, config.audio)
    try:
        assert module.alsa is not None and module.audio is None
        now = 0.0
        module.voice.start(now)

        def tick() -> np.ndarray:
            nonlocal now
            now = round(now + 0.02, 6)
            bank.step(now)
            module.pump(now)
            frame = module.frame()
            module.send(np.zeros(160, dtype=np.int16), now)
            return frame

        for _ in range(1000):  # the init's answers, however late the pty hands them over
            tick()
            if module.voice.ready:
                break
        assert module.voice.ready
        assert "AT+QPCMV=1,2" in modem.received and "AT+QPCMV=1,0" not in modem.received
        module.voice.dial("13812345678", now)
        for _ in range(1500):
            frame = tick()
            if module.voice.call_progress is CallProgress.ACTIVE:
                break
        assert module.voice.call_progress is CallProgress.ACTIVE
        assert frame.dtype == np.int16 and len(frame) == 160
        for _ in range(25):
            tick()
        assert module.alsa.write_drops == 0 and module.lost is None
    finally:
        module.close()
        bank.close()


@pytest.mark.parametrize("profile", ["quectel", "simcom", "huawei", "generic"])
def test_auto_audio_is_for_every_profile(profile) -> None:
    module = mobile_config_from_string(REAL.format(profile=profile,
                                                   keys='audio = "auto"')).modules[0]
    assert module.audio == "auto" and not module.uac


@pytest.mark.parametrize(("keys", "message"), [
    ("echo_path = 10", "echo_path is {erl_db"),
    ("echo_path = {delay_ms = 5}", "echo_path is {erl_db"),
    ("echo_path = {erl_db = -3}", "erl_db 0..60"),
    ("echo_path = {erl_db = 10, delay_ms = 500}", "delay_ms 0..100"),
])
def test_an_emulated_echo_path_is_checked(keys, message) -> None:
    with pytest.raises(ConfigError, match=message):
        mobile_config_from_string(f'[[module]]\nname = "a"\nemulated = true\n{keys}\n')


def test_echo_settings_are_read_and_shown() -> None:
    from trunkline.clock import VirtualClock
    from trunkline.drivers.backends.mobile.card import MobileCard

    config = mobile_config_from_string(
        '[[module]]\nname = "a"\nemulated = true\necho_canceller = 32\n'
        'echo_path = {erl_db = 12.5, delay_ms = 4}\n')
    assert (config.modules[0].echo_canceller, config.modules[0].echo_path) == (32, (12.5, 4.0))
    with MobileCard(config, clock=VirtualClock()) as card:
        status = card.modem(1).status()
    assert (status["echo_canceller"], status["echo_double_talk"]) == (32, 0)
