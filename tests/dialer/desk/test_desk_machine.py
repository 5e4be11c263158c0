"""The desk and the real engine under random agent commands and call events
(hypothesis state machine): the desk always follows the engine's agent state, wrap-up
never ends without a disposition nor outlasts the campaign's limit, every call an agent
talked on gets exactly one disposition, refused commands change nothing, and the state
log of each agent is one unbroken line of stretches."""

from __future__ import annotations

import copy

from desk_kit import Rig
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.desk import CONNECTING, WRAP_UP
from trunkline.dialer.desk.outputs import LogState, RecordDisposition
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.vocab import AnswerKind, CallOutcome, CallState

AGENTS = ("a1", "a2", "a3")
REASONS = ("break", "lunch", "nap")   # nap is not a pause code
DISPOSITIONS = (
    ("promise", {"amount": "2000", "date": "2025-07-15", "reason": "salary"}),
    ("promise", {"amount": "2,000.5"}),                    # the date is missing
    ("refused", {"reason": "lost job"}),
    ("refused", {}),
    ("callback", {}),                                       # needs a callback time
    ("nothing", {}),
)


class DeskMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rig = Rig()
        self.talked: set[int] = set()

    def _agent_state(self, agent: str) -> object:
        seat = self.rig.desk.seats.get(agent)
        return None if seat is None else copy.copy(seat)

    def _command(self, command: cmd.Command) -> None:
        before = self._agent_state(command.agent)
        refused_before = len(self.rig.refused)
        self.rig.command(command)
        if len(self.rig.refused) > refused_before:
            after = self._agent_state(command.agent)
            assert repr(after) == repr(before), (command, before, after)

    @rule(agent=st.sampled_from(AGENTS), port=st.integers(1, 4))
    def login(self, agent: str, port: int) -> None:
        self._command(cmd.Login(agent, "fxs", str(port), (("loans", "standard"),)))
        self.rig.feed(self.rig.desk.position_answered(agent, self.rig.now))

    @rule(agent=st.sampled_from(AGENTS))
    def ready(self, agent: str) -> None:
        self._command(cmd.Ready(agent))

    @rule(agent=st.sampled_from(AGENTS), reason=st.sampled_from(REASONS))
    def pause(self, agent: str, reason: str) -> None:
        self._command(cmd.Pause(agent, reason))

    @rule(agent=st.sampled_from(AGENTS))
    def logout(self, agent: str) -> None:
        self._command(cmd.Logout(agent))

    @rule(agent=st.sampled_from(AGENTS))
    def phone_hangs_up(self, agent: str) -> None:
        seat = self.rig.desk.seats.get(agent)
        if seat is not None and seat.call is not None and seat.call in self.rig.talking:
            self.rig.engine_event(ev.CallHungUp(seat.call))  # the runner drops the customer
        self.rig.feed(self.rig.desk.position_lost(agent, self.rig.now))

    @rule(pick=st.integers(0, 50), kind=st.sampled_from(["human", "human", "busy",
                                                          "machine"]))
    def a_dial_resolves(self, pick: int, kind: str) -> None:
        calls = self.rig.engine.calls
        pending = [c for c in self.rig.dials
                   if c in calls and calls[c].state is CallState.DIALING]
        if not pending:
            return
        call = pending[pick % len(pending)]
        if kind == "busy":
            self.rig.engine_event(ev.CallFailed(call, CallOutcome.BUSY))
        else:
            self.rig.engine_event(ev.CallAnswered(call, AnswerKind(kind)))
        if call in self.rig.talking:
            self.talked.add(call)

    @invariant()
    def whoever_talked_last_owes_the_disposition(self) -> None:
        last: dict[int, str] = {}
        for connect in self.rig.connects:
            last[connect.call_id] = connect.agent
        for op in self.rig.ops:
            if isinstance(op, RecordDisposition):
                assert last[op.call] == op.agent, (op, last)

    @rule(pick=st.integers(0, 50))
    def a_customer_hangs_up(self, pick: int) -> None:
        if self.rig.talking:
            calls = sorted(self.rig.talking)
            self.rig.engine_event(ev.CallHungUp(calls[pick % len(calls)]))

    @rule(agent=st.sampled_from(AGENTS), which=st.integers(0, len(DISPOSITIONS) - 1),
          then=st.sampled_from(["ready", "pause"]))
    def dispose(self, agent: str, which: int, then: str) -> None:
        code, fields = DISPOSITIONS[which]
        self._command(cmd.SaveDisposition(agent, code, fields, then=then,
                                          reason="lunch" if then == "pause" else ""))

    @rule(agent=st.sampled_from(AGENTS), op=st.sampled_from(["hold", "resume", "dtmf"]))
    def call_control(self, agent: str, op: str) -> None:
        command = {"hold": cmd.Hold(agent), "resume": cmd.Resume(agent),
                   "dtmf": cmd.SendDtmf(agent, "12#")}[op]
        self._command(command)

    @rule(agent=st.sampled_from(AGENTS), to=st.sampled_from(AGENTS))
    def transfer_to_agent(self, agent: str, to: str) -> None:
        self._command(cmd.Transfer(agent, "blind", "agent", to))

    @rule(seconds=st.sampled_from([0.5, 5.0, 30.0, 61.0]))
    def time_passes(self, seconds: float) -> None:
        self.rig.advance(seconds)

    @invariant()
    def the_desk_follows_the_engine(self) -> None:
        for agent, seat in self.rig.desk.seats.items():
            if seat.state == CONNECTING:
                assert agent not in self.rig.engine.agents
                continue
            engine = self.rig.engine.agents.get(agent)
            assert engine is not None, agent
            assert seat.state == str(engine.state), (agent, seat, engine.state)
        for agent in self.rig.engine.agents:
            assert agent in self.rig.desk.seats

    @invariant()
    def wrap_up_ends_only_with_a_disposition_in_time(self) -> None:
        # A call talks from whichever step bridged it: its answer, or an agent going
        # ready (or logging in) while the answer waited for one.
        self.talked |= set(self.rig.talking)
        for seat in self.rig.desk.seats.values():
            if seat.state == WRAP_UP:
                assert seat.disposed or self.rig.now < seat.wrap_deadline
                assert seat.wrap_deadline - seat.since == 60.0 or seat.disposed
        saved = [op.call for op in self.rig.ops if isinstance(op, RecordDisposition)]
        assert len(saved) == len(set(saved)), saved     # once per call, transfers or not
        assert set(saved) <= self.talked
        for call in self.talked - set(saved):   # not saved yet: still on it or in wrap-up
            assert any(s.call == call for s in self.rig.desk.seats.values()), call

    @invariant()
    def the_state_log_is_unbroken(self) -> None:
        last: dict[str, float] = {}
        for op in self.rig.ops:
            if isinstance(op, LogState):
                assert op.until > op.since
                if op.agent in last:
                    assert op.since >= last[op.agent]
                last[op.agent] = op.until


class PreviewDeskMachine(DeskMachine):
    """The same rules in a preview campaign, where agents decide on the records shown."""

    def __init__(self) -> None:
        super().__init__()
        self.rig = Rig(mode="preview")

    @rule(agent=st.sampled_from(AGENTS), dial=st.booleans(), wrong=st.booleans())
    def decide(self, agent: str, dial: bool, wrong: bool) -> None:
        seat = self.rig.desk.seats.get(agent)
        shown = seat.preview.contact_id if seat is not None and seat.preview else "c-none"
        contact = "c-none" if wrong else shown
        self._command(cmd.PreviewDial(agent, contact) if dial
                      else cmd.PreviewSkip(agent, contact))


SETTINGS = settings(max_examples=60, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DeskMachine.TestCase.settings = SETTINGS
PreviewDeskMachine.TestCase.settings = SETTINGS
TestDeskMachine = DeskMachine.TestCase
TestPreviewDeskMachine = PreviewDeskMachine.TestCase
