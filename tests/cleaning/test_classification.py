"""The evidence -> class tables and the per-call machine (no gateway needed).

The tables are data; these tests hold them to the facts they cite (Q.850 via
trunkline.causes, the detector's announcement kinds and SIT codes) and check,
with hypothesis, that a call's verdict is decided by its first decisive event whatever
follows.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.causes import Q850_CAUSES, outcome_for_cause
from trunkline.dialer.cleaning import (
    ANNOUNCEMENT_CLASSES,
    CAUSE_CLASSES,
    CLASSES,
    OUTCOME_CLASSES,
    SIT_CLASSES,
    Probe,
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


# -- the per-call machine --------------------------------------------------------------------

def state(name: str, **extra) -> dict:
    return {"event": "call.state", "call": 1, "state": name, **extra}


EVENTS = {
    "ringing": state("ringing"),
    "answered": state("answered", by="unknown"),
    "early_media": state("early_media"),
    "proceeding": state("proceeding"),
    "sit": {"event": "tone", "call": 1, "tone": "sit"},
    "busy_tone": {"event": "tone", "call": 1, "tone": "busy"},
    **{f"ann_{k}": {"event": "announcement", "call": 1, "kind": k} for k in KINDS},
}
DECISIVE = {"ringing", "answered", *(k for k in EVENTS if k.startswith("ann_"))}


def first_verdict(name: str) -> tuple[str, str]:
    if name == "ringing":
        return "live", "ringing"
    if name == "answered":
        return "live", "answered before release"
    v = verdict_for_announcement(name[4:])
    return v.cls, v.evidence


@given(st.lists(st.sampled_from(sorted(EVENTS)), max_size=12),
       st.sampled_from(["human", "no_answer", "busy", "invalid_number", "error"]),
       st.one_of(st.none(), causes))
def test_the_first_decisive_event_decides(names, outcome, cause) -> None:
    probe = Probe(1, 10, 100, "13800000000", placed=0.0)
    hang_ups = 0
    for t, name in enumerate(names):
        if probe.on_event(EVENTS[name], float(t)):
            hang_ups += 1
            probe.released_at = float(t)  # what the runner does when told to hang up
    verdict = probe.on_hungup(state("hungup", outcome=outcome, cause=cause))
    first = next((n for n in names if n in DECISIVE), None)
    assert hang_ups == (1 if first is not None else 0)
    if first is not None:
        evidence = verdict.evidence.split(";")[0].removeprefix("SIT (ITU), ")
        assert (verdict.cls, evidence) == first_verdict(first)
        if "sit" in names[:names.index(first)] and first.startswith("ann_"):
            assert verdict.evidence.startswith("SIT (ITU), announcement ")
        assert probe.released_at == float(names.index(first))
    if "answered" in names:
        assert verdict.outcome == "abandoned"  # a person picked up to silence: counted
    if first is None:  # the network (or the gateway's controller) ended it
        expected = verdict_for_clearing(outcome, cause, sit="ITU" if "sit" in names else None)
        if expected.cls == "live" and outcome == "human":
            expected = Verdict("live", "abandoned", "answered before release", cause)
        assert verdict == expected


def test_sit_waits_for_an_announcement_then_decides_alone() -> None:
    probe = Probe(1, 10, 100, "13000000000", placed=0.0)
    assert not probe.on_event(EVENTS["sit"], 1.0)
    assert not probe.on_time(5.0, listen=30.0, sit_wait=8.0)
    assert probe.deadline(listen=30.0, sit_wait=8.0) == 9.0
    assert probe.on_time(9.0, listen=30.0, sit_wait=8.0)
    assert probe.verdict is not None and probe.verdict.cls == "invalid"
    # an announcement after the SIT (within the wait) decides instead
    probe = Probe(1, 10, 100, "13400000000", placed=0.0)
    probe.on_event(EVENTS["sit"], 1.0)
    assert probe.on_event(EVENTS["ann_powered_off"], 4.0)
    assert probe.verdict == Verdict("powered_off", "unreachable",
                                    "SIT (ITU), announcement powered_off")


def test_nothing_decisive_within_the_listen_time_is_unknown() -> None:
    probe = Probe(1, 10, 100, "13500000000", placed=0.0)
    assert not probe.on_time(29.9, listen=30.0, sit_wait=8.0)
    assert probe.on_time(30.0, listen=30.0, sit_wait=8.0)
    assert probe.verdict is not None and probe.verdict.cls == "unknown"
