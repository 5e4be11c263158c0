"""The campaign runner with agents at a desk (issue 17): driven at run time.

:class:`DeskRunner` is a :class:`~trunkline.dialer.runner.campaign_runner.CampaignRunner`
whose agents are not rung at start: they log in, pause, save dispositions, preview,
dial and transfer through the :class:`~trunkline.dialer.desk.desk.Desk`, and it runs
preview, manual and mixed campaigns too. ``trunkline dialer run`` keeps the plain runner.

Interface for the service host (one runner per gateway, in its own thread)::

    runner = DeskRunner(store, ["loans", "sales"], gateway, sink=on_event)
    runner.start()
    while not stopping:
        runner.step()                    # in the runner's thread only
    ...
    # from any thread:
    runner.submit(Login("a1", "fxs", "71", (("loans", "standard"),)))
    runner.submit(command_from_dict(json_body))       # any desk command
    runner.submit(CampaignControl("loans", "pause"))  # pause / resume new dials

- :meth:`DeskRunner.submit` is thread-safe: commands are queued and applied at the start
  of the runner's next step (a step waits at most :attr:`DeskRunner.max_wait` seconds
  while agents are logged in, so a click is carried out within that).
- ``sink(event)`` is called, in the runner's thread, with every
  :class:`~trunkline.dialer.desk.outputs.DeskEvent` (``event.to_dict()`` is JSON-ready;
  ``event.agent`` says whose screen it is for): state changes, screen pops, previews,
  wrap-up, dispositions saved, callbacks, call notes, pause overruns and refusals (a
  :class:`~trunkline.dialer.desk.outputs.Refused` names the command and, for a form,
  the field). The sink must not block; hand the event to another thread.
- :meth:`DeskRunner.snapshot` gives every agent's desk state (for a page that
  (re)connects); call it in the runner's thread (or through the host's inbox).

What the desk asks is carried out here: an agent's position is rung when it logs in
(an FXS port's channel, or a number over the ``group`` trunks) and held as its audio
leg; ``Connect`` bridges the customer to it and brings the screen pop (the store's
contact card, the campaign's script); engine previews go to the agent's screen; a manual
dial is checked by the store (DNC, calling windows) before the engine dials it; a
personal callback that comes due is dialled for its agent when it is ready;
dispositions, callbacks and every stretch of an agent's state are committed to the
store. Hold unbridges the customer (who hears silence; no music on hold yet), DTMF goes
out on the customer's call, and a blind transfer to a number rings it and bridges the
customer to it when it answers.

Not done yet (refused with a message saying so): transfers to an agent or a campaign,
attended transfers and the three-way conference (the gateway bridges two calls; a
conference needs a mixer operation), and adding or removing campaigns at run time
(campaigns can be paused and resumed).
"""

from __future__ import annotations

import math
import queue
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import SiteDesk
from trunkline.dialer.desk.desk import CampaignDesk, Desk
from trunkline.dialer.desk.outputs import (
    CallOp,
    ContactCard,
    DeskEvent,
    DialRequest,
    DropPosition,
    LogState,
    Op,
    RecordDisposition,
    RingPosition,
    SaveCallback,
)
from trunkline.dialer.errors import DialerError, StoreError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, Connect, Dial, OfferPreview, PreviewExpired
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.runner.campaign_runner import CampaignRunner, _Contacts, _Position
from trunkline.dialer.runner.gateway import GatewayPort
from trunkline.dialer.runner.settings import campaign_config
from trunkline.dialer.store import Claim, Store
from trunkline.dialer.vocab import AgentState
from trunkline.gateway.rpc.errors import RpcError

NOT_YET = {
    "agent": "a transfer to an agent is not carried out yet; transfer to a number",
    "campaign": "a transfer to a campaign is not carried out yet; transfer to a number",
    "attended": "attended transfer is not carried out yet; use a blind transfer",
    "conference": "the three-way conference needs a gateway mixer operation that is not "
                  "built yet",
}
#: How often due personal callbacks are looked for (seconds).
CALLBACK_POLL = 5.0


