"""Bell MF (R1) and MFC/R2 forward and backward signals."""

from __future__ import annotations

import numpy as np
import pytest
from detector_testkit import kinds, run, sil, tone

from trunkline.drivers.dsp.dtmf import _PAIR_ORDER, MF_CHARS, MF_FREQS


def _signal(system: str, chars: str, on_ms=68, off_ms=68, dbm0=-12.0, skew=0.0) -> np.ndarray:
    freqs = MF_FREQS[system]
    parts = [sil(50)]
    for ch in chars:
        i, j = _PAIR_ORDER[MF_CHARS[system].index(ch)]
        parts += [tone(freqs[i] + skew, on_ms, dbm0) + tone(freqs[j] + skew, on_ms, dbm0),
                  sil(off_ms)]
    return np.concatenate(parts)


@pytest.mark.parametrize("system", ["bell", "r2_forward", "r2_backward"])
def test_every_signal_is_decoded(system):
    chars = MF_CHARS[system]
    signals = [_signal(system, chars), _signal(system, chars, dbm0=-28.0, skew=8.0)]
    for evs in run(signals, "cn", dtmf=False, progress=False, fax=False, vad=False, mf=system):
        got = [e for e in kinds(evs, "mf") if e.state == "off"]
        assert "".join(e.digit for e in got) == chars
        assert "".join(e.digit for e in kinds(evs, "mf") if e.state == "on") == chars
        assert {e.system for e in got} == {system}


def test_r2_compelled_tone_duration():
    (evs,) = run([_signal("r2_forward", "5", on_ms=400)], "cn", mf="r2_forward", dtmf=False)
    on, off = kinds(evs, "mf")
    assert (on.state, off.state) == ("on", "off")
    assert off.duration / 8 == pytest.approx(400, abs=10)
    # Recognised within 50 ms of the tone's start: the far end can answer it at once.
    assert (on.decided - off.sample) / 8 <= 50


def test_mf_off_by_default_and_other_system_rejected():
    s = _signal("r2_forward", "123")
    plain, other = run([s, s], "cn", dtmf=False)[0], run([s], "cn", mf="r2_backward")[0]
    assert not kinds(plain, "mf")
    assert not kinds(other, "mf")
