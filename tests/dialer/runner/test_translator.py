"""The wire translator alone: gateway events and ``now`` in, engine events and decisions
out, against a stand-in for the engine's call states (no engine, store or gateway).

Each rule of the translator's table is checked on its own; then hypothesis drives one
call through random event sequences, with the stand-in engine applying what it is told
as the real one would, and checks what must hold whatever the gateway says: the engine
is only told what fits the call's state, each fact once, and a call that hangs up is
always resolved and forgotten.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.runner.translator import (
    ANNOUNCEMENT_OUTCOME,
    AwaitAmd,
    Ended,
    HangUpCall,
    Message,
    MessageLeft,
    Note,
    WireTranslator,
)
from trunkline.dialer.vocab import AnswerKind, CallOutcome, CallState

GW, CALL = 7, 42
D, W = CallState.DIALING, CallState.WAITING


def state(name: str, **extra: Any) -> dict[str, Any]:
    return {"event": "call.state", "call": GW, "state": name, **extra}


def event(name: str, **extra: Any) -> dict[str, Any]:
    return {"event": name, "call": GW, **extra}


class Engine:
    """The engine's call states, as far as the translator reads them."""

    def __init__(self, initial: CallState | None = D) -> None:
        self.calls: dict[int, CallState] = {} if initial is None else {CALL: initial}

    def state(self, call_id: int) -> CallState | None:
        return self.calls.get(call_id)


def translator(initial: CallState | None = D) -> tuple[WireTranslator, Engine]:
    engine = Engine(initial)
    wire = WireTranslator(engine.state, amd_timeout=6.0)
    wire.placed(GW, CALL)
    return wire, engine


# -- the rules, one by one -------------------------------------------------------------------

def test_ringing_is_told_once_and_only_while_dialing() -> None:
    wire, _engine = translator()
    assert wire.on_event(state("ringing"), 1.0) == [ev.CallRinging(CALL)]
    assert wire.on_event(state("ringing"), 2.0) == []
    wire, _engine = translator(W)
    assert wire.on_event(state("ringing"), 1.0) == []


def test_an_answer_waits_for_amd_and_its_timeout_takes_a_person() -> None:
    wire, _engine = translator()
    assert wire.on_event(state("answered", by="unknown"), 10.0) == [AwaitAmd(GW, 16.0)]
    assert wire.on_event(state("answered"), 11.0) == []          # once
    assert wire.calls[GW].answered_at == 10.0
    assert wire.on_amd_timeout(GW, 16.0) == [
        ev.CallAnswered(CALL, AnswerKind.HUMAN, answered_at=10.0)]
    assert wire.calls[GW].live_at == 16.0
    assert wire.on_amd_timeout(GW, 17.0) == []                   # already classified
    assert wire.on_amd_timeout(99, 17.0) == []                   # not ours


@pytest.mark.parametrize(("result", "kind"), [
    ("human", AnswerKind.HUMAN), ("notsure", AnswerKind.HUMAN),
    ("machine", AnswerKind.MACHINE), ("fax", AnswerKind.FAX)])
def test_amd_classifies_once(result: str, kind: AnswerKind) -> None:
    wire, _engine = translator()
    wire.on_event(state("answered"), 10.0)
    assert wire.on_event(event("amd", result=result), 11.5) == [
        ev.CallAnswered(CALL, kind, answered_at=10.0)]
    assert wire.calls[GW].live_at == (11.5 if kind is AnswerKind.HUMAN else None)
    assert wire.on_event(event("amd", result="machine"), 12.0) == []
    assert wire.on_amd_timeout(GW, 16.0) == []


@pytest.mark.parametrize(("reason", "after_answer", "ended"), [
    ("amd_human", 1.5, 10.5),      # a greeting, then up to 1 s of quiet AMD waits for
    ("amd_human", None, 10.5),     # no decision time: the event's arrival (11.5)
    ("amd_human", 0.3, 10.0),      # never before the answer
    ("amd_notsure", 1.5, None),    # silence, a medium greeting, or still talking
    ("amd_machine", 1.5, None),
])
def test_amd_tells_when_the_greeting_ended(reason: str, after_answer: float | None,
                                           ended: float | None) -> None:
    """16 CFR 310.4(b)(4)(iii) counts the 2 s from the end of the greeting."""
    wire, _engine = translator()
    wire.on_event(state("answered"), 10.0)
    fields = {"reason": reason} | ({} if after_answer is None else
                                   {"after_answer": after_answer})
    (told,) = wire.on_event(event("amd", result="human", **fields), 11.5)
    assert isinstance(told, ev.CallAnswered) and told.answered_at == 10.0
    assert told.greeting_ended_at == (None if ended is None else pytest.approx(ended))


