"""G.711 against an independent implementation: every int16 input and every code."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trunkline.drivers.dsp import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    if sys.version_info >= (3, 13):
        import audioop  # audioop-lts
    else:
        import audioop

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)
REFERENCE = {
    "alaw": (audioop.lin2alaw, audioop.alaw2lin),
    "ulaw": (audioop.lin2ulaw, audioop.ulaw2lin),
}


@pytest.mark.parametrize("law", g711.LAWS)
def test_encode_matches_reference_for_every_sample(law):
    encode_ref, _ = REFERENCE[law]
    expected = np.frombuffer(encode_ref(ALL_INT16.tobytes(), 2), dtype=np.uint8)
    np.testing.assert_array_equal(g711.encode(ALL_INT16, law), expected)


@pytest.mark.parametrize("law", g711.LAWS)
def test_decode_matches_reference_for_every_code(law):
    _, decode_ref = REFERENCE[law]
    codes = np.arange(256, dtype=np.uint8)
    expected = np.frombuffer(decode_ref(codes.tobytes(), 2), dtype=np.int16)
    np.testing.assert_array_equal(g711.decode(codes, law), expected)


def test_silence_codes():
    assert g711.encode(np.zeros(1, np.int16), "alaw")[0] == g711.ALAW_SILENCE
    assert g711.encode(np.zeros(1, np.int16), "ulaw")[0] == g711.ULAW_SILENCE


@given(arrays(np.int16, st.tuples(st.integers(1, 6), st.just(160))),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_mixed_rows_use_their_own_law(block, laws):
    is_ulaw = np.array(laws[: block.shape[0]])
    codes = g711.encode_mixed(block, is_ulaw)
    for row, ulaw in enumerate(is_ulaw):
        law = "ulaw" if ulaw else "alaw"
        np.testing.assert_array_equal(codes[row], g711.encode(block[row], law))
        np.testing.assert_array_equal(g711.decode_mixed(codes, is_ulaw)[row],
                                      g711.decode(codes[row], law))


@pytest.mark.parametrize("law", g711.LAWS)
def test_decode_then_encode_is_identity_on_codes(law):
    codes = np.arange(256, dtype=np.uint8)
    again = g711.encode(g711.decode(codes, law), law)
    # A-law and mu-law each have exactly one code pair that decodes to the same value
    # (+0/-0 in mu-law); all others must survive the round trip.
    assert np.count_nonzero(again != codes) <= 1


def test_unknown_law_is_named():
    with pytest.raises(ValueError, match=r"unknown G\.711 law 'glaw'"):
        g711.encode(np.zeros(4, np.int16), "glaw")  # type: ignore[arg-type]
