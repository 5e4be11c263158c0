"""USB Audio Class voice for mobile modules (drivers/backends/mobile/uac.py): the card
found by the module's USB port in a sysfs tree in the kernel's layout, the pacing and
resampling to 20 ms frames, and pyalsaaudio on ALSA's null device. What only a module
proves (its card's real rate, clock drift, buffering) is not here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from usb_sysfs_kit import Intf, add_device

from trunkline.drivers.backends.mobile.uac import (
    BACKLOG_FRAMES,
    READ_PERIODS,
    AlsaAudio,
    UacPacer,
    choose_audio,
    find_uac_card,
    usb_port_of_tty,
)
from trunkline.errors import CardNotFound


def ec25_with_uac(root: Path, name: str = "1-1.4", card: str = "card2",
                  card_id: str = "Android") -> Path:
    interfaces = [Intf(n, driver="option", ttys=[f"ttyUSB{n}"]) for n in range(4)]
    interfaces.append(Intf(4, driver="qmi_wwan"))
    interfaces += [Intf(5, 0x01, 0x01, 0x00, "snd-usb-audio", sound_cards=[card] if card
                        else []),
                   Intf(6, 0x01, 0x02, 0x00, "snd-usb-audio")]
    dev = add_device(root, name, 0x2C7C, 0x0125, interfaces=interfaces)
    if card:
        (root / "class" / "sound" / card).mkdir(parents=True)
        (root / "class" / "sound" / card / "id").write_text(card_id + "\n")
    # /sys/class/tty/ttyUSBn/device -> the usb-serial port under its interface.
    for n in range(4):
        link = root / "class" / "tty" / f"ttyUSB{n}"
        link.mkdir(parents=True)
        os.symlink(dev / f"{name}:1.{n}" / f"ttyUSB{n}", link / "device")
    return dev


def test_the_card_is_found_from_the_at_port(tmp_path) -> None:
    ec25_with_uac(tmp_path)
    add_device(tmp_path, "1-2", 0x1E0E, 0x9001, devnum=5)
    port = usb_port_of_tty("/dev/ttyUSB2", tmp_path)
    card = find_uac_card(port, tmp_path)
    assert (port, card.index, card.id, card.device) == ("1-1.4", 2, "Android",
                                                        "hw:CARD=Android,DEV=0")


def test_a_udev_symlink_to_the_at_port_is_followed(tmp_path) -> None:
    ec25_with_uac(tmp_path, name="2-1")
    (tmp_path / "dev").mkdir()
    os.symlink("/dev/ttyUSB2", tmp_path / "dev" / "usb-2-1-at")
    assert usb_port_of_tty(str(tmp_path / "dev" / "usb-2-1-at"), tmp_path) == "2-1"


def test_a_module_without_uac_says_how_to_enable_it(tmp_path) -> None:
    ec25_with_uac(tmp_path, card="")
    with pytest.raises(CardNotFound, match=r"2c7c:0125\) has no sound card.*USBCFG"):
        find_uac_card("1-1.4", tmp_path)


def test_no_device_at_that_port(tmp_path) -> None:
    ec25_with_uac(tmp_path)
    with pytest.raises(CardNotFound, match=r"no USB device at port 3-1 \(devices: 1-1.4\)"):
        find_uac_card("3-1", tmp_path)


def test_a_tty_not_on_usb(tmp_path) -> None:
    (tmp_path / "class" / "tty" / "ttyS0").mkdir(parents=True)
    with pytest.raises(CardNotFound, match="not a USB serial port"):
        usb_port_of_tty("/dev/ttyS0", tmp_path)


def tone(freq: float, seconds: float, rate: int, level: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.rint(level * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def drain(pacer: UacPacer) -> np.ndarray:
    frames = []
    while (f := pacer.frame()) is not None:
        frames.append(f)
    return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


def paced(pacer: UacPacer, x: np.ndarray) -> np.ndarray:
    """``x`` handed over 20 ms at a time, as a card's periods come, frames taken each time."""
    step = pacer.rate // 50
    return np.concatenate([(pacer.capture(x[i:i + step].astype("<i2").tobytes()),
                            drain(pacer))[1] for i in range(0, len(x), step)])


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([8000, 16000]),
       st.lists(st.integers(1, 997), min_size=1, max_size=30))
def test_any_split_of_the_cards_bytes_gives_the_same_frames(rate, cuts) -> None:
    raw = tone(700, 0.1, rate).astype("<i2").tobytes()  # within the backlog
    whole, split = UacPacer(rate), UacPacer(rate)
    whole.capture(raw)
    expected = drain(whole)
    got, at = [], 0
    for cut in cuts:
        split.capture(raw[at:at + cut])
        at += cut
        got.append(drain(split))
    split.capture(raw[at:])
    got.append(drain(split))
    assert np.array_equal(np.concatenate(got), expected)


def test_8k_frames_pass_unchanged() -> None:
    pacer = UacPacer(8000)
    x = tone(1000, 0.1, 8000)
    pacer.capture(x[:100].astype("<i2").tobytes())
    assert pacer.frame() is None  # not a frame yet: the caller counts an underrun
    pacer.capture(x[100:].astype("<i2").tobytes())
    assert np.array_equal(drain(pacer), x[:800])
    assert pacer.playback(x[:160]) == x[:160].astype("<i2").tobytes()


