"""The spandsp binding builds and agrees with our detector on clean signals.

The full disagreement report is ``benchmarks/crosscheck_spandsp.py``; here only the
cases both must get right are asserted, so a broken binding or a regression shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from detector_testkit import digits_of, run, sil, tone

from trunkline.drivers.dsp.tones import dtmf_string, render_tone, to_int16
from trunkline.drivers.dsp.zones import load_zone


@pytest.fixture(scope="module")
def sd():
    from trunkline.drivers.native import spandsp_detect
    from trunkline.drivers.native.build import NativeBuildError

    try:
        spandsp_detect.library()
    except NativeBuildError as err:
        pytest.skip(f"spandsp binding unavailable: {err}")
    return spandsp_detect


def test_dtmf_agrees(sd):
    x = np.concatenate([np.zeros(400, np.int16), dtmf_string("0123456789*#ABCD", 60, 60)])
    rx = sd.DtmfRx()
    sd.run_blocks(rx, x)
    theirs = "".join(d for d, _ in rx.events())
    (ours,) = run([x.astype(float)], progress=False, fax=False, vad=False)
    assert theirs == digits_of(ours) == "0123456789*#ABCD"


def test_reports_do_not_overflow_the_c_buffer(sd):
    x = dtmf_string("1234567890" * 20, 50, 50)  # 400 reports, the C buffer holds 256
    rx = sd.DtmfRx()
    sd.run_blocks(rx, x)
    assert len(rx.events()) == 200


def test_call_progress_agrees_on_cn_busy_and_congestion(sd):
    zone = load_zone("cn")
    for name in ("busy", "congestion"):
        _, cycle = render_tone(zone.tone(name), -15)
        x = np.concatenate([np.zeros(800, np.int16), np.tile(cycle, 4)])
        st = sd.SuperToneRx(zone)
        sd.run_blocks(st, x)
        assert [n for n, _ in st.events()][:1] == [name]
        (ours,) = run([x.astype(float)], dtmf=False, fax=False, vad=False)
        assert [e.tone for e in ours if e.kind == "tone"] == [name]


@pytest.mark.parametrize("mode, signal, name", [
    ("cng", lambda: tone(1100.0, 600, -20), "fax_cng"),
    ("ced", lambda: tone(2100.0, 3000, -20), "fax_ced"),
    ("ced", lambda: tone(2100.0, 3000, -20, reversal_ms=450), "modem_ans"),
    ("ced", lambda: tone(2100.0, 3000, -20, am=0.2) / 1.2, "ansam"),
])
def test_modem_tones_agree(sd, mode, signal, name):
    x = to_int16(np.concatenate([sil(100), signal(), sil(500)]))
    rx = sd.ModemTonesRx(mode)
    sd.run_blocks(rx, x)
    assert name in {n for n, _ in rx.events()}
    (ours,) = run([x.astype(float)], dtmf=False)
    assert [e.tone for e in ours if e.kind == "tone"] == [name]