def test_a_uk_call_gives_amd_no_more_than_the_abandon_limit() -> None:
    """Ofcom counts the 2 s from the answer: a verdict later than that is too late."""
    wire, _engine = translator()
    wire.calls.clear()
    wire.placed(GW, CALL, amd_limit=2.0)
    assert wire.on_event(state("answered", by="unknown"), 10.0) == [AwaitAmd(GW, 12.0)]
    assert wire.on_amd_timeout(GW, 12.0) == [
        ev.CallAnswered(CALL, AnswerKind.HUMAN, answered_at=10.0)]


def test_amd_after_the_engine_moved_on_is_ignored() -> None:
    wire, engine = translator()
    engine.calls[CALL] = W
    assert wire.on_event(event("amd", result="human"), 1.0) == []
    assert wire.calls[GW].classified is None


@pytest.mark.parametrize("kind", [*ANNOUNCEMENT_OUTCOME, "something_new"])
def test_an_announcement_before_the_answer_releases_the_call(kind: str) -> None:
    wire, _engine = translator()
    outcome = CallOutcome(ANNOUNCEMENT_OUTCOME.get(kind, "unreachable"))
    assert wire.on_event(event("announcement", kind=kind), 3.0) == [
        HangUpCall(GW), ev.CallFailed(CALL, outcome)]
    assert wire.calls[GW].released is outcome
    # nothing more is told about a released call: no ringing, no classification
    assert wire.on_event(state("ringing"), 3.5) == []
    assert wire.on_event(event("announcement", kind="busy"), 4.0) == []
    assert wire.on_event(event("amd", result="human"), 4.5) == []


def test_an_announcement_after_the_answer_is_not_a_failure() -> None:
    wire, _engine = translator()
    wire.on_event(state("answered"), 1.0)
    assert wire.on_event(event("announcement", kind="invalid_number"), 2.0) == []


@pytest.mark.parametrize(("outcome", "told"), [
    ("busy", ev.CallFailed(CALL, CallOutcome.BUSY)),
    ("invalid_number", ev.CallFailed(CALL, CallOutcome.INVALID_NUMBER)),
    (None, ev.CallFailed(CALL, CallOutcome.ERROR)),
    ("machine", ev.CallAnswered(CALL, AnswerKind.MACHINE)),
    ("fax", ev.CallAnswered(CALL, AnswerKind.FAX)),
    ("human", ev.CallHungUp(CALL)),            # answered, gone before AMD decided
])
def test_a_call_that_hangs_up_unclassified(outcome: str | None, told: ev.Event) -> None:
    wire, _engine = translator()
    assert wire.on_event(state("hungup", outcome=outcome), 9.0) == [Ended(GW, CALL), told]
    assert GW not in wire.calls
    assert wire.on_event(state("hungup", outcome=outcome), 9.5) == []   # forgotten


@pytest.mark.parametrize("engine_state", [CallState.WAITING, CallState.CONNECTED])
def test_a_live_call_that_hangs_up(engine_state: CallState) -> None:
    wire, _engine = translator(engine_state)
    assert wire.on_event(state("hungup", outcome="human"), 9.0) == [
        Ended(GW, CALL), ev.CallHungUp(CALL)]


def test_a_call_the_engine_finished_is_only_forgotten() -> None:
    wire, _engine = translator(None)
    assert wire.on_event(state("hungup", outcome="machine"), 9.0) == [Ended(GW, CALL)]


def test_a_machine_message_is_left_after_the_beep() -> None:
    wire, engine = translator()
    assert not wire.may_leave_message(GW)                      # not a machine (yet)
    wire.on_event(state("answered"), 1.0)
    wire.on_event(event("amd", result="machine"), 3.0)
    del engine.calls[CALL]                                      # the engine finished it
    assert wire.may_leave_message(GW)
    wire.message_asked(GW)
    assert not wire.may_leave_message(GW)                      # once
    assert wire.on_event(event("play.finished", reason="done"), 4.0) == []  # not started
    assert wire.on_event(event("play.started"), 6.0) == []
    assert wire.calls[GW].message is Message.PLAYING
    assert wire.on_event(event("play.finished", reason="done"), 9.0) == [
        MessageLeft(CALL), Note(CALL, "machine message left"), HangUpCall(GW)]
    assert wire.on_event(state("hungup", outcome="machine"), 9.1) == [Ended(GW, CALL)]


@pytest.mark.parametrize(("started", "note"), [
    (False, "machine hung up before the message"), (True, "machine message cut off")])
def test_a_machine_that_hangs_up_first_is_noted(started: bool, note: str) -> None:
    wire, engine = translator()
    wire.on_event(event("amd", result="machine"), 3.0)
    del engine.calls[CALL]
    wire.message_asked(GW)
    if started:
        wire.on_event(event("play.started"), 5.0)
    assert wire.on_event(state("hungup", outcome="machine"), 6.0) == [
        Note(CALL, note), Ended(GW, CALL)]


