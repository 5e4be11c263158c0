"""The crash-safe WAV file: valid on disk at every flush, repairable after a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from trunkline.errors import ConfigError
from trunkline.gateway.recording.errors import RecordingError
from trunkline.gateway.recording.wav import WavWriter, repair, sha256, wait_idle


@pytest.mark.parametrize("encoding", ["pcm16", "alaw", "ulaw"])
def test_part_is_a_valid_wav_after_each_flush_then_renamed(tmp_path: Path,
                                                           encoding: str) -> None:
    w = WavWriter(tmp_path / "x.wav", encoding, sync=False)
    w.open()
    w.write(np.full((4000, 2), 1000.0, np.float32))  # half a second: still buffered
    assert soundfile.info(str(w.part)).frames == 0 and w.seconds == 0.5
    w.write(np.full((8000, 2), 1000.0, np.float32))  # past one second: written
    info = soundfile.info(str(w.part))
    assert info.frames == 12000 and info.channels == 2 and info.samplerate == 8000
    final = w.close()
    wait_idle()
    assert final == tmp_path / "x.wav" and not w.part.exists()
    data, _ = soundfile.read(str(final), dtype="int16")
    assert data.shape == (12000, 2) and abs(int(data[0, 0]) - 1000) < 40
    assert len(sha256(final)) == 64


def test_unknown_encoding_and_existing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown recording encoding 'gsm'"):
        WavWriter(tmp_path / "x.wav", "gsm")
    (tmp_path / "done.wav").write_bytes(b"RIFF")
    with pytest.raises(RecordingError, match="already there"):
        WavWriter(tmp_path / "done.wav").open()


def test_repair_of_a_torn_write_and_of_garbage(tmp_path: Path) -> None:
    w = WavWriter(tmp_path / "x.wav", "ulaw", sync=False)
    w.open()
    w.write(np.zeros((8000, 2), np.float32))
    w.flush()
    with open(w.part, "ab") as fh:
        fh.write(b"\x01")  # half a stereo frame after the last header update
    final, seconds = repair(w.part)
    assert seconds == 1.0 and soundfile.info(str(final)).frames == 8000
    junk = tmp_path / "junk.wav.part"
    junk.write_bytes(b"nothing")
    with pytest.raises(RecordingError, match="not a WAV"):
        repair(junk)
    assert (tmp_path / "junk.wav.part.broken").exists()
