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
store. Hold unbridges the customer, who hears ``hold_file`` (a WAV on the gateway host,
looped) or without one the zone's call-waiting tone, never silence (so does a customer
waiting for a transfer's number or a consultation);
DTMF goes out on the customer's call. Transfers: blind to a number (rung,
bridged to the customer when it answers; the agent goes to wrap-up at once); attended
to a number (the customer waits while the agent talks to it, then complete or cancel; a
number that does not answer or hangs up gives the customer back); blind to a ready
agent, or to a campaign's ready agent (the engine moves the call; the new agent's screen
pops and its disposition is the call's); attended to a ready agent or a campaign's
next free agent (it is paused with reason ``consult`` so the routing leaves it alone,
its phone is bridged to the agent's and its screen pops the contact; complete makes it
ready and moves the call to it, cancel makes it ready again).

The host starts and stops campaigns in the runner's thread: :meth:`DeskRunner.start_campaign`
(a new one joins the running engine) and :meth:`DeskRunner.stop_campaign` (no new dials;
its agents are logged out once off their calls and it leaves the engine; the sink then
gets a :class:`CampaignEvent` ``{"type": "campaign", "campaign", "state": "stopped"}``).

A disposition with an ``sms`` template (a collections reminder) sends its text, filled
from the contact and the disposition's fields, through the gateway's ``sms.send`` once
the disposition is saved; the message is recorded against the contact (``contact_sms``:
queued with the gateway's id, or failed with the reason it could not go, which never
refuses the disposition) and moved on by the ``sms.sent`` / ``sms.delivered`` /
``sms.failed`` events; at start the messages still open are asked of the gateway
(``sms.status``), so events that came while no runner listened are not lost.

Three-way conference: during an attended transfer to a number that answered, the
customer, the agent and the number are joined in a gateway conference
(``call.conference``: each hears the two others); ``complete_transfer`` then lets the
agent leave the other two together, ``cancel_transfer`` drops the number.

The conference works the same with a consulted agent. The consulted agent may end its
part from its own screen (``end_consult``, or its hang-up while consulted): ringing or
talking, the consulting agent has the customer back, as with a cancel; in the
conference, it leaves and the agent and the customer are bridged again.

