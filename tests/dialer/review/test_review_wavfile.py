"""Reading the gateway's recordings: the header (PCM16, A-law, mu-law), G.711 expansion
checked against the gateway's own codec, the waveform's peaks, and HTTP Range parsing
(RFC 9110 section 14.1.2), with hypothesis over any range and file size."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.dialer.review import wavfile
from trunkline.drivers.dsp import g711


def write_pcm(path: Path, left: np.ndarray, right: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.column_stack([left, right]).astype("<i2").tobytes())
    return path


def write_g711(path: Path, codes: np.ndarray, tag: int) -> Path:
    """A stereo G.711 WAV as the gateway writes it: fmt with cbSize, a fact chunk."""
    frames = len(codes) // 2
    fmt = struct.pack("<HHIIHHH", tag, 2, 8000, 16000, 2, 8, 0)
    body = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, frames)
            + b"data" + struct.pack("<I", len(codes)) + codes.astype(np.uint8).tobytes())
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)
    return path


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_g711_expansion_matches_the_gateways_codec(law: str) -> None:
    codes = np.arange(256, dtype=np.uint8)
    ours = wavfile.decode(codes.tobytes(), law)
    np.testing.assert_array_equal(ours, g711.decode(codes, law))


def test_peaks_of_a_pcm_recording_per_channel(tmp_path: Path) -> None:
    t = np.arange(8000 * 2)
    left = (np.sin(2 * np.pi * 440 * t / 8000) * 16384).astype(np.int16)
    right = np.zeros_like(left)
    right[8000:] = 8192  # the agent speaks in the second second only
    path = write_pcm(tmp_path / "a.wav", left, right)
    got = wavfile.peaks(path, 4)
    assert (got["channels"], got["sample_rate"], got["duration"], got["buckets"]) == \
        (2, 8000, 2.0, 4)
    assert got["channel_names"] == ["customer", "agent"]
    assert all(0.49 < m <= 0.5 for m in got["peaks"][0]["max"])
    assert all(-0.5 <= m < -0.49 for m in got["peaks"][0]["min"])
    assert got["peaks"][1]["max"] == [0.0, 0.0, 0.25, 0.25]


def test_peaks_of_an_alaw_recording_and_more_buckets_than_frames(tmp_path: Path) -> None:
    samples = np.array([0, 0, 8000, -8000, 16000, 0], dtype=np.int16)
    codes = g711.encode(samples, "alaw")
    path = write_g711(tmp_path / "b.wav", codes, 6)
    head = wavfile.info(path)
    assert (head.encoding, head.frames) == ("alaw", 3)
    got = wavfile.peaks(path, 100)
    assert got["buckets"] == 3
    assert got["peaks"][0]["max"][2] == pytest.approx(16000 / 32768, abs=0.02)
    assert got["peaks"][1]["min"][1] == pytest.approx(-8000 / 32768, abs=0.02)


def test_a_recording_still_being_written_is_read_to_its_whole_frames(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "c.wav", np.ones(100, np.int16), np.ones(100, np.int16))
    raw = bytearray(path.read_bytes())
    raw[40:44] = struct.pack("<I", 0)  # the header's data size not yet written
    path.write_bytes(bytes(raw) + b"\x01")  # and half a frame at the end
    assert wavfile.info(path).frames == 100


@pytest.mark.parametrize("data, message", [
    (b"RIFX" + b"\0" * 40, "not a RIFF"),
    (b"RIFF\0\0\0\0WAVEdata\0\0\0\0", "before the fmt"),
    (b"RIFF\0\0\0\0WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 3, 2, 8000, 0, 0, 32)
     + b"data\0\0\0\0", "format tag 3"),
])
def test_bad_files_are_named(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(data)
    with pytest.raises(wavfile.WavError, match=message):
        wavfile.info(path)


@settings(deadline=None)
@given(size=st.integers(0, 10_000), a=st.integers(0, 12_000), b=st.integers(0, 12_000))
def test_range_is_inside_the_file_or_refused(size: int, a: int, b: int) -> None:
    for header in (f"bytes={a}-{b}", f"bytes={a}-", f"bytes=-{b}"):
        try:
            got = wavfile.parse_range(header, size)
        except wavfile.RangeNotSatisfiable:
            assert size == 0 or a >= size or header == "bytes=-0"
            continue
        except ValueError:
            assert header == f"bytes={a}-{b}" and b < a
            continue
        assert got is not None
        assert 0 <= got.start <= got.end < size
        if header.startswith("bytes=-"):
            assert got.end == size - 1 and got.length == min(b, size)
        else:
            assert got.start == a


def test_range_forms_the_server_ignores() -> None:
    assert wavfile.parse_range(None, 10) is None
    assert wavfile.parse_range("items=0-1", 10) is None
    assert wavfile.parse_range("bytes=0-1,4-5", 10) is None
    with pytest.raises(ValueError):
        wavfile.parse_range("bytes=x-1", 10)
