from __future__ import annotations

import numpy as np
import pytest
import soundfile

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.tones import sine, to_int16
from trunkline.drivers.dsp.wavfile import read_audio, write_audio
from trunkline.errors import AudioFileError

TONE = to_int16(sine([1000.0], 8000, -10.0))


@pytest.mark.parametrize("encoding", ["pcm16", "alaw", "ulaw"])
def test_round_trip_in_each_telephone_encoding(tmp_path, encoding):
    path = tmp_path / f"x-{encoding}.wav"
    write_audio(path, TONE, encoding)
    got = read_audio(path)
    if encoding == "pcm16":
        np.testing.assert_array_equal(got, TONE)
    else:
        np.testing.assert_array_equal(got, g711.decode(g711.encode(TONE, encoding), encoding))


def test_other_rates_are_resampled(tmp_path):
    path = tmp_path / "16k.wav"
    t = np.arange(16000) / 16000
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 700 * t)).astype(np.float32), 16000)
    got = read_audio(path)
    assert got.size == 8000
    spectrum = np.abs(np.fft.rfft(got.astype(float)))
    assert abs(np.argmax(spectrum) - 700) <= 1


@pytest.mark.parametrize(("content", "match"), [
    (None, "no such file"),
    (b"", "the file is empty"),
    (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "not a readable audio file"),
    (b"hello, I am not audio at all" * 10, "not a readable audio file"),
])
def test_bad_files_get_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioFileError, match=match):
        read_audio(path)


def test_a_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioFileError, match="is a directory"):
        read_audio(tmp_path)


def test_real_recordings_in_gsm_and_raw(real_audio):
    beep = read_audio(real_audio / "answering_machine" / "beep.gsm")
    spectrum = np.abs(np.fft.rfft(beep.astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / beep.size - 700) < 15  # measured 700 Hz
    assert read_audio(real_audio / "speech" / "hts1.raw").size == 48000