Why one module of this size: it is the one place where the desk's operations meet the
gateway and the store (each op carried out beside the durable record it needs, in the
runner's thread); the desk's decisions are in dialer/desk, the shared runner in
campaign_runner.py and base.py.
"""

from __future__ import annotations

import contextlib
import math
import queue
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import SiteDesk
from trunkline.dialer.desk.desk import CampaignDesk, Desk, agents_concerned, agents_named
from trunkline.dialer.desk.outputs import (
    CallNote,
    CallOp,
    ContactCard,
    DeskEvent,
    DialRequest,
    DropPosition,
    LeaveConsult,
    LogState,
    Op,
    RecordDisposition,
    RingPosition,
    SaveCallback,
    ScreenPop,
)
from trunkline.dialer.desk.sms import compose
from trunkline.dialer.errors import DialerError, StoreError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, Connect, Dial, OfferPreview, PreviewExpired
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.runner.campaign_runner import (
    CampaignRunner,
    _Contacts,
    _Position,
    connects_first,
)
from trunkline.dialer.runner.gateway import REQUEST_FAILED, GatewayPort
from trunkline.dialer.runner.settings import campaign_config, runner_settings
from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.runner.softphone_faults import HOLD_TONE, SoftphoneFaults
from trunkline.dialer.runner.tags import PREFIX as TAG_PREFIX
from trunkline.dialer.store import Claim, Store
from trunkline.dialer.vocab import AgentState
from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

#: The pause reason of an agent consulted in an attended transfer (in the state log).
CONSULT_REASON = "consult"
#: Why a position that was rung never answered, by the gateway's outcome.
UNANSWERED = {"busy": "the position is busy", "no_answer": "the position did not answer",
              "rejected": "the position refused the call"}
#: How often due personal callbacks are looked for (seconds).
CALLBACK_POLL = 5.0
#: The gateway events about the SMS a disposition sent.
SMS_EVENTS = ("sms.sent", "sms.delivered", "sms.failed")


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


@dataclass(frozen=True, slots=True)
class CampaignEvent:
    """What the sink is told about a campaign (``state``: ``stopped``)."""

    TYPE: ClassVar[str] = "campaign"
    campaign: str
    state: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "campaign": self.campaign, "state": self.state}


@dataclass(slots=True)
class _Consult:
    """An attended transfer in progress: the consulted leg and the customer waiting."""

    out: int
    customer: int
    call: int
    target: str
    answered: bool = False
    conference: bool = False
    agent: str | None = None      # the consulted desk agent (``out`` is its position)


@dataclass(slots=True)
class _Handover:
    """A customer handed to an outside number: the two gateway calls live on together."""

    agent: str
    customer: int
    bridged: bool = False


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
    contacts_class = _DeskContacts
    contacts: _DeskContacts
    #: The longest a step waits while agents are logged in (command latency).
    max_wait = 0.1
    #: How long an agent's position rings before its login fails (seconds).
    position_ring_timeout = 60.0

    def __init__(self, store: Store, campaign: str | Sequence[str], gateway: GatewayPort, *,
                 sink: Callable[[DeskEvent], None] | None = None,
                 site: SiteDesk | None = None, hold_file: str | None = None,
                 **options: Any) -> None:
        names = [campaign] if isinstance(campaign, str) else list(campaign)
        self._works: list[deque[Any]] = []   # the work queues of the _feed calls running
        if "config" not in options:
            options["config"] = [campaign_config(store, name, desk=True) for name in names]
        super().__init__(store, names, gateway, **options)
        self.desk = Desk({name: CampaignDesk(store.desk_config(name), store.strategy(name))
                          for name in self.campaigns},
                         site or SiteDesk(store.pause_codes()))
        self.sink = sink
        self.hold_file = hold_file
        #: A browser position losing its audio mid-call (issue 19: hold, then the
        #: campaign's agent_lost policy: the next free agent, or the apology).
        self.softphone = SoftphoneFaults(self)
        self.desk_events: list[DeskEvent] = []   # when there is no sink (tests)
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._transfers: dict[int, _Handover] = {}         # outside leg -> the customer
        self._consults: dict[str, _Consult] = {}           # agent -> its consultation
        self._consult_legs: dict[int, str] = {}            # consulted leg -> agent
        self._stopping: set[str] = set()
        self._ring_expired: set[int] = set()               # positions we stopped ringing
        self._ring_seq = 0
        self._late_rings: dict[str, bool] = {}   # tag -> hung up: rings whose reply was lost
        self.campaign_events: list[CampaignEvent] = []     # when there is no sink
        self._next_callbacks = -math.inf
        self._next_full_sync = -math.inf

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
                 "preview": s.preview.to_dict() if s.preview else None,
                 "wrap_deadline": s.wrap_deadline, "preview_deadline": s.preview_deadline,
                 "consulted_by": s.consulted_by}
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
        softphone = self.softphone.next_deadline()
        if softphone is not None:
            deadline = min(deadline, softphone)
        return deadline

    def _after_events(self, now: float) -> None:
        super()._after_events(now)
        self._feed(self.desk.tick(now), now)
        self.softphone.tick(now)   # customers of lost browsers to the next free agent
        if now >= self._next_full_sync:   # a safety net: the floor follows the engine
            self._next_full_sync = now + 1.0
            self._feed(self._sync(list(self.desk.seats), now), now)
        if self._stopping:
            self._settle_stopping(now)
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
                disposition = self.store.record_disposition(
                    campaign=op.campaign, contact=int(op.contact_id), agent=op.agent,
                    code=op.code, fields=op.fields, notes=op.notes, at=op.at,
                    attempt=op.attempt, automatic=op.automatic)
            except StoreError as err:
                return [self.desk.refuse(op.agent, "save_disposition", str(err))]
            self._disposition_sms(op, disposition, now)
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
        if isinstance(op, LeaveConsult):
            return self._leave_consult(op, now)
        raise TypeError(f"not a desk op: {op!r}")

    def _disposition_sms(self, op: RecordDisposition, disposition: int, now: float) -> None:
        """Send the disposition's SMS, if it has one, and record it against the contact:
        queued with the gateway's id, or failed with the reason it could not go. Never
        refuses the disposition (saved already)."""
        campaign = self.desk.campaigns.get(op.campaign)
        if campaign is None:
            return
        try:
            definition = campaign.config.disposition(op.code)
        except ValueError:
            return
        if not definition.sms:
            return
        contact = int(op.contact_id)
        columns, called = self.store.sms_context(contact, op.attempt)
        sms = compose(definition, columns, called, op.fields, home_country=self.home_country)
        assert sms is not None  # the definition has a template
        sms_id: int | None = None
        state, reason = "failed", sms.error
        if not sms.error:
            try:
                reply = self.gateway.sms_send(sms.to, sms.text, group=campaign.config.sms_group,
                                              ref=f"disposition:{disposition}")
                sms_id, state = int(reply["sms"]), "queued"
            except REQUEST_FAILED as err:   # no mobile module, every SIM over its limit...
                reason = f"the gateway refused: {err}"
        record = self.store.add_contact_sms(
            campaign=op.campaign, contact=contact, attempt=op.attempt,
            disposition=disposition, number=sms.to, text=sms.text, sms_id=sms_id,
            state=state, reason=reason, at=now, gateway=self.gateway.name)
        if state == "failed":
            self.log.warning("desk_sms_failed", campaign=op.campaign, contact=contact,
                             record=record, reason=reason)

    def start(self) -> None:
        """As the plain runner, and first bring the campaigns' SMS up to date: the
        ``sms.*`` events of messages still open may have come while no runner listened."""
        self._settle_sms(self.campaigns, self.gateway.now())
        super().start()

    def _settle_sms(self, campaigns: Sequence[str], now: float) -> None:
        for sms_id in self.store.open_contact_sms(campaigns, self.gateway.name):
            try:
                status = self.gateway.sms_status(sms_id)
            except REQUEST_FAILED as err:   # not this gateway's message, or its store was reset
                self.log.warning("desk_sms_unknown", sms=sms_id, error=str(err))
                continue
            state = status.get("state")
            if state in ("sent", "delivered", "failed"):
                reason = str(status.get("reason") or "") if state == "failed" else ""
                self.store.update_contact_sms(sms_id, str(state), reason=reason, at=now,
                                              gateway=self.gateway.name)

    def _on_sms_event(self, event: Any, now: float) -> None:
        """``sms.sent`` / ``sms.delivered`` / ``sms.failed`` move the contact's row on."""
        sms_id = event.get("sms")
        if not isinstance(sms_id, int):
            return
        state = str(event["event"]).removeprefix("sms.")
        reason = str(event.get("reason") or "") if state == "failed" else ""
        self.store.update_contact_sms(sms_id, state, reason=reason, at=now,
                                      gateway=self.gateway.name)

    def _ring(self, op: RingPosition, now: float) -> list[Any]:
        self._ring_seq += 1
        tag = f"{TAG_PREFIX}:desk-position:{self._ring_seq}"  # not a tag settling knows
        try:
            if op.position == "fxs":
                channel = int(op.address)
                gw = self.gateway.originate(self.agent_number, channel=channel,
                                            ring_timeout=60.0, tag=tag)
            elif op.position == "browser":   # the softphone: the agent's page answers
                channel = -1
                gw = self.gateway.webrtc_open(op.agent, ring_timeout=60.0)
            else:
                channel = -1
                gw = self.gateway.originate(op.address, group=self.group, ring_timeout=60.0,
                                            tag=tag)
        except RpcError as err:
            return self.desk.position_lost(op.agent, now, f"cannot ring the position: {err}")
        except CallTimeout as err:
            # A gateway slow to reply (overloaded) fails this login only, not the whole
            # runner; a call it placed all the same is hung up when an event shows its tag.
            self._late_rings[tag] = False
            return self.desk.position_lost(
                op.agent, now, f"the gateway did not reply in time ({err}); log in again")
        position = _Position(gw, op.agent, channel)
        self._positions[gw] = position
        self.agent_legs[op.agent] = position
        # an FXS phone rings until it is lifted (the gateway never gives up on it)
        self._schedule(now + self.position_ring_timeout, "position_ring", gw)
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
        return self._apply(actions, now, {agent})

    def _dial_due_callbacks(self, now: float) -> None:
        ready = [a for a, seat in self.desk.seats.items()
                 if seat.state in ("ready", "preview")]
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
                self._play_hold(customer.gw)
            elif kind == "resume":
                self._stop_hold(customer.gw)
                self.gateway.bridge(customer.gw, position.gw)
            elif kind == "send_dtmf":
                self.gateway.send_dtmf(customer.gw, op.arg)
            elif kind == "transfer":
                mode, target_kind, target = op.arg.split(":", 2)
                if target_kind == "number":
                    return self._transfer_out(op, customer.gw, target, mode == "attended",
                                              now)
                if mode == "attended":
                    return self._consult_agent(op, customer.gw, position.gw, target_kind,
                                               target, now)
                return self._transfer_in(op, customer.gw, position.gw, target_kind, target,
                                         now)
            elif kind == "complete_transfer":
                return self._complete_transfer(op, customer.gw, position.gw, now)
            elif kind == "cancel_transfer":
                consult = self._consults.pop(op.agent, None)
                if consult is not None and consult.agent is not None:
                    return self._end_consult(op.agent, consult, now, "")
                if consult is not None:
                    self._consult_legs.pop(consult.out, None)
                    self._hang_up(consult.out)
                    if consult.conference:
                        self.gateway.leave_conference(customer.gw)
                self._stop_hold(customer.gw)
                self.gateway.bridge(customer.gw, position.gw)
            elif kind == "conference":
                return self._conference(op, customer.gw, position.gw)
            else:
                return self.desk.call_op_failed(op, f"cannot {kind}")
        except RpcError as err:
            return self.desk.call_op_failed(op, f"the gateway refused: {err}")
        except CallTimeout as err:   # an overloaded gateway: this op fails, not the runner
            return self.desk.call_op_failed(op, f"the gateway did not reply in time: {err}")
        return []

    def _unbridge_customer(self, gw: int) -> bool:
        """Take the customer off its agent for a transfer; False when it was not bridged
        (on hold already, hearing the hold music)."""
        try:
            self.gateway.unbridge(gw)
        except REQUEST_FAILED:
            return False
        return True

    def _play_hold(self, gw: int) -> None:
        """What a held customer hears: ``hold_file`` (a WAV on the gateway host) looped
        until the hold ends, else the zone's call-waiting tone, so a held line is never
        silent (a silent line is one a customer hangs up, and one regulators count as a
        silent call). A sound the gateway cannot play is logged; the customer stays
        held."""
        try:
            if self.hold_file:
                self.gateway.play(gw, file=self.hold_file, loop=True)
            else:
                self.gateway.play(gw, tone=HOLD_TONE)
        except REQUEST_FAILED as err:
            self._gateway_error(f"cannot play the hold sound to call {gw}: {err}")

    def _dial_out(self, target: str) -> int:
        number = self.dial_string(target) if target.startswith("+") else \
            "".join(ch for ch in target if ch.isdigit())
        return self.gateway.originate(number, group=self.group, ring_timeout=45.0)

    def _transfer_out(self, op: CallOp, customer_gw: int, target: str, attended: bool,
                      now: float) -> list[Any]:
        """To a number. Blind: ring it, the agent leaves now (wrap-up), the customer is
        bridged to it when it answers (hung up if it does not). Attended: the customer
        waits unbridged while the number rings; the agent talks to it once it answers,
        then completes (the customer is bridged to it) or cancels."""
        out_gw = self._dial_out(target)
        if self._unbridge_customer(customer_gw):
            self._play_hold(customer_gw)   # the music while it rings (on hold: playing)
        if attended:
            self._consults[op.agent] = _Consult(out_gw, customer_gw, op.call, target)
            self._consult_legs[out_gw] = op.agent
            return []
        return self._hand_over(op.agent, op.call, customer_gw, out_gw, target)

    def _hand_over(self, agent: str, call: int, customer_gw: int, out_gw: int,
                   target: str, *, bridged: bool = False) -> list[Any]:
        """The customer belongs to the outside leg now: the engine's call ends for the
        agent, the two gateway calls live on (each hangs up the other)."""
        self._transfers[out_gw] = _Handover(agent, customer_gw, bridged)
        self.translator.calls.pop(customer_gw, None)   # no longer the engine's call
        return [*self.desk.transfer_done(agent, target), ev.CallHungUp(call)]

    def _complete_transfer(self, op: CallOp, customer_gw: int, position_gw: int,
                           now: float) -> list[Any]:
        consult = self._consults.get(op.agent)
        if consult is None:
            return self.desk.call_op_failed(op, "no transfer in progress")
        if not consult.answered:
            return self.desk.call_op_failed(op, f"{consult.target} has not answered yet")
        if consult.agent is not None:
            return self._complete_consult(op, consult, now)
        del self._consults[op.agent]
        self._consult_legs.pop(consult.out, None)
        if consult.conference:   # the agent leaves; the other two stay in it together
            self.gateway.leave_conference(position_gw)
        else:
            self.gateway.unbridge(position_gw)
            self._stop_hold(customer_gw)
            self.gateway.bridge(customer_gw, consult.out)
        return self._hand_over(op.agent, op.call, customer_gw, consult.out, consult.target,
                               bridged=True)

    def _conference(self, op: CallOp, customer_gw: int, position_gw: int) -> list[Any]:
        """The consulted party answered: customer, agent and it in one conference."""
        consult = self._consults.get(op.agent)
        if consult is None or not consult.answered:
            return self.desk.call_op_failed(
                op, "the consulted party has not answered yet" if consult
                else "no transfer in progress")
        self._stop_hold(customer_gw)
        self.gateway.conference([customer_gw, position_gw, consult.out])
        consult.conference = True
        return []

    # -- attended transfer to an agent or a campaign ---------------------------------------

    def _consultable(self, agent: str, exclude: str) -> bool:
        """A desk agent who may be consulted now: logged in, its phone up, ready in the
        engine with no pause waiting, and neither consulting nor consulted."""
        state = self.engine.agents.get(agent)
        position = self.agent_legs.get(agent)
        return (agent != exclude and state is not None and state.state is AgentState.READY
                and not state.pause_pending and position is not None and position.logged_in
                and not position.gone and agent in self.desk.seats
                and agent not in self._consults
                and all(c.agent != agent for c in self._consults.values()))

    def _consult_agent(self, op: CallOp, customer_gw: int, position_gw: int, kind: str,
                       target: str, now: float) -> list[Any]:
        """Attended, to an agent or to the next free agent of a campaign: the agent is
        taken out of the routing (paused, reason ``consult``) so no call comes to it, the
        customer waits on hold (the music, if any), the two agents' phones are bridged
        and the consulted agent's screen pops the same contact. Complete, cancel or
        conference follow (:meth:`_complete_consult`, :meth:`_end_consult`)."""
        if kind == "agent":
            if not self._consultable(target, op.agent):
                seat = self.desk.seats.get(target)
                why = "is not logged in" if seat is None else f"is not free ({seat.state})"
                return self.desk.call_op_failed(op, f"agent {target!r} {why}")
            chosen = target
        else:
            free = sorted((a for a, s in self.engine.agents.items()
                           if target in s.levels and self._consultable(a, op.agent)),
                          key=lambda a: self.engine.agents[a].since)  # longest ready first
            if not free:
                return self.desk.call_op_failed(
                    op, f"no agent of campaign {target!r} is free to take the call")
            chosen = free[0]
        seat = self.desk.seats[chosen]
        seat.pause_sent = CONSULT_REASON   # the reason the desk shows once paused
        self._feed([ev.AgentPaused(chosen, CONSULT_REASON)], now)
        state = self.engine.agents.get(chosen)
        if state is None or state.state is not AgentState.PAUSED:   # held back by pacing
            seat.pause_sent = None
            self._feed([ev.AgentReady(chosen)], now)
            return self.desk.call_op_failed(
                op, f"agent {chosen!r} covers a call in flight; try again in a moment")
        seat.consulted_by = op.agent
        consult = _Consult(self.agent_legs[chosen].gw, customer_gw, op.call, chosen,
                           answered=True, agent=chosen)
        self._unbridge_customer(customer_gw)
        try:
            self.gateway.bridge(position_gw, consult.out)
        except REQUEST_FAILED as err:   # a phone went meanwhile: all as before
            self._feed(self._end_consult(op.agent, consult, now, ""), now)
            return self.desk.call_op_failed(op, f"the gateway refused: {err}")
        self._play_hold(customer_gw)
        self._consults[op.agent] = consult
        first = self.desk.seats.get(op.agent)
        card = first.card if first is not None else None
        out: list[Any] = [CallNote(op.agent, "consult_answered", chosen)]
        if card is not None:
            out.append(self.desk.screen_pop(chosen, op.call, card))
        return [*out, CallNote(chosen, "consulted", op.agent)]  # after the pop: its text

    def _leave_consult(self, op: LeaveConsult, now: float) -> list[Any]:
        """The consulted agent ends its part from its screen: ringing or talking, the
        consulting agent has its customer back off hold (as a cancel); in a three-way
        conference it leaves and the agent and the customer stay, bridged."""
        consult = self._consults.get(op.first)
        if consult is None or consult.agent != op.agent:   # completed or cancelled just now
            return [self.desk.refuse(op.agent, "end_consult", "the consultation is over")]
        why = f"agent {op.agent} left the conference" if consult.conference \
            else f"agent {op.agent} ended the consultation"
        self.log.info("desk_consult_ended_by_consulted", agent=op.agent, first=op.first,
                      conference=consult.conference)
        return self._end_consult(op.first, consult, now, why)

    def _release_consulted(self, consult: _Consult, now: float) -> list[Any]:
        """The consulted agent goes back to ready (it was ready when consulted)."""
        assert consult.agent is not None
        seat = self.desk.seats.get(consult.agent)
        if seat is None or seat.consulted_by is None:
            return []
        seat.consulted_by = None
        out: list[Any] = [CallNote(consult.agent, "consult_ended", "")]
        position = self.agent_legs.get(consult.agent)
        if position is not None and not position.gone and not seat.leaving:
            out.append(ev.AgentReady(consult.agent))
        return out

    def _free_consulted(self, consult: _Consult, now: float) -> None:
        """The other side of a consultation with a desk agent went: the consulted
        agent's phone leaves the bridge or conference, and the agent is free again."""
        with contextlib.suppress(*REQUEST_FAILED):   # its bridge may have gone with the call
            if consult.conference:
                self.gateway.leave_conference(consult.out)
            else:
                self.gateway.unbridge(consult.out)
        self._feed(self._release_consulted(consult, now), now)

    def _end_consult(self, agent: str, consult: _Consult, now: float, why: str
                     ) -> list[Any]:
        """Cancelled (``why`` empty), ended by the consulted agent, or its phone went:
        the customer is back with ``agent`` (a conference ends: the two are bridged), the
        consulted agent free again."""
        self._consults.pop(agent, None)
        position = self.agent_legs.get(agent)
        with contextlib.suppress(*REQUEST_FAILED):   # either phone may have gone meanwhile
            if consult.conference:
                self.gateway.leave_conference(consult.out)
            elif position is not None:
                self.gateway.unbridge(position.gw)
        if consult.conference:   # the two left end the conference, to be bridged
            with contextlib.suppress(*REQUEST_FAILED):
                self.gateway.leave_conference(consult.customer)
        self._stop_hold(consult.customer)
        if position is not None and not position.gone \
                and consult.customer in self.translator.calls:
            try:
                self.gateway.bridge(consult.customer, position.gw)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot give the customer back to {agent}: {err}")
        out = self._release_consulted(consult, now)
        if why:
            out += self.desk.transfer_failed(agent, why)
        return out

    def _complete_consult(self, op: CallOp, consult: _Consult, now: float) -> list[Any]:
        """The customer goes to the consulted agent: it is made ready and the engine
        moves the call to it at once (its screen pops; the disposition is its to save);
        the first agent leaves (to wrap-up, which ends at once: not its call now)."""
        assert consult.agent is not None
        target = consult.agent
        position = self.agent_legs[op.agent]
        if consult.conference:            # all three apart, then the two bridged
            self.gateway.leave_conference(position.gw)
            with contextlib.suppress(*REQUEST_FAILED):   # a conference of two ends by itself
                self.gateway.leave_conference(consult.customer)
        else:
            self.gateway.unbridge(position.gw)
        self._stop_hold(consult.customer)
        del self._consults[op.agent]
        seat = self.desk.seats.get(target)
        if seat is not None:
            seat.consulted_by = None
        event = ev.CallTransferred(op.call, agent=target)
        try:
            self._feed([ev.AgentReady(target)], now)
            concerned = agents_concerned(self.engine, event)
            actions = self.engine.handle(event, now)
        except DialerError as err:   # the engine gave it a waiting call meanwhile
            self.gateway.bridge(consult.customer, position.gw)
            return [*self.desk.transfer_failed(op.agent, str(err)),
                    self.desk.refuse(op.agent, "complete_transfer", str(err))]
        return self._moved_to_agent(op.agent, op.call, target, actions, concerned, now)

    def _moved_to_agent(self, agent: str, call: int, target: str, actions: list[Action],
                        concerned: set[str], now: float) -> list[Any]:
        """The engine moved ``agent``'s call to another agent (``target``: it, or the
        campaign whose agent took it): the first agent is done with it, and the engine's
        actions (the new bridge, the screen pop) are carried out."""
        self._connected.pop(call, None)
        return [*self.desk.transfer_done(agent, target, to_agent=True),
                *self._apply(actions, now, concerned)]

    def _stop_hold(self, customer_gw: int) -> None:
        with contextlib.suppress(*REQUEST_FAILED):   # it may have ended by itself
            self.gateway.stop_play(customer_gw)

    def _transfer_in(self, op: CallOp, customer_gw: int, position_gw: int, kind: str,
                     target: str, now: float) -> list[Any]:
        """To another agent (ready) or a campaign's ready agent: the engine moves the
        call, the customer is bridged to the new agent, whose screen pops; the call's
        disposition is the new agent's to save."""
        event = ev.CallTransferred(op.call, agent=target) if kind == "agent" \
            else ev.CallTransferred(op.call, campaign=target)
        if kind == "agent" and target not in self.agent_legs:
            return self.desk.call_op_failed(op, f"agent {target!r} is not logged in")
        concerned = agents_concerned(self.engine, event)
        bridged = self._unbridge_customer(customer_gw)
        try:
            actions = self.engine.handle(event, now)
        except DialerError as err:
            if bridged:
                self.gateway.bridge(customer_gw, position_gw)
            return self.desk.call_op_failed(op, str(err))
        self._stop_hold(customer_gw)
        return self._moved_to_agent(op.agent, op.call, target, actions, concerned, now)

    # -- campaigns at run time (the host calls these in the runner's thread) ---------------

    def start_campaign(self, name: str) -> None:
        """Run ``name`` too (or resume it); agents may log in to it from now on."""
        self._stopping.discard(name)
        if name in self.campaigns:
            self.contacts.paused.discard(name)
            return
        now = self.gateway.now()
        config = campaign_config(self.store, name, desk=True)
        settings = runner_settings(self.store, name)
        self.engine.add_campaign(config)
        self.campaigns.append(name)
        self.configs[name] = config
        self.settings[name] = settings
        settle_open_attempts(self.store, self.gateway, [name], self.dial_string,
                             lambda attempt: self._record_unknown(attempt, now), now)
        self._settle_sms([name], now)
        self.store.close_stale_sessions([name], now)  # left open by a crash
        self.store.restore_ledger(self.engine.ledger(name), name, self.window_of(name, now))
        self.desk.add_campaign(name, CampaignDesk(self.store.desk_config(name),
                                                  self.store.strategy(name)))
        self.contacts.paused.discard(name)

    def stop_campaign(self, name: str) -> None:
        """Stop ``name``: no new dials; once its calls have ended its agents are logged
        out (as soon as they are off calls and their dispositions saved) and it is
        removed; the sink then gets a ``campaign`` event with state ``stopped``."""
        if name not in self.campaigns:
            raise ConfigError(f"campaign {name!r} is not running")
        self.contacts.paused.add(name)
        self._stopping.add(name)

    def _settle_stopping(self, now: float) -> None:
        for name in list(self._stopping):
            if any(name in (c.campaign, c.origin) for c in self.engine.calls.values()):
                continue
            for agent, seat in list(self.desk.seats.items()):
                if name in dict(seat.campaigns) and not seat.leaving:
                    self._feed(self.desk.command(cmd.Logout(agent), now), now)
            try:
                self.engine.remove_campaign(name, now)
            except DialerError:
                continue  # agents still on calls or in wrap-up: later
            self._stopping.discard(name)
            self.campaigns.remove(name)
            self.configs.pop(name, None)
            self.settings.pop(name, None)
            self.desk.remove_campaign(name)
            if self.campaigns:
                self.campaign = self.campaigns[0]
                self.config = self.configs[self.campaign]
            self._emit_campaign(CampaignEvent(name, "stopped"))

    def _emit_campaign(self, event: CampaignEvent) -> None:
        if self.sink is None:
            self.campaign_events.append(event)
            return
        try:
            self.sink(event)  # type: ignore[arg-type]
        except Exception as err:
            self.log.warning("desk_sink_failed", error=str(err), event="campaign")

    # -- gateway events --------------------------------------------------------------------

    def _on_event(self, event: Any, now: float) -> None:
        if self._late_rings and event.get("tag") in self._late_rings:
            self._on_late_ring(event)
            return
        if self.softphone.on_event(event, now):
            return
        if self.recording.on_event(event):  # before a transfer's routing takes it
            return
        if event.get("event") in SMS_EVENTS:
            self._on_sms_event(event, now)
            return
        gw = event.get("call")
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            for agent, consult in list(self._consults.items()):
                if consult.customer == gw:  # the customer left while the agent consulted
                    del self._consults[agent]
                    if consult.agent is not None:   # a desk agent: free again, not hung up
                        self._free_consulted(consult, now)
                    else:
                        self._consult_legs.pop(consult.out, None)
                        self._hang_up(consult.out)
                    self._feed(self.desk.transfer_failed(agent, "the customer hung up"), now)
        if gw in self._consult_legs:
            self._on_consult_event(gw, event, now)
            return
        if gw in self._transfers or any(h.customer == gw for h in self._transfers.values()):
            self._on_transfer_event(gw, event)
            return
        super()._on_event(event, now)

    def _on_consult_event(self, gw: int, event: Any, now: float) -> None:
        if event.get("event") != "call.state":
            return
        agent = self._consult_legs[gw]
        consult = self._consults[agent]
        position = self.agent_legs.get(agent)
        state = event.get("state")
        if state == "answered" and position is not None and not consult.answered:
            consult.answered = True
            try:
                self.gateway.bridge(position.gw, gw)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot bridge agent {agent} to {consult.target}: {err}")
            # the screen can offer complete and conference now (they are refused before)
            self._feed([CallNote(agent, "consult_answered", consult.target)], now)
        elif state == "hungup":
            del self._consult_legs[gw]
            del self._consults[agent]
            why = "hung up" if consult.answered else f"did not answer ({event.get('outcome')})"
            if position is not None and consult.customer in self.translator.calls:
                with contextlib.suppress(*REQUEST_FAILED):  # the consultation was never bridged
                    if consult.conference:
                        self.gateway.leave_conference(consult.customer)
                    else:
                        self.gateway.unbridge(position.gw)
                self._stop_hold(consult.customer)
                try:
                    self.gateway.bridge(consult.customer, position.gw)
                except REQUEST_FAILED as err:
                    self._gateway_error(f"cannot give the customer back to {agent}: {err}")
            self._feed(self.desk.transfer_failed(agent, f"{consult.target} {why}"), now)

    def _on_transfer_event(self, gw: int, event: Any) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        out_leg = gw if gw in self._transfers else next(
            o for o, h in self._transfers.items() if h.customer == gw)
        handover = self._transfers[out_leg]
        customer_gw = handover.customer
        if state == "answered" and gw == out_leg and not handover.bridged:
            handover.bridged = True
            self._stop_hold(customer_gw)
            try:
                self.gateway.bridge(customer_gw, out_leg)
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot bridge the transfer {customer_gw}: {err}")
        elif state == "hungup":
            other = customer_gw if gw == out_leg else out_leg
            del self._transfers[out_leg]
            self._hang_up(other)

    def _calls_up(self) -> bool:
        return super()._calls_up() or bool(self._transfers) or bool(self._consults)

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
            self._consult_phone_gone(agent, now)
            current = self.engine.agents.get(agent)
            if current is not None and current.state is AgentState.TALKING \
                    and current.call_id in self.customers:
                customer = self.customers[current.call_id].gw
                if not self.softphone.position_ended(agent, customer, now):  # a page lost:
                    self._hangup(customer)                       # requeue or apology first
            if self.agent_legs.get(agent) is position:  # not an earlier login's phone
                self.softphone.position_gone(agent)
                self._feed(self.desk.position_lost(agent, now, *(
                    () if position.logged_in else (self._unanswered(position, event),))),
                    now)
            self.softphone.flush(now)   # its requeued customer: first for the next agent
            if position.session is not None and agent not in self.engine.agents:
                self.store.close_agent_session(position.session, now)
                position.session = None
            if self.agent_legs.get(agent) is position and agent not in self.desk.seats:
                del self.agent_legs[agent]

    def _on_late_ring(self, event: Any) -> None:
        """A position rung while the gateway was too slow to reply: no agent waits for
        it (its login failed), so it is hung up, once; forgotten when it has ended."""
        tag = event["tag"]
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            del self._late_rings[tag]
        elif not self._late_rings[tag] and isinstance(event.get("call"), int):
            self._late_rings[tag] = True
            self._hang_up(event["call"])

    def _consult_phone_gone(self, agent: str, now: float) -> None:
        """An agent's phone hung up during an attended transfer to a desk agent: the
        consulted one's gives the customer back; the consulting one's frees it."""
        for first, consult in list(self._consults.items()):
            if consult.agent is None:
                continue
            if consult.agent == agent:
                self._feed(self._end_consult(first, consult, now,
                                             f"agent {agent} hung up"), now)
            elif first == agent:
                del self._consults[first]
                self._free_consulted(consult, now)

    def _unanswered(self, position: _Position, event: Any) -> str:
        """Why a position that never answered failed its agent's login."""
        if position.gw in self._ring_expired:
            self._ring_expired.discard(position.gw)
            return f"the position did not answer within {self.position_ring_timeout:g} s"
        outcome = event.get("outcome") or event.get("cause") or "no answer"
        return UNANSWERED.get(str(outcome), f"the position could not be reached ({outcome})")

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        if kind == "wrap":
            return  # wrap-up ends with the disposition (the desk), not a timer
        if kind == "position_ring":   # nobody lifted it: only this agent's login fails
            position = self._positions.get(key)
            if position is not None and not position.logged_in and not position.gone:
                self._ring_expired.add(key)
                self._hang_up(key)
            return
        super()._on_timer(kind, key, now)
