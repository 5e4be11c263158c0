"""What the desk runner does when an agent's browser loses its audio mid-call (issue 19).

A browser position (the softphone) whose page vanishes (the network drops, the tab is
closed, ICE fails) is not hung up at once: the gateway keeps its call ``[webrtc]
reconnect`` seconds for the page to come back (a reload resumes the same call). Meanwhile
the customer must never hear silence:

- the page's audio is **lost** (``webrtc.state`` lost/closed) while the agent talks to a
  customer: the customer hears the campaign's hold music (``hold_file``), or without one
  the zone's call-waiting tone, over the (now silent) agent; the agent's screen is told
  why (an ``audio_lost`` call note with the gateway's reason: ``no_media`` when the
  page's packets stopped for 2 s, the network gone; ``ice_failed``; ``closed``);
- the page comes back (``connected``): the hold sound stops, the conversation goes on
  (``audio_back``);
- the page's audio is lost while the agent has no customer (ready, in wrap-up): the
  agent is paused (reason ``audio_lost``, an ``audio_down`` call note) so no call is put
  through to a silent position, and made ready again when the audio is back (if still
  paused for it). A customer put through all the same (the agent pressed ready, or the
  engine had counted it for a call in flight) gets the hold sound at once, as for a loss
  mid-call, and the policy below if the page does not come back;
- the position ends without the page coming back: the campaign's ``agent_lost`` policy
  (dialer/runner/settings.py) decides. ``requeue`` (the default): the customer stays on
  hold and is handed to the next agent of the call's campaign who is free, as a transfer
  to the campaign (screen pop, the disposition that agent's to save), waiting at most
  ``agent_lost_wait`` seconds; nobody free by then, or ``end``: the customer hears the
  apology (``abandon_file``, else ``abandon_tone`` for ``abandon_seconds``) and the call
  ends.

The engine keeps the queue (``CallRequeued``): a requeued customer is served before new
answers, first requeued first served, by the first agent of its campaign to come free;
a new answer that finds no agent because of it waits as any answer with no agent (and
counts as an abandon if nobody comes within the regime's limit). The requeued call is
never an abandon: it was connected to an agent (docs/softphone.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trunkline.dialer.desk.outputs import CallNote
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.runner.gateway import REQUEST_FAILED
from trunkline.dialer.runner.settings import RunnerSettings
from trunkline.dialer.vocab import AgentState

if TYPE_CHECKING:
    from trunkline.dialer.runner.desk_runner import DeskRunner

__all__ = ["AUDIO_LOST_REASON", "HOLD_TONE", "SoftphoneFaults"]

#: The pause reason of an agent whose browser audio is down (no call is put through).
AUDIO_LOST_REASON = "audio_lost"

#: What a held customer hears without a hold file (the agent's hold, a transfer's ring,
#: the agent's page reconnecting): the zone's call-waiting tone.
HOLD_TONE = "callwaiting"


@dataclass(slots=True)
class _Held:
    customer: int          # the customer's gateway call
    since: float
    played: bool = True    # we started the hold sound (not when the agent had held it)


@dataclass(slots=True)
class _Requeued:
    """A customer on hold for the next free agent of ``campaign``."""

    call_id: int           # the engine's call
    customer: int          # its gateway call
    agent: str             # the agent whose browser was lost
    campaign: str
    deadline: float        # the apology then, if nobody took it
    queued: bool = False   # told the engine (after the desk heard the position went)


class SoftphoneFaults:
    """The runner's side of a browser position losing its audio (see the module
    docstring). ``on_event`` takes the ``webrtc.state`` events (and the apology's end);
    ``position_ended`` applies the policy; ``tick`` hands waiting customers on."""

    def __init__(self, runner: DeskRunner) -> None:
        self.runner = runner
        self.held: dict[str, _Held] = {}         # agent -> its customer, on hold
        self.requeued: dict[int, _Requeued] = {} # customer -> waiting for another agent
        self.apologising: set[int] = set()       # customers hearing the apology
        self.down: dict[str, str] = {}           # agent -> why its page's audio is down
        self.paused: set[str] = set()            # agents paused here for it
        self.lost = 0                            # pages lost with a customer on the line
        self.resumed = 0                         # ... that came back in time
        self.handed_on = 0                       # customers another agent took
        self.apologies = 0                       # customers sent away with the apology

    def on_event(self, event: Any, now: float) -> bool:
        """True when the event was the softphone's (the runner need not look further)."""
        kind = event.get("event")
        if kind == "play.finished" and event.get("call") in self.apologising:
            self._hang_up(int(event["call"]))
            return True
        if kind == "play.finished" and event.get("reason") == "done" \
                and self._waiting(event.get("call")):
            self._play_hold(int(event["call"]))   # the hold file ended: again, no silence
            return True
        if kind != "webrtc.state":
            return False
        agent = self._agent_of(event.get("call"))
        if agent is None:
            return True
        state = event.get("state")
        if state in ("lost", "closed"):
            reason = str(event.get("reason") or state)
            self.down[agent] = reason
            if not self._hold_customer(agent, reason, now):
                self._take_out(agent, reason, now)
        elif state == "connected":
            self.down.pop(agent, None)
            if agent in self.held:
                held = self.held.pop(agent)
                self.resumed += 1
                if held.played:
                    self.runner._stop_hold(held.customer)   # the customer may have left
                self._note(agent, "audio_back", "", now)
            self._put_back(agent, now)
        return True

    def position_gone(self, agent: str) -> None:
        """The agent's position ended: its page's audio is nobody's concern any more (a
        later login, at a phone or a new browser position, starts afresh)."""
        self.down.pop(agent, None)
        self.paused.discard(agent)

    def connected(self, agent: str, now: float) -> None:
        """A customer was just put through to ``agent``: if its page's audio is down
        (it pressed ready meanwhile, or the engine had counted it for a call in flight),
        the customer hears the hold sound at once, as for a loss mid-call."""
        reason = self.down.get(agent)
        if reason is not None:
            self._hold_customer(agent, reason, now)

    def _hold_customer(self, agent: str, reason: str, now: float) -> bool:
        """The agent's customer, if it has one, on hold for the lost page (True)."""
        customer = self._customer_of(agent)
        if customer is None:
            return False
        if agent not in self.held:
            seat = self.runner.desk.seats.get(agent)
            on_hold = seat is not None and seat.held   # the agent's own hold: it stays
            self.held[agent] = _Held(customer, now, played=not on_hold)
            self.lost += 1
            if not on_hold:
                self._play_hold(customer)
            self._note(agent, "audio_lost", reason, now)
        return True

    def _take_out(self, agent: str, reason: str, now: float) -> None:
        """No customer: a ready agent (or one in wrap-up, once it ends) is paused, so the
        engine puts no call through to a silent position."""
        runner = self.runner
        current = runner.engine.agents.get(agent)
        seat = runner.desk.seats.get(agent)
        if current is None or seat is None or agent in self.paused \
                or current.state not in (AgentState.READY, AgentState.WRAP_UP):
            return
        self.paused.add(agent)
        seat.pause_sent = AUDIO_LOST_REASON   # the reason the desk shows once paused
        runner._feed([ev.AgentPaused(agent, AUDIO_LOST_REASON)], now)
        self._note(agent, "audio_down", reason, now)

    def _put_back(self, agent: str, now: float) -> None:
        """The audio is back: an agent paused for it is ready again (unless it chose
        another pause meanwhile)."""
        if agent not in self.paused:
            return
        self.paused.discard(agent)
        runner = self.runner
        seat = runner.desk.seats.get(agent)
        current = runner.engine.agents.get(agent)
        if seat is None or current is None or seat.leaving:
            return
        if seat.pause_sent == AUDIO_LOST_REASON:     # the engine still holds the pause
            seat.want_ready = True
        elif current.state is AgentState.PAUSED and seat.reason == AUDIO_LOST_REASON:
            runner._feed([ev.AgentReady(agent)], now)

    def position_ended(self, agent: str, customer: int, now: float) -> bool:
        """The agent's position ended while its customer was on hold for a lost page:
        the campaign's ``agent_lost`` policy (True); False when the page was not lost
        (the runner hangs the customer up as for any position). A requeued customer is
        given to the engine by :meth:`flush`, once the desk knows the agent is leaving
        (so its wrap-up, when another agent takes the call, never makes it ready)."""
        held = self.held.pop(agent, None)
        if held is None or held.customer != customer:
            return False
        runner = self.runner
        current = runner.engine.agents.get(agent)
        call = runner.engine.calls.get(current.call_id) \
            if current is not None and current.call_id is not None else None
        if call is not None:
            settings = runner.settings.get(call.campaign) or RunnerSettings()
            if settings.agent_lost == "requeue" and settings.agent_lost_wait > 0:
                self.requeued[customer] = _Requeued(call.id, customer, agent, call.campaign,
                                                    now + settings.agent_lost_wait)
                return True       # still on hold; tick() hands it on
        return self._apologise(customer, now)

    def flush(self, now: float) -> None:
        """Requeued customers not yet in the engine's queue go into it (an agent free
        now takes one at once)."""
        for waiting in list(self.requeued.values()):
            if not waiting.queued:
                waiting.queued = True
                self.runner._feed([ev.CallRequeued(waiting.call_id)], now)

    def taken(self, call_id: int) -> _Requeued | None:
        """The engine connected ``call_id`` to an agent: if it is a requeued customer,
        its hold sound stops and it is forgotten here (returned, for the runner to end
        the lost agent's part)."""
        customer = next((c for c, w in self.requeued.items() if w.call_id == call_id), None)
        if customer is None:
            return None
        waiting = self.requeued.pop(customer)
        self.runner._stop_hold(customer)            # the hold sound may have ended
        self.handed_on += 1
        return waiting

    def tick(self, now: float) -> None:
        """Requeued customers into the engine's queue (the first agent to come free
        takes the longest waiting); the apology for those who waited
        ``agent_lost_wait`` in vain; forget those who hung up."""
        runner = self.runner
        self.flush(now)
        for customer, waiting in list(self.requeued.items()):
            if customer not in runner.translator.calls \
                    or waiting.call_id not in runner.engine.calls:
                del self.requeued[customer]      # the customer hung up meanwhile
            elif now >= waiting.deadline:
                del self.requeued[customer]
                runner._feed([ev.RequeueGivenUp(waiting.call_id)], now)
                self._apologise(customer, now)

    def next_deadline(self) -> float | None:
        return min((w.deadline for w in self.requeued.values()), default=None)

    # -- helpers ---------------------------------------------------------------------------
    def _apologise(self, customer: int, now: float) -> bool:
        runner = self.runner
        try:
            if runner.abandon_file:
                runner.gateway.play(customer, file=runner.abandon_file)
                self.apologising.add(customer)
                runner._schedule(now + 60.0, "hangup", customer)  # play.finished first
            else:
                runner.gateway.play(customer, tone=runner.abandon_tone)
                runner._schedule(now + runner.abandon_seconds, "hangup", customer)
        except REQUEST_FAILED:
            return False
        self.apologies += 1
        return True

    def _waiting(self, call: Any) -> bool:
        """``call`` is a customer on hold for a lost page or for the next agent."""
        return call in self.requeued or any(h.customer == call for h in self.held.values())

    def _note(self, agent: str, what: str, detail: str, now: float) -> None:
        """Tell the agent's screen (and the supervisors') what happened to the audio."""
        if agent in self.runner.desk.seats:
            self.runner._feed([CallNote(agent, what, detail)], now)

    def _agent_of(self, call: Any) -> str | None:
        return next((p.agent for p in self.runner.agent_legs.values() if p.gw == call), None)

    def _customer_of(self, agent: str) -> int | None:
        runner = self.runner
        current = runner.engine.agents.get(agent)
        if current is None or current.state is not AgentState.TALKING:
            return None
        customer = runner.customers.get(current.call_id)
        return None if customer is None else customer.gw

    def _play_hold(self, customer: int) -> None:
        self.runner._play_hold(customer)

    def _hang_up(self, customer: int) -> None:
        self.apologising.discard(customer)
        self.runner._hangup(customer)
