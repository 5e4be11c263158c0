"""The per-call machine (no gateway needed): with hypothesis, a call's verdict is decided
by its first decisive event whatever follows; SIT waits for more; silence is unknown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.cleaning.probe import HANGUP_GRACE, Probe
from trunkline.dialer.cleaning.verdicts import (
    Verdict,
    verdict_for_announcement,
    verdict_for_clearing,
)
from trunkline.drivers.dsp.announcements import KINDS

causes = st.integers(min_value=1, max_value=127)


def state(name: str, **extra) -> dict:
    return {"event": "call.state", "call": 1, "state": name, **extra}


EVENTS = {
    "ringing": state("ringing"),
    "answered": state("answered", by="unknown"),
    "early_media": state("early_media"),
    "proceeding": state("proceeding"),
    "sit": {"event": "tone", "call": 1, "tone": "sit"},
    "busy_tone": {"event": "tone", "call": 1, "tone": "busy"},
    "music": {"event": "tone", "call": 1, "tone": "music"},
    **{f"ann_{k}": {"event": "announcement", "call": 1, "kind": k} for k in KINDS},
}
DECISIVE = {"ringing", "answered", "music", *(k for k in EVENTS if k.startswith("ann_"))}


def first_verdict(name: str) -> tuple[str, str]:
    if name == "ringing":
        return "live", "ringing"
    if name == "answered":
        return "live", "answered before release"
    if name == "music":
        return "live", "ringing: music ring-back (彩铃)"
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


def test_after_the_release_the_deadline_is_the_hang_up_grace() -> None:
    probe = Probe(1, 10, 100, "13800000000", placed=0.0)
    assert probe.on_event(EVENTS["ringing"], 2.0)
    assert probe.deadline(listen=30.0, sit_wait=8.0) == float("inf")   # decided, not asked
    probe.released_at = 2.0
    assert probe.deadline(listen=30.0, sit_wait=8.0) == 2.0 + HANGUP_GRACE
    assert not probe.on_event(EVENTS["answered"], 2.5)           # no second hang-up
    assert probe.answered_at == 2.5                              # but remembered
    assert probe.on_hungup({"outcome": "human"}).outcome == "abandoned"


def test_music_ring_back_heard_with_the_ringing_names_it() -> None:
    """The gateway says ``ringing`` and ``tone music`` in one tick: one release, and the
    evidence says music ring-back; music alone (no ringing) decides the same."""
    probe = Probe(1, 10, 100, "13810000000", placed=0.0)
    assert probe.on_event(EVENTS["ringing"], 1.0)
    probe.released_at = 1.0
    assert not probe.on_event(EVENTS["music"], 1.0)
    verdict = probe.on_hungup(state("hungup", outcome="no_answer"))
    assert (verdict.cls, verdict.outcome, verdict.evidence) == \
        ("live", "no_answer", "ringing: music ring-back (彩铃)")
    alone = Probe(2, 11, 101, "13810000001", placed=0.0)
    assert alone.on_event(EVENTS["music"], 1.0) and alone.live_at == 1.0
