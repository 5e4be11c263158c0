"""Caller ID: the message (GR-30-CORE / EN 300 659-3), its FSK signal, the streaming
receiver, and the DTMF variant, checked against spandsp's ADSI transmitter and receiver
(a peer we did not write)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.callerid import (
    CallerId,
    CallerIdError,
    FskReceiver,
    decode_message,
    dtmf_caller_id,
    dtmf_signal,
    encode_message,
    modulate,
)
from trunkline.drivers.dsp.tones import dtmf_string
from trunkline.drivers.native.spandsp_adsi import AdsiRx, AdsiTx

CID = CallerId(number="13800138000", name="ZHANG SAN", when="12021830")
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


def _receive(samples: np.ndarray, frame: int = 160) -> tuple[list[bytes], FskReceiver]:
    receiver = FskReceiver()
    out: list[bytes] = []
    for i in range(0, len(samples), frame):
        out += receiver.feed(samples[i:i + frame])
    return out, receiver


def _line(signal: np.ndarray, law: str = "alaw", snr_db: float | None = None,
          seed: int = 1) -> np.ndarray:
    """``signal`` between silences, with white noise at ``snr_db``, through G.711."""
    x = np.concatenate([np.zeros(1600), signal, np.zeros(1600)])
    if snr_db is not None:
        power = np.mean(signal.astype(np.float64) ** 2)
        x = x + np.random.default_rng(seed).normal(0, np.sqrt(power / 10 ** (snr_db / 10)),
                                                   len(x))
    pcm = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
    return g711.decode(g711.encode(pcm, law), law)


# -- the message ----------------------------------------------------------------------

def test_the_gr30_sdmf_example_encodes_to_its_published_words():
    # GR-30-CORE's example: 30 Sep 12:24, (609) 555-1212, checksum 0x51.
    words = encode_message(CallerId(number="6095551212", when="09301224"), mdmf=False)
    assert words.hex() == "041230393330313232343630393535353132313251"
    assert decode_message(words) == CallerId(number="6095551212", when="09301224")


def test_absent_number_and_name_reasons_travel():
    cid = CallerId(when="01010000", number_absent="P", name_absent="O")
    assert decode_message(encode_message(cid)) == cid
    assert decode_message(encode_message(CallerId(when="01010000", number_absent="O"),
                                         mdmf=False)).number_absent == "O"


@given(st.text("0123456789", max_size=20), printable, st.booleans())
def test_messages_round_trip(number, name, mdmf):
    cid = CallerId(number=number, name=name, when="12312359")
    back = decode_message(encode_message(cid, mdmf=mdmf))
    if mdmf:
        assert back == cid
    else:  # SDMF: the time and the number, or "O" when there is none
        assert (back.number, back.number_absent) == ((number, "") if number else ("", "O"))


@pytest.mark.parametrize(("words", "message"), [
    (bytes.fromhex("041230393330313232343630393535353132313250"), "checksum"),
    (bytes.fromhex("0413303933303132323436303935353531323132"), "length word"),
    (bytes([0x06, 0x01, 0x42, 0xB7]), "not caller ID"),
    (b"\x80", "too short"),
])
def test_bad_messages_say_what_is_wrong(words, message):
    with pytest.raises(CallerIdError, match=message):
        decode_message(words)


@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_caller_id_error(data):
    with contextlib.suppress(CallerIdError):
        decode_message(data)


def test_text_a_phone_cannot_show_is_refused():
    with pytest.raises(CallerIdError, match="printable ASCII"):
        encode_message(CallerId(number="1380", name="张三"))


# -- the FSK receiver -------------------------------------------------------------------

@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize("law", ["alaw", "ulaw"])
@pytest.mark.parametrize("snr_db", [None, 10.0])
def test_the_receiver_reads_our_signal_through_g711_and_noise(standard, law, snr_db):
    words = encode_message(CID)
    got, _ = _receive(_line(modulate(words, standard), law, snr_db))
    assert got == [words]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 400), st.integers(0, 3))
def test_any_framing_of_the_stream_gives_the_same_message(frame, seed):
    words = encode_message(CID)
    got, _ = _receive(_line(modulate(words, "bell202"), snr_db=20, seed=seed), frame)
    assert got == [words]


def test_the_receiver_ignores_silence_speech_like_noise_and_dtmf():
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 2000, 16000)
    got, _ = _receive(np.concatenate([np.zeros(8000), noise, dtmf_string("A123C")]))
    assert got == []


def test_two_messages_in_a_row_are_both_read():
    first, second = encode_message(CID), encode_message(CallerId(number="075512345678"))
    got, _ = _receive(_line(np.concatenate([modulate(first), np.zeros(4000),
                                            modulate(second)])))
    assert got == [first, second]


def test_a_message_cut_short_by_the_ring_is_not_delivered():
    words = encode_message(CID)
    signal = modulate(words)
    got, receiver = _receive(_line(signal[: len(signal) - 400]))
    assert got == [] and receiver.bad_bytes > 0


# -- spandsp as the peer ----------------------------------------------------------------

@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_we_read_what_spandsp_sends(standard):
    words = encode_message(CID)
    tx = AdsiTx(standard)
    try:
        signal = tx.signal(words[:-1])  # spandsp adds the checksum itself
    finally:
        tx.close()
    got, _ = _receive(_line(signal.astype(np.float64)))
    assert got == [words]


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_spandsp_reads_what_we_send(standard):
    words = encode_message(CID)
    rx = AdsiRx(standard)
    try:
        samples = _line(modulate(words, standard))
        got = []
        for i in range(0, len(samples), 160):
            got += rx.feed(samples[i:i + 160])
    finally:
        rx.close()
    assert got == [words[:-1]]  # spandsp checks the checksum and hands the rest


def test_spandsp_reads_our_dtmf_caller_id_and_we_read_its_digits():
    rx = AdsiRx("dtmf")
    try:
        samples = _line(dtmf_string(dtmf_signal(CID)))
        got = []
        for i in range(0, len(samples), 160):
            got += rx.feed(samples[i:i + 160])
    finally:
        rx.close()
    assert got == [b"A13800138000C"]
    assert dtmf_caller_id(got[0].decode()) == CallerId(number="13800138000")


@pytest.mark.parametrize(("digits", "expected"), [
    ("A13800138000C", CallerId(number="13800138000")),
    ("D0755123#", CallerId(number="0755123")),
    ("B10C", CallerId(number_absent="P")),
    ("B00C", CallerId(number_absent="O")),
    ("1234", None),
    ("A12", None),
])
def test_dtmf_caller_id_variants(digits, expected):
    assert dtmf_caller_id(digits) == expected
