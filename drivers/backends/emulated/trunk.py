"""What an exchange behind a digital trunk does with one routed call, whatever signalling
carries it (PRI, SS7 ISUP, MFC/R2).

:func:`trunk_script` turns a subscriber's :class:`~.farend.FarEndPlan` into a
:class:`TrunkScript`: steps in time (early media, alerting, answer, clear) and the Q.850
cause. Each network side says the steps in its own signalling: a PRI exchange as
PROGRESS/ALERTING/CONNECT/DISCONNECT, an ISUP exchange as ACM/CPG/ANM/REL, an R2 register
as a group B signal then the answer and clear-back line signals. :class:`TrunkCall` keeps
one call's due steps and what its timeslot plays (:meth:`TrunkCall.audio`), so the three
sides share the routing and the audio and differ only in what they send.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trunkline.drivers.backends.emulated.farend import FarEndPlan
from trunkline.drivers.backends.emulated.lines import BearerChannel
from trunkline.drivers.backends.emulated.plan import Behaviour

__all__ = ["STEP_ORDER", "TrunkCall", "TrunkScript", "trunk_script"]

#: Steps due at the same time happen in this order.
STEP_ORDER = {"progress": 0, "alerting": 1, "answer": 2, "clear": 3}


@dataclass(frozen=True, slots=True)
class TrunkScript:
    """Seconds from routing to each step; None: never. ``reject_cause`` refuses the call
    at once (no early media, no alerting)."""

    label: str
    reject_cause: int | None = None
    progress_after: float | None = None
    alerting_after: float | None = None
    answer_after: float | None = None
    clear_after: float | None = None
    cause: int = 16

    def steps(self) -> list[tuple[float, int, str]]:
        """(seconds, order, step) of the steps that happen, in the order they happen."""
        return sorted((after, STEP_ORDER[name], name) for name, after in (
            ("progress", self.progress_after), ("alerting", self.alerting_after),
            ("answer", self.answer_after), ("clear", self.clear_after)) if after is not None)


def trunk_script(plan: FarEndPlan) -> TrunkScript:
    """What the exchange does for ``plan``: busy and information (invalid number,
    powered off, unreachable) come as in-band early media then a clear with the cause,
    as carriers in China do; congestion is refused at once; an answering or unanswered
    line alerts."""
    b = plan.behaviour
    if b is Behaviour.CONGESTION:
        return TrunkScript("congestion", reject_cause=plan.cause)
    if b is Behaviour.BUSY:
        return TrunkScript("busy", progress_after=0.0, clear_after=0.0, cause=plan.cause)
    if plan.early_media:
        return TrunkScript(b.value, progress_after=0.0, clear_after=plan.release_after,
                           cause=plan.cause)
    if plan.answer_after is None:
        return TrunkScript(b.value, alerting_after=0.0, clear_after=plan.release_after,
                           cause=plan.cause)
    clear = None if plan.hangup_after is None else plan.answer_after + plan.hangup_after
    return TrunkScript(b.value, alerting_after=0.0, answer_after=plan.answer_after,
                       clear_after=clear, cause=plan.cause)


@dataclass
class TrunkCall:
    """One call at the exchange: its plan, script and the steps still to come."""

    plan: FarEndPlan
    script: TrunkScript
    since: float
    port: BearerChannel | None = None
    pending: list[tuple[float, int, str]] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    """What the exchange has said of the call (a side's own bookkeeping: "acm"...)."""

    def __post_init__(self) -> None:
        self.pending = [(self.since + after, order, name)
                        for after, order, name in self.script.steps()]

    def due(self, now: float) -> list[str]:
        """The steps due by ``now``, in order (each given once)."""
        steps = []
        while self.pending and self.pending[0][0] <= now + 1e-9:
            steps.append(self.pending.pop(0)[2])
        return steps

    def cancel(self) -> None:
        self.pending.clear()

    def audio(self, phase: str) -> None:
        """What the call's timeslot carries toward us in ``phase``: ``early`` (ringback,
        music, tones and announcements), ``connected`` (the far party), ``silent``, or
        ``ended`` (the timeslot is free again)."""
        port = self.port
        if port is None:
            return
        if phase == "ended":
            port.in_use = False
            port.attach_live(None)
            port.silence()
            return
        port.in_use = True
        if phase == "early":
            port.play(self.plan.early)
        elif phase == "connected":
            port.start_far_end(self.plan)
        else:
            port.attach_live(None)
            port.silence()
