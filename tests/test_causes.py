from __future__ import annotations

import pytest

from trunkline.causes import (
    Q850_CAUSES,
    CauseOutcome,
    cause_name,
    classify_cause,
    outcome_for_cause,
)

MAPPED = {17: "busy", 1: "invalid_number", 18: "no_answer", 19: "no_answer",
          20: "unreachable", 27: "unreachable", 21: "rejected", 34: "congestion",
          38: "congestion", 41: "congestion", 42: "congestion", 44: "congestion"}


@pytest.mark.parametrize(("cause", "outcome"), sorted(MAPPED.items()))
def test_mapped_causes(cause: int, outcome: str) -> None:
    assert outcome_for_cause(cause) == outcome
    result = classify_cause(cause)
    assert result == CauseOutcome(cause, Q850_CAUSES[cause], outcome)


def test_other_causes_are_errors_with_the_cause_kept() -> None:
    for cause in Q850_CAUSES:
        if cause not in MAPPED:
            result = classify_cause(cause)
            assert result.outcome == "error"
            assert result.cause == cause


def test_every_cause_has_its_standard_name() -> None:
    assert cause_name(16) == "Normal call clearing"
    assert cause_name(17) == "User busy"
    assert cause_name(34) == "No circuit/channel available"
    assert cause_name(102) == "Recovery on timer expiry"
    assert cause_name(127) == "Interworking, unspecified"
    assert len(Q850_CAUSES) >= 70
    assert all(name and name[0].isupper() for name in Q850_CAUSES.values())
    assert cause_name(13) == "Unknown cause 13"


@pytest.mark.parametrize("bad", [0, 128, -1, "17", 17.0, True])
def test_invalid_cause_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match=r"Q\.850 cause"):
        classify_cause(bad)  # type: ignore[arg-type]
