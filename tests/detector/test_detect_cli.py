"""``trunkline detect`` and ``trunkline announcements`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from detector_testkit import digit, sil

from trunkline.cli import main
from trunkline.drivers.dsp.tones import render_tone, to_int16
from trunkline.drivers.dsp.wavfile import write_audio
from trunkline.drivers.dsp.zones import load_zone


def _signal() -> np.ndarray:
    _, busy = render_tone(load_zone("cn").tone("busy"), -15)
    return to_int16(np.concatenate([sil(300), digit("5", 80), sil(200), np.tile(busy, 4)]))


@pytest.mark.parametrize("encoding", ["pcm16", "alaw", "ulaw"])
def test_detect_prints_design_json_lines(tmp_path, capsys, encoding):
    path = tmp_path / f"x-{encoding}.wav"
    write_audio(path, _signal(), encoding)
    assert main(["detect", str(path), "--zone", "cn", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (d,) = [x for x in lines if x["event"] == "dtmf"]
    assert set(d) == {"t", "event", "digit", "duration"} and d["digit"] == "5"
    assert d["t"] == pytest.approx(0.3, abs=0.005)
    assert d["duration"] == pytest.approx(0.08, abs=0.005)
    (amd,) = [x for x in lines if x["event"] == "amd"]
    assert amd["result"] == "notsure"  # busy tone, then silence: no voice after answer
    assert [x["tone"] for x in lines if x["event"] == "tone"] == ["busy"]
    assert [x["t"] for x in lines] == sorted(x["t"] for x in lines)


def test_other_rates_are_resampled(tmp_path, capsys):
    from scipy.signal import resample_poly

    path = tmp_path / "x16k.wav"
    soundfile.write(path, resample_poly(_signal().astype(float), 2, 1).astype(np.int16), 16000)
    assert main(["detect", str(path), "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["digit"] for e in events if e["event"] == "dtmf"] == ["5"]


def test_answered_at_and_early_media(tmp_path, capsys):
    path = tmp_path / "x.wav"
    write_audio(path, np.zeros(8000 * 7, np.int16))
    assert main(["detect", str(path), "--json", "--answered-at", "2.0"]) == 0
    (amd,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if '"amd"' in x]
    assert (amd["t"], amd["after_answer"]) == (6.0, 4.0)
    assert main(["detect", str(path), "--json", "--early-media"]) == 0
    assert '"amd"' not in capsys.readouterr().out
    assert main(["detect", str(path)]) == 0  # text form
    assert "silence" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "empty"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt garbage", "not a readable audio file"),
    (b"\x00\x01" * 400, "not a readable audio file"),
])
def test_bad_files_fail_clearly(tmp_path, capsys, content, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    assert main(["detect", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trunkline: error: ") and message in err


def test_bad_zone_and_answer_time(tmp_path, capsys):
    path = tmp_path / "x.wav"
    write_audio(path, np.zeros(8000, np.int16))
    assert main(["detect", str(path), "--zone", "xx"]) == 1
    assert "unknown tone zone 'xx'" in capsys.readouterr().err
    assert main(["detect", str(path), "--answered-at", "5"]) == 1
    assert "after the end of the audio" in capsys.readouterr().err


def test_announcements_add_and_list(tmp_path, capsys, speech):
    rec = tmp_path / "carrier.wav"
    write_audio(rec, to_int16(speech["machine_zh"]))
    lib = tmp_path / "lib"
    assert main(["announcements", "add", "--kind", "powered_off", "--zone", "cn",
                 "--library", str(lib), "--text", "已关机", str(rec)]) == 0
    assert "cn-powered_off-carrier.toml" in capsys.readouterr().out
    assert main(["announcements", "list", "--library", str(lib), "--json"]) == 0
    (entry,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert (entry["kind"], entry["zone"], entry["text"]) == ("powered_off", "cn", "已关机")
    assert main(["announcements", "add", "--kind", "nonsense", "--library", str(lib),
                 str(rec)]) == 1
    assert "announcement kind='nonsense'" in capsys.readouterr().err


def _stereo(tmp_path):
    """A call's two sides: the line (left) keys 5, the other side (right) keys 9."""
    left = to_int16(np.concatenate([sil(300), digit("5", 80), sil(600)]))
    right = to_int16(np.concatenate([sil(700), digit("9", 80), sil(200)]))
    path = tmp_path / "call.wav"
    write_audio(path, np.stack([left, right], axis=1))
    return path


def test_a_chosen_channel_of_a_stereo_file_is_read_and_named(tmp_path, capsys):
    path = _stereo(tmp_path)
    for channel, want in (("1", "5"), ("2", "9")):
        assert main(["detect", str(path), "--json", "--channel", channel]) == 0
        out = capsys.readouterr()
        digits = [json.loads(x)["digit"] for x in out.out.splitlines() if '"dtmf"' in x]
        assert digits == [want]
        side = "left" if channel == "1" else "right"
        assert f"reading channel {channel} of 2 ({side})" in out.err


def test_a_stereo_file_without_channel_is_refused_not_mixed(tmp_path, capsys):
    path = _stereo(tmp_path)
    assert main(["detect", str(path), "--json"]) == 1
    err = capsys.readouterr().err
    assert "has 2 channels" in err and "--channel N" in err and str(path) in err
    assert main(["detect", str(path), "--channel", "3"]) == 1
    assert "has 2 channels, no channel 3" in capsys.readouterr().err
    assert main(["detect", str(path), "--channel", "0"]) == 1
    assert "counted from 1" in capsys.readouterr().err


def test_channel_field_adds_the_detector_channel(tmp_path, capsys):
    path = tmp_path / "x.wav"
    write_audio(path, _signal())
    assert main(["detect", str(path), "--json", "--channel-field"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines and all(x["channel"] == 0 for x in lines)
    assert main(["detect", str(path), "--json", "--channel", "1"]) == 0  # mono: channel 1
    assert "reading channel 1 of 1" in capsys.readouterr().err
