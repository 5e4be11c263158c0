"""SIT codes decide the outcome by whose trouble they name, and reach clients alike on
FXO and PRI (issue 15, item 3). NANP NC (no circuit) and RO (reorder) are the network's
trouble, so congestion (tried again), not invalid_number (which finishes the contact);
IC and VC intercepts are invalid numbers; ITU-T E.180 SIT names no reason and stays an
invalid number. Before, every SIT on an FXO line was invalid_number, and a PRI call
reported only ``early_media sit`` with no code."""

from __future__ import annotations

import pytest
from fxo_kit import fxo_leg, progress, sit, tone

from trunkline.drivers.signalling import events as ev
from trunkline.vocab import SIT_OUTCOME, Outcome, outcome_for_sit

CASES = [("IC", "invalid_number"), ("VC", "invalid_number"), ("NC", "congestion"),
         ("NC'", "congestion"), ("RO", "congestion"), ("RO'", "congestion"),
         ("IO", "congestion"), ("ITU", "invalid_number"), ("future", "invalid_number")]


@pytest.mark.parametrize(("code", "outcome"), CASES)
def test_an_fxo_line_ends_by_the_sits_code(code: str, outcome: str) -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(3.0, sit(code))
    assert out[0] == ev.SitHeard(3.0, code)          # the code reaches the client
    hung = [o for o in out if isinstance(o, ev.HungUp)]
    assert hung and hung[0].outcome == outcome == leg.outcome


def test_a_sit_heard_as_a_tone_without_code_is_itus() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, tone("sit"))
    assert leg.outcome == "invalid_number"


def test_every_detector_code_has_an_outcome() -> None:
    from trunkline.drivers.dsp.events import SIT_CODES

    assert set(SIT_CODES) <= set(SIT_OUTCOME)
    assert outcome_for_sit("never heard of") is Outcome.INVALID_NUMBER
    assert {SIT_OUTCOME[c] for c in ("NC", "RO")} == {Outcome.CONGESTION}


def test_a_pri_call_reports_the_sit_with_its_code() -> None:
    from test_pri_leg import in_progress, leg

    from trunkline.drivers.dsp.events import SitEvent

    call = in_progress(leg())
    out = call.on_detection(1.2, SitEvent(103, 0, 0, code="NC"))
    assert ev.SitHeard(1.2, "NC") in out
