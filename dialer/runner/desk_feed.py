"""The desk runner's feed: engine events, desk ops and desk events, until none is left.

Why a module of its own: every part of the desk runner (positions, transfers,
dispositions, an agent's own dials) ends in the same loop: an engine event goes to the
engine, whose actions are made durable, carried out on the gateway and told to the
desk; the desk answers with ops (carried out by the parts, :mod:`desk_dispatch`) and
events for the screens (sent once what they report is durable). This is that loop and
the base class the parts share; it does not know which part carries out an op.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from trunkline.dialer.desk.desk import Desk, agents_concerned, agents_named
from trunkline.dialer.desk.outputs import ContactCard, DeskEvent, Op, ScreenPop
from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, Connect, Dial, OfferPreview, PreviewExpired
from trunkline.dialer.runner.campaign_runner import CampaignRunner, connects_first
from trunkline.dialer.runner.desk_contacts import DeskContacts
from trunkline.dialer.runner.softphone_faults import SoftphoneFaults
from trunkline.dialer.store import Claim


class DeskFeed(CampaignRunner):
    """The loop every desk runner part feeds (see the module docstring); the state
    below is set by :class:`~trunkline.dialer.runner.desk_runner.DeskRunner`."""

    contacts_class = DeskContacts
    contacts: DeskContacts
    desk: Desk
    sink: Callable[[DeskEvent], None] | None
    softphone: SoftphoneFaults
    desk_events: list[DeskEvent]           # when there is no sink (tests)
    _works: list[deque[Any]]               # the work queues of the _feed calls running

    def _handle(self, event: ev.Event, now: float) -> None:
        self._feed([event], now)

    def _feed(self, items: Sequence[Any], now: float) -> None:
        """Engine events to the engine (its actions carried out, the desk told), ops
        carried out, desk events to the sink; until nothing is left."""
        work: deque[Any] = deque(items)
        self._works.append(work)
        try:
            while work:
                item = work.popleft()
                if isinstance(item, DeskEvent):
                    self._emit(item)
                elif isinstance(item, Op):
                    work.extend(self._op(item, now))
                else:
                    work.extend(self._engine(item, now))
        finally:
            self._works.pop()
        self._start_recordings()   # after the screen pops

    def _engine(self, event: ev.Event, now: float) -> list[Any]:
        if isinstance(event, ev.WrapUpDone | ev.AgentLoggedOut):
            wrapping = self._wrapping.pop(event.agent, None)
            if wrapping is not None:
                self.store.set_wrap(wrapping[0], round(now - wrapping[1], 3))
        concerned = agents_concerned(self.engine, event)
        try:
            actions = self.engine.handle(event, now)
        except DialerError as err:
            self.log.warning("runner_event_refused", engine_event=repr(event), error=str(err))
            return []
        return self._apply(actions, now, concerned)

    def _apply(self, actions: list[Action], now: float, concerned: set[str]
               ) -> list[Any]:
        """Persist the engine's actions, carry them out, tell the desk; then the desk
        follows the engine state of the agents the event and the actions concern.
        Returns what is left to feed."""
        refused = self.contacts.persist(actions, now)
        out: list[Any] = []
        follow: deque[ev.Event] = deque()
        for action in connects_first(actions):
            card = self._card_for(action)
            if isinstance(action, Connect) and (lost := self.softphone.taken(action.call_id)):
                # a lost browser's requeued customer: the lost agent's part ends here
                self._connected.pop(action.call_id, None)
                out += self.desk.transfer_done(lost.agent, lost.campaign, to_agent=True)
                concerned = concerned | {lost.agent}
            self._act(action, now, refused, follow)
            out += self.desk.on_engine(action, now, card)
            if isinstance(action, Connect) and not any(self._works) \
                    and all(isinstance(item, DeskEvent) for item in out):
                # Nothing queued for any screen: the agent's pop goes out now, not
                # after the rest of the actions' round trips (dials, hang-ups); and
                # before its "talking" state, which waits for a commit (_emit): the pop
                # shows what was durable before the bridge (CommitsFirst), the page
                # keeps it when "talking" follows (desk.js clears only on ready/paused).
                for item in sorted(out, key=lambda e: not isinstance(e, ScreenPop)):
                    self._emit(item)
                out = []
        out += list(follow)
        return out + self._sync(concerned | agents_named(actions)
                                | set(self.desk.held_pauses()), now)

    def _sync(self, agents: Any, now: float) -> list[Any]:
        out: list[Any] = []
        for agent in agents:
            if agent in self.desk.seats:
                state = self.engine.agents.get(agent)
                out += self.desk.engine_state(agent, state.state if state else None, now)
        return out

    def _act(self, action: Action, now: float, refused: set[int],
             queue_: deque[ev.Event]) -> None:
        if isinstance(action, OfferPreview | PreviewExpired):
            return  # the agent's screen decides (the plain runner dials at once)
        super()._act(action, now, refused, queue_)
        if isinstance(action, Connect):   # to a browser whose audio is down: hold sound
            self.softphone.connected(action.agent, now)

    def _card_for(self, action: Action) -> ContactCard | None:
        """The contact card for an action about an agent (read from the store)."""
        claim: Claim | None = None
        if isinstance(action, Connect) or (isinstance(action, Dial) and action.agent is not None):
            claim = self.contacts.claim(action.call_id)
        elif isinstance(action, OfferPreview):
            claim = self.contacts.held(action.contact.id)
        if claim is None:
            return None
        return self.store.contact_card(claim.contact, attempt=claim.attempt)

    def _emit(self, event: DeskEvent) -> None:
        if not isinstance(event, ScreenPop):
            self.store.flush()   # a screen hears of a saved write once it is durable
        if self.sink is None:
            self.desk_events.append(event)
            return
        try:
            self.sink(event)
        except Exception as err:  # a broken screen must not stop the calls
            self.log.warning("desk_sink_failed", error=str(err), event=event.TYPE)

    def _op(self, op: Op, now: float) -> list[Any]:
        """Carry out a desk op and return what is left to feed. The parts carry the ops
        out (:mod:`desk_dispatch` routes each to its own); one none of them knows ends
        here."""
        raise TypeError(f"not a desk op: {op!r}")