@dataclass(frozen=True, slots=True)
class CampaignControl:
    """Pause (no new dials) or resume a running campaign, from the supervisor."""

    campaign: str
    action: str

    def __post_init__(self) -> None:
        if self.action not in ("pause", "resume"):
            raise ValueError(f"action is 'pause' or 'resume', got {self.action!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "campaign", "campaign": self.campaign, "action": self.action}


class _DeskContacts(_Contacts):
    """The store's contacts, with campaigns that can be paused and claims made outside
    the engine (manual dials, personal callbacks) handed to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paused: set[str] = set()

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        if campaign in self.paused:
            return None
        return super().next_contact(campaign, now)

    def adopt(self, claim: Claim) -> Contact:
        key = str(claim.contact)
        self._claims[key] = claim
        return Contact(key, claim.number, claim.campaign)

    def held(self, contact_id: str) -> Claim | None:
        return self._claims.get(contact_id)


class DeskRunner(CampaignRunner):
    """Campaigns with agents at a desk (see the module docstring). ``sink`` receives the
    desk events; ``site`` the pause codes (default: the store's)."""

    positions_at_start = False
    #: The longest a step waits while agents are logged in (command latency).
    max_wait = 0.1

    def __init__(self, store: Store, campaign: str | Sequence[str], gateway: GatewayPort, *,
                 sink: Callable[[DeskEvent], None] | None = None,
                 site: SiteDesk | None = None, **options: Any) -> None:
        names = [campaign] if isinstance(campaign, str) else list(campaign)
        if "config" not in options:
            options["config"] = [campaign_config(store, name, desk=True) for name in names]
        super().__init__(store, names, gateway, **options)
        self.contacts = _DeskContacts(store, window_of=self.window_of)
        self.engine._provider = self.contacts  # the engine was built on the plain one
        self.desk = Desk({name: CampaignDesk(store.desk_config(name), store.strategy(name))
                          for name in self.campaigns},
                         site or SiteDesk(store.pause_codes()))
        self.sink = sink
        self.desk_events: list[DeskEvent] = []   # when there is no sink (tests)
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._transfers: dict[int, tuple[str, int]] = {}   # out leg -> (agent, customer gw)
        self._next_callbacks = -math.inf

    # -- the host's side -------------------------------------------------------------------

    def submit(self, command: cmd.Command | CampaignControl) -> None:
        """Queue a command from any thread; applied at the start of the next step."""
        if not isinstance(command, cmd.Command | CampaignControl):
            raise TypeError(f"not a desk command: {command!r}")
        self._inbox.put(command)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every agent's desk as the screens know it."""
        return [{"agent": s.agent, "state": s.state, "reason": s.reason, "since": s.since,
                 "then": s.then, "position": s.position, "address": s.address,
                 "call": s.call, "contact": s.card.to_dict() if s.card else None,
                 "preview": s.preview.to_dict() if s.preview else None}
                for s in self.desk.seats.values()]

    # -- the step --------------------------------------------------------------------------

    def _before_wait(self, now: float) -> None:
        while True:
            try:
                command = self._inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(command, CampaignControl):
                self._control(command)
            else:
                self._feed(self.desk.command(command, now), now)

    def _next_deadline(self, now: float) -> float:
        deadline = super()._next_deadline(now)
        desk = self.desk.next_deadline()
        if desk is not None:
            deadline = min(deadline, desk)
        if self.desk.seats:
            deadline = min(deadline, now + self.max_wait)
        return deadline

    def _after_events(self, now: float) -> None:
        super()._after_events(now)
        self._feed(self.desk.tick(now), now)
        if now >= self._next_callbacks:
            self._next_callbacks = now + CALLBACK_POLL
            self._dial_due_callbacks(now)

    def _list_finished(self) -> bool:
        return False if self.desk.seats else super()._list_finished()

    def _control(self, control: CampaignControl) -> None:
        if control.campaign not in self.campaigns:
            self.log.warning("desk_unknown_campaign", campaign=control.campaign)
            return
        if control.action == "pause":
            self.contacts.paused.add(control.campaign)
        else:
            self.contacts.paused.discard(control.campaign)

    # -- engine and desk together ----------------------------------------------------------

    def _handle(self, event: ev.Event, now: float) -> None:
        self._feed([event], now)

    def _feed(self, items: Sequence[Any], now: float) -> None:
        """Engine events to the engine (its actions carried out, the desk told), ops
        carried out, desk events to the sink; until nothing is left."""
        work: deque[Any] = deque(items)
        while work:
            item = work.popleft()
            if isinstance(item, DeskEvent):
                self._emit(item)
            elif isinstance(item, Op):
                work.extend(self._op(item, now))
            else:
                work.extend(self._engine(item, now))

    def _engine(self, event: ev.Event, now: float) -> list[Any]:
        if isinstance(event, ev.WrapUpDone):
            wrapping = self._wrapping.pop(event.agent, None)
            if wrapping is not None:
                self.store.set_wrap(wrapping[0], round(now - wrapping[1], 3))
        try:
            actions = self.engine.handle(event, now)
        except DialerError as err:
            self.log.warning("runner_event_refused", engine_event=repr(event), error=str(err))
            return []
        refused = self.contacts.persist(actions, now)
        out: list[Any] = []
        follow: deque[ev.Event] = deque()
        for action in actions:
            card = self._card_for(action)
            self._act(action, now, refused, follow)
            out += self.desk.on_engine(action, now, card)
        out += list(follow)
        for agent in list(self.desk.seats):
            state = self.engine.agents.get(agent)
            out += self.desk.engine_state(agent, state.state if state else None, now)
        return out

    def _act(self, action: Action, now: float, refused: set[int],
             queue_: deque[ev.Event]) -> None:
        if isinstance(action, OfferPreview | PreviewExpired):
            return  # the agent's screen decides (the plain runner dials at once)
        super()._act(action, now, refused, queue_)

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
        if self.sink is None:
            self.desk_events.append(event)
            return
        try:
            self.sink(event)
        except Exception as err:  # a broken screen must not stop the calls
            self.log.warning("desk_sink_failed", error=str(err), event=event.TYPE)

    # -- ops -------------------------------------------------------------------------------

    def _op(self, op: Op, now: float) -> list[Any]:
        if isinstance(op, RingPosition):
            return self._ring(op, now)
        if isinstance(op, DropPosition):
            position = self.agent_legs.get(op.agent)
            if position is not None:
                self._hangup(position.gw)
            return []
        if isinstance(op, LogState):
            self.store.log_agent_state(op.agent, op.state, op.reason, op.since, op.until)
            return []
        if isinstance(op, RecordDisposition):
            try:
                self.store.record_disposition(
                    campaign=op.campaign, contact=int(op.contact_id), agent=op.agent,
                    code=op.code, fields=op.fields, notes=op.notes, at=op.at,
                    attempt=op.attempt, automatic=op.automatic)
            except StoreError as err:
                return [self.desk.refuse(op.agent, "save_disposition", str(err))]
            return []
        if isinstance(op, SaveCallback):
            try:
                callback = self.store.schedule_callback(
                    int(op.contact_id), op.due, now=now, agent=op.owner,
                    created_by=op.agent, note=op.note or None)
            except StoreError as err:
                return [self.desk.refuse(op.agent, "schedule_callback", str(err))]
            self.store.set_callback_campaign(callback, op.campaign)
            return []
        if isinstance(op, DialRequest):
            return self._manual_dial(op, now)
        if isinstance(op, CallOp):
            return self._call_op(op, now)
        raise TypeError(f"not a desk op: {op!r}")

    def _ring(self, op: RingPosition, now: float) -> list[Any]:
        try:
            if op.position == "fxs":
                channel = int(op.address)
                gw = self.gateway.originate(self.agent_number, channel=channel,
                                            ring_timeout=60.0)
            else:
                channel = -1
                gw = self.gateway.originate(op.address, group=self.group, ring_timeout=60.0)
        except RpcError as err:
            return [*self.desk.position_lost(op.agent, now),
                    self.desk.refuse(op.agent, "login", f"cannot ring the position: {err}")]
        position = _Position(gw, op.agent, channel)
        self._positions[gw] = position
        self.agent_legs[op.agent] = position
        return []

    def _manual_dial(self, op: DialRequest, now: float) -> list[Any]:
        try:
            claim = self.store.claim_manual(op.campaign, op.number, op.agent, now,
                                            home_country=self.home_country)
        except StoreError as err:
            return [self.desk.refuse(op.agent, "manual_dial", str(err), "number")]
        return self._dial_for(op.agent, claim, now, "manual_dial")

    def _dial_for(self, agent: str, claim: Claim, now: float, command: str) -> list[Any]:
        """Dial ``claim`` for ``agent`` (manual dial, personal callback)."""
        contact = self.contacts.adopt(claim)
        try:
            actions = self.engine.handle(ev.ManualDial(agent, claim.campaign, contact), now)
        except DialerError as err:
            self.contacts.defer(contact, now)
            return [self.desk.refuse(agent, command, str(err))]
        refused = self.contacts.persist(actions, now)
        out: list[Any] = []
        follow: deque[ev.Event] = deque()
        for action in actions:
            card = self._card_for(action)
            self._act(action, now, refused, follow)
            out += self.desk.on_engine(action, now, card)
        out += list(follow)
        state = self.engine.agents.get(agent)
        out += self.desk.engine_state(agent, state.state if state else None, now)
        return out

    def _dial_due_callbacks(self, now: float) -> None:
        ready = [a for a, seat in self.desk.seats.items() if seat.state == "ready"]
        for agent in self.store.agents_with_due_callbacks(ready, now):
            claim = self.store.claim_callback(agent, now)
            if claim is not None and claim.campaign in self.campaigns:
                self._feed(self._dial_for(agent, claim, now, "callback"), now)
            elif claim is not None:
                self.store.release(claim.attempt, not_before=now + 60.0)

    def _call_op(self, op: CallOp, now: float) -> list[Any]:
        customer = self.customers.get(op.call)
        position = self.agent_legs.get(op.agent)
        if customer is None or position is None:
            return self.desk.call_op_failed(op, "the call has ended")
        kind = op.op
        try:
            if kind == "hang_up":
                self._hangup(customer.gw)
            elif kind == "hold":
                self.gateway.unbridge(customer.gw)
            elif kind == "resume":
                self.gateway.bridge(customer.gw, position.gw)
            elif kind == "send_dtmf":
                self.gateway.send_dtmf(customer.gw, op.arg)  # type: ignore[attr-defined]
            elif kind == "transfer":
                mode, target_kind, target = op.arg.split(":", 2)
                if mode == "attended":
                    return self.desk.call_op_failed(op, NOT_YET["attended"])
                if target_kind != "number":
                    return self.desk.call_op_failed(op, NOT_YET[target_kind])
                return self._blind_transfer(op, customer.gw, target, now)
            else:
                return self.desk.call_op_failed(op, NOT_YET.get(kind, f"cannot {kind}"))
        except RpcError as err:
            return self.desk.call_op_failed(op, f"the gateway refused: {err}")
        return []

    def _blind_transfer(self, op: CallOp, customer_gw: int, target: str, now: float
                        ) -> list[Any]:
        """Ring ``target``; the agent leaves the call now (wrap-up), the customer is
        bridged to the target when it answers (hung up if it does not)."""
        number = self.dial_string(target) if target.startswith("+") else \
            "".join(ch for ch in target if ch.isdigit())
        out_gw = self.gateway.originate(number, group=self.group, ring_timeout=45.0)
        self.gateway.unbridge(customer_gw)
        self._transfers[out_gw] = (op.agent, customer_gw)
        self.translator.calls.pop(customer_gw, None)   # no longer the engine's call
        result = self.desk.transfer_done(op.agent)
        return [*result, ev.CallHungUp(op.call)]

    # -- gateway events --------------------------------------------------------------------

    def _on_event(self, event: Any, now: float) -> None:
        gw = event.get("call")
        if gw in self._transfers or any(c == gw for _, c in self._transfers.values()):
            self._on_transfer_event(gw, event)
            return
        super()._on_event(event, now)

    def _on_transfer_event(self, gw: int, event: Any) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        out_leg = gw if gw in self._transfers else next(
            o for o, (_, c) in self._transfers.items() if c == gw)
        _, customer_gw = self._transfers[out_leg]
        if state == "answered" and gw == out_leg:
            try:
                self.gateway.bridge(customer_gw, out_leg)
            except RpcError as err:
                self._gateway_error(f"cannot bridge the transfer {customer_gw}: {err}")
        elif state == "hungup":
            other = customer_gw if gw == out_leg else out_leg
            del self._transfers[out_leg]
            self._hang_up(other)

    def _calls_up(self) -> bool:
        return super()._calls_up() or bool(self._transfers)

    def _on_agent_event(self, position: _Position, event: Any, now: float) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        agent = position.agent
        if state == "answered" and not position.logged_in:
            position.logged_in = True
            self._feed(self.desk.position_answered(agent, now), now)
            if agent in self.engine.agents:
                seat = self.desk.seats[agent]
                position.session = self.store.open_agent_session(
                    agent, [name for name, _ in seat.campaigns], now)
        elif state == "hungup":
            position.gone = True
            current = self.engine.agents.get(agent)
            if current is not None and current.state is AgentState.TALKING \
                    and current.call_id in self.customers:
                self._hangup(self.customers[current.call_id].gw)
            self._feed(self.desk.position_lost(agent, now), now)
            if position.session is not None and agent not in self.engine.agents:
                self.store.close_agent_session(position.session, now)
                position.session = None
            if self.agent_legs.get(agent) is position and agent not in self.desk.seats:
                del self.agent_legs[agent]

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        if kind == "wrap":
            return  # wrap-up ends with the disposition (the desk), not a timer
        super()._on_timer(kind, key, now)