def test_a_16k_card_is_decimated_without_aliasing() -> None:
    pacer = UacPacer(16000)
    speech_band = paced(pacer, tone(1000, 0.2, 16000))[80:]  # past the filter's start
    assert len(speech_band) == 1600 - 80
    spectrum = np.abs(np.fft.rfft(speech_band))
    assert abs(np.argmax(spectrum) * 8000 / len(speech_band) - 1000) < 10
    assert abs(rms_db(speech_band) - rms_db(tone(1000, 0.2, 8000))) < 0.5
    pacer = UacPacer(16000)  # 6 kHz would alias to 2 kHz
    assert rms_db(paced(pacer, tone(6000, 0.2, 16000))[80:]) < rms_db(tone(1000, 0.2, 8000)) - 50


def test_playback_to_a_16k_card_keeps_level_and_pitch() -> None:
    pacer = UacPacer(16000)
    x = tone(1000, 0.2, 8000)
    out = np.concatenate([np.frombuffer(pacer.playback(x[i:i + 160]), dtype="<i2")
                          for i in range(0, len(x), 160)])
    assert len(out) == 2 * len(x)
    steady = out[100:]
    assert abs(np.argmax(np.abs(np.fft.rfft(steady))) * 16000 / len(steady) - 1000) < 10
    assert abs(rms_db(steady) - rms_db(x)) < 0.5


def test_a_burst_beyond_the_backlog_drops_the_oldest() -> None:
    pacer = UacPacer(8000)
    burst = np.arange((BACKLOG_FRAMES + 3) * 160, dtype=np.int16)
    pacer.capture(burst.astype("<i2").tobytes())
    assert pacer.overruns == 1
    assert np.array_equal(drain(pacer), burst[3 * 160:])


def test_rates_other_than_8_and_16_khz_are_refused() -> None:
    with pytest.raises(ValueError, match="8000 or 16000 Hz here, not 44100"):
        UacPacer(44100)


def test_alsa_audio_on_the_null_card() -> None:
    pytest.importorskip("alsaaudio")
    audio = AlsaAudio("null")
    try:
        audio.write(np.zeros(160, dtype="<i2").tobytes())
        assert audio.write_drops == 0
        # ALSA's null capture never runs dry (and its bytes mean nothing): whole
        # periods come, and one read stops after READ_PERIODS of them.
        data = audio.read()
        assert 0 < len(data) <= READ_PERIODS * 320 and len(data) % 320 == 0
    finally:
        audio.close()


def test_a_card_that_is_not_there_says_so() -> None:
    pytest.importorskip("alsaaudio")
    with pytest.raises(CardNotFound, match="cannot open the sound card hw:CARD=NoSuchModule"):
        AlsaAudio("hw:CARD=NoSuchModule,DEV=0")


def link_ttys(root: Path, dev: Path, name: str, count: int) -> None:
    """/sys/class/tty/ttyUSBn/device of each usb-serial port (as the kernel links them)."""
    for n in range(count):
        link = root / "class" / "tty" / f"ttyUSB{n}"
        link.mkdir(parents=True, exist_ok=True)
        os.symlink(dev / f"{name}:1.{n}" / f"ttyUSB{n}", link / "device")


def test_auto_takes_a_quectels_sound_card(tmp_path) -> None:
    ec25_with_uac(tmp_path)
    choice = choose_audio("/dev/ttyUSB2", uac_allowed=True, sysfs=tmp_path)
    assert (choice.kind, choice.device) == ("uac", "hw:CARD=Android,DEV=0")
    assert "EC25" in choice.why


def test_auto_takes_the_tables_audio_port_without_a_sound_card(tmp_path) -> None:
    ec25_with_uac(tmp_path, card="")
    choice = choose_audio("/dev/ttyUSB2", uac_allowed=True, sysfs=tmp_path)
    assert (choice.kind, choice.device) == ("serial", "/dev/ttyUSB1")
    # A profile that may not use UAC takes the serial port even when there is a card.
    other = tmp_path / "other"
    ec25_with_uac(other)
    assert choose_audio("/dev/ttyUSB2", uac_allowed=False, sysfs=other).device == "/dev/ttyUSB1"


def test_auto_on_a_simcom_takes_interface_4(tmp_path) -> None:
    dev = add_device(tmp_path, "1-2", 0x1E0E, 0x9001, interfaces=[
        Intf(n, driver="option", ttys=[f"ttyUSB{n}"]) for n in range(5)])
    link_ttys(tmp_path, dev, "1-2", 5)
    choice = choose_audio("/dev/ttyUSB2", uac_allowed=False, sysfs=tmp_path)
    assert (choice.kind, choice.device) == ("serial", "/dev/ttyUSB4")


def test_auto_on_a_data_module_says_it_has_no_audio_port(tmp_path) -> None:
    dev = add_device(tmp_path, "1-3", 0x1199, 0x68C0, interfaces=[
        Intf(n, driver="qcserial", ttys=[f"ttyUSB{n}"]) for n in range(4)])
    link_ttys(tmp_path, dev, "1-3", 4)
    with pytest.raises(CardNotFound, match=r"MC7304.*has no audio port in trunkline's USB "
                                           r"table.*SMS only"):
        choose_audio("/dev/ttyUSB3", uac_allowed=True, sysfs=tmp_path)
