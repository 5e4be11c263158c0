"""The evidence -> class tables (no gateway needed).

The tables are data; these tests hold them to the facts they cite (Q.850 via
trunkline.causes, the detector's announcement kinds and SIT codes).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.causes import Q850_CAUSES, outcome_for_cause
from trunkline.dialer.cleaning.verdicts import (
    ANNOUNCEMENT_CLASSES,
    CAUSE_CLASSES,
    CLASSES,
    OUTCOME_CLASSES,
    SIT_CLASSES,
    Verdict,
    verdict_for_announcement,
    verdict_for_cause,
    verdict_for_clearing,
    verdict_for_sit,
)
from trunkline.dialer.vocab import CallOutcome
from trunkline.drivers.dsp.announcements import KINDS
from trunkline.drivers.dsp.events import SIT_CODES

causes = st.integers(min_value=1, max_value=127)
outcomes = st.sampled_from([str(o) for o in CallOutcome])


def test_every_detector_announcement_kind_and_sit_code_has_a_class() -> None:
    assert set(KINDS) <= set(ANNOUNCEMENT_CLASSES)
    assert set(SIT_CODES) <= set(SIT_CLASSES)
    assert set(CAUSE_CLASSES) <= set(Q850_CAUSES)


@pytest.mark.parametrize(("cause", "cls"), [
    (1, "invalid"), (22, "invalid"), (28, "invalid"), (54, "barred"), (20, "powered_off"),
    (18, "unreachable"), (27, "unreachable"), (17, "live"), (19, "live"),
    (16, "unknown"), (31, "unknown"), (34, "unknown"), (41, "unknown"), (21, "unknown"),
])
def test_clearing_causes(cause: int, cls: str) -> None:
    verdict = verdict_for_clearing(outcome_for_cause(cause), cause)
    assert verdict.cls == cls
    assert verdict.cause == cause


@given(causes)
def test_a_cause_agrees_with_the_gateway_outcome_it_stands_for(cause: int) -> None:
    """causes.py says what the call did; the class never contradicts it."""
    outcome = outcome_for_cause(cause)
    verdict = verdict_for_clearing(outcome, cause)
    assert verdict.cls in CLASSES
    CallOutcome(verdict.outcome)
    expected = {"invalid_number": "invalid", "busy": "live", "congestion": "unknown"}
    if outcome in expected:
        assert verdict.cls == expected[outcome]
    if verdict.cls == "live":  # only a user that was reached: busy, or alerted
        assert cause in (17, 19)
    if cause not in CAUSE_CLASSES:  # an uninformative cause never removes a number
        assert verdict.cls in ("unknown", "live", "unreachable")
        assert verdict_for_cause(cause) is None


@given(st.one_of(st.none(), causes), outcomes, st.one_of(st.none(), st.sampled_from(
    sorted(SIT_CODES))))
def test_clearing_is_total_and_a_decisive_cause_wins(cause, outcome, sit) -> None:
    verdict = verdict_for_clearing(outcome, cause, sit=sit)
    assert isinstance(verdict, Verdict) and verdict.cls in CLASSES
    if cause in CAUSE_CLASSES:
        assert verdict.cls == CAUSE_CLASSES[cause]
    elif sit is not None:
        assert verdict.cls == SIT_CLASSES[sit]
    else:
        assert verdict.cls == OUTCOME_CLASSES.get(outcome, "unknown")


@given(st.text(max_size=20))
def test_announcements(kind: str) -> None:
    verdict = verdict_for_announcement(kind)
    expected = ANNOUNCEMENT_CLASSES.get(kind, ("unknown", "unreachable"))
    assert (verdict.cls, verdict.outcome) == expected


def test_sit_codes() -> None:
    assert verdict_for_sit(None).cls == "invalid"        # ITU SIT, China before 空号
    assert verdict_for_sit("VC").cls == "invalid"
    assert verdict_for_sit("NC").cls == "unknown"        # no circuit: retried
    # the FXO controller releases on any SIT as invalid_number; NC says otherwise
    assert verdict_for_clearing("invalid_number", None, sit="NC").cls == "unknown"


def test_verdicts_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown class 'bogus'"):
        Verdict("bogus", "busy", "x")
    with pytest.raises(ValueError):
        Verdict("live", "ringing", "x")