def test_an_abandoned_call_is_hung_up_when_its_message_ends() -> None:
    wire, engine = translator()
    wire.on_event(event("amd", result="human"), 3.0)
    engine.calls[CALL] = W
    assert wire.abandoning(GW) == 3.0                           # the live answer
    assert wire.abandoning(99) is None
    assert wire.on_event(event("play.finished", reason="stopped"), 5.0) == []
    assert wire.on_event(event("play.finished", reason="done"), 5.5) == [HangUpCall(GW)]


def test_events_of_other_calls_give_nothing() -> None:
    wire, _engine = translator()
    for other in (state("ringing"), event("amd", result="human")):
        assert wire.on_event({**other, "call": 99}, 1.0) == []
        assert wire.on_event({k: v for k, v in other.items() if k != "call"}, 1.0) == []


# -- properties over any sequence --------------------------------------------------------------

WIRE = {
    "ringing": state("ringing"), "proceeding": state("proceeding"),
    "answered": state("answered", by="unknown"),
    **{f"amd_{r}": event("amd", result=r) for r in ("human", "notsure", "machine", "fax")},
    **{f"ann_{k}": event("announcement", kind=k) for k in (*ANNOUNCEMENT_OUTCOME, "other")},
    "play.started": event("play.started"),
    "play.done": event("play.finished", reason="done"),
    "play.stopped": event("play.finished", reason="stopped"),
}
HANGUPS = [None, "busy", "no_answer", "congestion", "invalid_number", "unreachable",
           "rejected", "error", "human", "machine", "fax", "abandoned"]
RUNNER = ["amd_timeout", "abandon", "message"]


class Model:
    """The stand-in engine, applying the engine events as the real engine does."""

    def __init__(self) -> None:
        self.engine = Engine(D)
        self.told: list[ev.Event] = []

    def apply(self, out: list[Any]) -> None:
        for item in out:
            if not isinstance(item, ev.CallRinging | ev.CallAnswered | ev.CallFailed
                              | ev.CallHungUp):
                continue
            now = self.engine.state(CALL)
            # the engine accepts these only in these states (calls.TRANSITIONS)
            if isinstance(item, ev.CallHungUp):
                assert now is not None, item
                del self.engine.calls[CALL]
            else:
                assert now is D, (item, now)
                if isinstance(item, ev.CallAnswered) and item.kind is AnswerKind.HUMAN:
                    self.engine.calls[CALL] = W
                elif not isinstance(item, ev.CallRinging):
                    del self.engine.calls[CALL]
            self.told.append(item)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*WIRE, *RUNNER]), max_size=14), st.sampled_from(HANGUPS))
def test_the_engine_is_told_each_fact_once_in_a_state_it_accepts(steps, outcome) -> None:
    model = Model()
    wire = WireTranslator(model.engine.state, amd_timeout=6.0)
    wire.placed(GW, CALL)
    batches: list[tuple[str, list[Any]]] = []
    abandoned = False
    for t, step in enumerate(steps):
        now = float(t)
        if step == "amd_timeout":
            out = wire.on_amd_timeout(GW, now)
        elif step == "abandon":     # the engine abandons a waiting call
            if model.engine.state(CALL) is W:
                del model.engine.calls[CALL]
                wire.abandoning(GW)
                abandoned = True
            out = []
        elif step == "message":     # the engine hung a machine up: leave a message
            if wire.may_leave_message(GW):
                wire.message_asked(GW)
            out = []
        else:
            out = wire.on_event(WIRE[step], now)
        model.apply(out)     # asserts the engine would accept every event, in order
        batches.append((step, out))
    before = model.engine.state(CALL)
    last = wire.on_event(state("hungup", outcome=outcome), float(len(steps)))
    model.apply(last)

    # the call is resolved and forgotten when it hangs up, whatever came before
    assert model.engine.state(CALL) is None
    assert GW not in wire.calls
    assert [o for o in last if isinstance(o, Ended)] == [Ended(GW, CALL)]
    told_at_end = [o for o in last if isinstance(o, ev.CallFailed | ev.CallAnswered
                                                 | ev.CallHungUp)]
    assert len(told_at_end) == (1 if before is not None else 0)
    # each fact once: one ringing at most, one answer or failure at most
    told = [type(e) for e in model.told]
    assert told.count(ev.CallRinging) <= 1
    assert told.count(ev.CallAnswered) + told.count(ev.CallFailed) <= 1
    # a hang-up is asked only by the rules that release a call
    for step, out in batches:
        if any(isinstance(o, HangUpCall) for o in out):
            assert step.startswith("ann_") or step == "play.done", step
            if step == "play.done":
                assert abandoned or any(isinstance(o, MessageLeft) for o in out)
    # a classification, when there is one, is the first the gateway (or the timeout) gave
    answers = [e for e in model.told if isinstance(e, ev.CallAnswered)]
    firsts = [s for s in steps if s.startswith("amd_") or s == "amd_timeout"]
    if answers and firsts and firsts[0] != "amd_timeout":
        kind = firsts[0][4:]
        assert str(answers[0].kind) == ("human" if kind in ("human", "notsure") else kind)
