"""Tone zones: generated from libtonezone, parsed by our grammar, synthesized right."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.dsp.levels import power_dbm0
from trunkline.drivers.dsp.tones import DTMF_FREQS, dtmf, render_tone
from trunkline.drivers.dsp.zones import load_zone, parse_tone, zone_names
from trunkline.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_cn_is_first_and_every_required_zone_exists():
    names = zone_names()
    assert names[0] == "cn"
    for zone in ("cn", "us", "uk", "de", "fr", "jp", "in", "au", "br", "ru"):
        assert zone in names
    assert len(names) >= 40


def test_china_tones_are_as_published():
    cn = load_zone("cn")
    assert cn.tone("dial").continuous and cn.tone("dial").frequencies == (450.0,)
    assert cn.tone("busy").cadence_ms == ((True, 350), (False, 350))
    assert cn.tone("ringback").cadence_ms == ((True, 1000), (False, 4000))
    assert cn.tone("congestion").cadence_ms == ((True, 700), (False, 700))
    assert cn.ring_cadence_ms == (1000, 4000)


@pytest.mark.skipif(not Path("/usr/include/dahdi/tonezone.h").exists(),
                    reason="libtonezone-dev is not installed")
def test_shipped_zones_match_libtonezone():
    script = ROOT / "firmware-profiles" / "zones" / "generate.py"
    proc = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("zone", zone_names())
def test_every_zone_parses_and_renders(zone):
    z = load_zone(zone)
    for name in ("dial", "busy", "ringback", "congestion"):
        _prefix, cycle = render_tone(z.tone(name))
        assert cycle.dtype == np.int16 and cycle.size > 0


def test_rendered_cadence_and_frequency():
    prefix, cycle = render_tone(load_zone("cn").tone("busy"))
    assert prefix.size == 0 and cycle.size == 5600  # 350 + 350 ms
    on, off = cycle[:2800].astype(float), cycle[2800:]
    assert not off.any()
    spectrum = np.abs(np.fft.rfft(on))
    assert abs(np.argmax(spectrum) * 8000 / on.size - 450) < 3
    assert abs(float(power_dbm0(on)) - (-13.0)) < 0.2


def test_dtmf_digit_levels_and_frequencies():
    x = dtmf("5", 100).astype(float)
    spectrum = np.abs(np.fft.rfft(x))
    peaks = sorted(np.argsort(spectrum)[-2:] * 8000 / x.size)
    assert np.allclose(peaks, DTMF_FREQS["5"], atol=10)
    with pytest.raises(ValueError, match="not a DTMF digit: 'x'"):
        dtmf("x")


segment = st.builds(
    lambda once, f1, op, f2, ms: f"{'!' if once else ''}{f1}{op + str(f2) if op else ''}"
    + (f"/{ms}" if ms else ""),
    st.booleans(), st.integers(0, 3999), st.sampled_from(["", "+", "*"]),
    st.integers(1, 3999), st.one_of(st.none(), st.integers(1, 20000)),
)


@given(st.lists(segment, min_size=1, max_size=8))
def test_parse_tone_accepts_the_zonedata_grammar(segments):
    text = ",".join(segments)
    tone = parse_tone("t", text)
    parsed = [*tone.prefix, *tone.cycle]
    assert len(parsed) >= 1
    for seg in parsed:
        assert all(0 < f <= 4000 for f in seg.freqs)


@pytest.mark.parametrize("bad", ["", "abc", "450/", "450/x", "450++480", "-450"])
def test_parse_tone_rejects_malformed_strings(bad):
    with pytest.raises(ValueError, match="malformed segment"):
        parse_tone("t", bad)


def test_unknown_zone_is_a_config_error_listing_known_zones():
    with pytest.raises(ConfigError, match=r"unknown tone zone 'xx'.*cn"):
        load_zone("xx")


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_generator_reads_cn_first():
    script = ROOT / "firmware-profiles" / "zones" / "generate.py"
    text = (script.parent / "index.toml").read_text()
    assert text.splitlines()[1].strip() == "zones = ["
    assert '"cn"' in text.splitlines()[2]
