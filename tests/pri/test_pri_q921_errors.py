"""The reading of libpri's MDL-ERROR lines (drivers/signalling/pri/q921_errors.py).

The lines are the ones libpri 1.6's q921.c prints (q921_mdl_error); any other text is
not an MDL-ERROR.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.signalling.pri.q921_errors import CODES, parse

STATES = ["Multi-frame established", "Timer recovery", "Awaiting establishment",
          "TEI assigned"]


@pytest.mark.parametrize(("text", "code", "serious", "state"), [
    ("TEI=0 MDL-ERROR (A): Got supervisory frame with F=1 in state 7(Multi-frame "
     "established)\n", "A", False, "Multi-frame established"),
    ("TEI=0 MDL-ERROR (B): DM (F=1) in state 7(Multi-frame established)", "B", False,
     "Multi-frame established"),
    ("TEI=0 MDL-ERROR (J): N(R) error in state 8(Timer recovery)\n", "J", True,
     "Timer recovery"),
    ("TEI=0 MDL-ERROR (K): FRMR in state 7(Multi-frame established)", "K", True,
     "Multi-frame established"),
    ("TEI=0 MDL-ERROR (I): T200 expired N200 times sending RR/RNR in state 8(Timer "
     "recovery)", "I", True, "Timer recovery"),
])
def test_libpri_lines_are_read(text: str, code: str, serious: bool, state: str) -> None:
    error = parse(text)
    assert error is not None
    assert (error.code, error.serious, error.state, error.dropped) == (
        code, serious, state, False)
    assert error.meaning == CODES[code][0]


def test_a_dropped_error_is_the_one_libpri_tried_to_queue() -> None:
    error = parse("Trying to queue MDL-ERROR (J) when MDL-ERROR (A) is already scheduled\n")
    assert error is not None
    assert (error.code, error.dropped, error.serious) == ("J", True, True)


def test_an_unknown_code_is_kept_and_taken_seriously() -> None:
    error = parse("TEI=0 MDL-ERROR (Z): in state 7(Multi-frame established)")
    assert error is not None
    assert (error.code, error.serious, error.meaning) == ("Z", True, "MDL-ERROR code Z")


@given(st.sampled_from(sorted(CODES)), st.sampled_from(STATES), st.integers(0, 127),
       st.booleans())
def test_every_code_in_every_state_reads_back(code: str, state: str, tei: int,
                                             newline: bool) -> None:
    text = f"TEI={tei} MDL-ERROR ({code}): in state 7({state})" + ("\n" if newline else "")
    error = parse(text)
    assert error is not None
    assert (error.code, error.state, error.dropped) == (code, state, False)
    assert error.serious == (code >= "G")


@given(st.text())
def test_other_text_is_not_an_mdl_error(text: str) -> None:
    if "MDL-ERROR (" in text:
        return
    assert parse(text) is None
