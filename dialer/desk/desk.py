"""The agent desk: a sans-IO state machine per agent, commands and facts in, outputs out.

The pacing engine (:mod:`trunkline.dialer.pacing.engine`) already owns which agent is
ready, reserved, talking, in wrap-up or paused, and routes calls by it. The desk adds
what an agent at a screen needs around that, without a second copy of the routing:

- the **position** (logged out -> ``connecting`` while the phone rings -> logged in,
  paused with reason ``login``);
- the **pause reason** (one of the site's pause codes) and its overrun;
- **wrap-up that ends only with a disposition**: saved by the agent (checked against
  the campaign's typed fields), or automatically (:data:`AUTO_DISPOSITION`) when the
  campaign's ``max_wrap_up`` runs out; then ready or paused, as the agent chose;
- the **screen pop** and **preview** (the contact card and the campaign's script);
- **callbacks** in the contact's time zone, refused outside the calling windows
  (:class:`~trunkline.dialer.campaigns.strategies.Windows`, the store's own rule);
- call controls (hang up, hold, transfer, DTMF) as :class:`CallOp` for the runner, and
  a consulted agent's end of the consultation (:class:`LeaveConsult`).

The engine stays the authority on the agent's routing state: the runner tells the desk
each agent's engine state after every batch (:meth:`Desk.engine_state`), and the desk
follows it (talking -> wrap-up starts the wrap timer, wrap-up -> paused takes the
chosen reason). What the desk returns is a list of outputs, in order: engine events
(:mod:`trunkline.dialer.pacing.events`) to hand to the engine, :class:`Op` for the
runner, :class:`DeskEvent` for the screens. A command that does not fit is answered
with :class:`Refused` (never an exception) and changes nothing.

Time is given with every call (``now``); :meth:`Desk.next_deadline` says when
:meth:`Desk.tick` is next needed.

Why one module of this size: it is one state machine (every agent's desk state and the
transitions each command and engine event makes), read as a whole against the engine's
agent states; its configuration, commands, outputs, script filling and SMS composing
are apart (config.py, commands.py, outputs.py, script.py, sms.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import (
    AUTO_DISPOSITION,
    LOGIN_REASON,
    CallbackRule,
    DeskConfig,
    FieldError,
    SiteDesk,
)
from trunkline.dialer.desk.outputs import (
    CallbackScheduled,
    CallNote,
    CallOp,
    ContactCard,
    DeskEvent,
    DialRequest,
    DispositionSaved,
    DropPosition,
    LeaveConsult,
    LogState,
    Op,
    PauseOverrun,
    PreviewClosed,
    PreviewOffered,
    RecordDisposition,
    Refused,
    RingPosition,
    SaveCallback,
    ScreenPop,
    StateChanged,
    WrapUpStarted,
)
from trunkline.dialer.desk.script import render
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Connect, Dial, OfferPreview, PreviewExpired
from trunkline.dialer.vocab import AgentState

Out = ev.Event | Op | DeskEvent

CONNECTING = "connecting"
LOGGED_OUT = str(AgentState.LOGGED_OUT)
PAUSED = str(AgentState.PAUSED)
READY = str(AgentState.READY)
TALKING = str(AgentState.TALKING)
WRAP_UP = str(AgentState.WRAP_UP)
PREVIEW = str(AgentState.PREVIEW)
RESERVED = str(AgentState.RESERVED)


@dataclass(frozen=True, slots=True)
class CampaignDesk:
    """A campaign as the desk knows it: its desk settings and its strategy (calling
    windows and time zone, for callbacks)."""

    config: DeskConfig
    strategy: Strategy = field(default_factory=Strategy)


@dataclass(slots=True)
class Seat:
    """One logged-in (or connecting) agent."""

    agent: str
    position: str
    address: str
    campaigns: tuple[tuple[str, str], ...]
    state: str = CONNECTING
    reason: str = ""
    since: float = 0.0
    then_pause: str | None = None      # the pause the agent chose for after this call
    call: int | None = None            # the engine call it talks on (or just did)
    card: ContactCard | None = None
    wrap_deadline: float | None = None
    disposed: bool = False             # the current call's disposition is saved
    preview: ContactCard | None = None
    preview_deadline: float | None = None
    held: bool = False
    transfer: str | None = None        # "attended" while consulting
    overrun_at: float | None = None
    leaving: bool = False              # logging out: as soon as the engine allows
    pause_sent: str | None = None      # a pause the engine holds back (a call in flight)
    want_ready: bool = False           # ... which the agent called off meanwhile
    consulted_by: str | None = None    # the agent consulting this one (attended transfer)
    logout_after: bool = False         # a supervisor logs it out once the call is disposed

    @property
    def then(self) -> str:
        if self.logout_after:
            return "logout"
        return f"pause:{self.then_pause}" if self.then_pause else "ready"


class Desk:
    """The desks of every agent of one runner (see the module docstring)."""

    def __init__(self, campaigns: Mapping[str, CampaignDesk], site: SiteDesk | None = None
                 ) -> None:
        self.campaigns: dict[str, CampaignDesk] = dict(campaigns)
        self.site = site or SiteDesk()
        self.seats: dict[str, Seat] = {}

    # -- campaigns at run time --------------------------------------------------------------

    def add_campaign(self, name: str, campaign: CampaignDesk) -> None:
        self.campaigns[name] = campaign

    def remove_campaign(self, name: str) -> None:
        self.campaigns.pop(name, None)

    # -- commands ---------------------------------------------------------------------------

    def command(self, command: cmd.Command, now: float) -> list[Out]:
        """Apply an agent's command; a refusal is a :class:`Refused` and changes nothing."""
        handler = getattr(self, f"_do_{command.TYPE}", None)
        if handler is None:
            raise TypeError(f"not a desk command: {command!r}")
        seat = self.seats.get(command.agent)
        if seat is None and not isinstance(command, cmd.Login):
            return [self._refused(command, f"agent {command.agent!r} is not logged in")]
        try:
            return handler(seat, command, now)
        except FieldError as err:
            return [self._refused(command, str(err), err.field)]
        except _Refusal as err:
            return [self._refused(command, str(err))]

    def refuse(self, agent: str, command: str, error: str, field: str | None = None
               ) -> Refused:
        """A :class:`Refused` for the runner to send when it cannot carry out an op."""
        return Refused(agent, command, error, field)

    def _refused(self, command: cmd.Command, error: str, field: str | None = None
                 ) -> Refused:
        return Refused(command.agent, command.TYPE, error, field)

    def _do_login(self, seat: Seat | None, c: cmd.Login, now: float) -> list[Out]:
        if seat is not None:
            raise _Refusal(f"agent {c.agent!r} is already logged in ({seat.state})")
        for name, _ in c.campaigns:
            if name not in self.campaigns:
                raise _Refusal(f"campaign {name!r} is not running")
        for other in self.seats.values():
            if (other.position, other.address) == (c.position, c.address):
                raise _Refusal(f"position {c.position} {c.address} is taken by "
                               f"{other.agent!r}")
        # A browser position is the agent's own page (the softphone, docs/softphone.md):
        # its address is the agent, so two agents' browsers never clash.
        address = c.agent if c.position == "browser" else c.address
        seat = Seat(c.agent, c.position, address, c.campaigns, since=now)
        self.seats[c.agent] = seat
        return [RingPosition(c.agent, c.position, address),
                StateChanged(c.agent, CONNECTING, "", now)]

    def _do_logout(self, seat: Seat, c: cmd.Logout, now: float) -> list[Out]:
        if seat.state == CONNECTING:
            return [DropPosition(seat.agent), *self._gone(seat, now)]
        on_call = seat.state in (TALKING, RESERVED) or (seat.state == WRAP_UP
                                                         and not seat.disposed)
        if on_call and c.after_call:
            # The call and its disposition are the agent's to finish; then it leaves
            # (_end_wrap), as a pause forced on a call waits for it.
            seat.logout_after = True
            return [StateChanged(seat.agent, seat.state, seat.reason, seat.since, seat.then)]
        if seat.state in (TALKING, RESERVED):
            raise _Refusal("hang up first: the agent is on a call")
        if seat.state == WRAP_UP and not seat.disposed:
            raise _Refusal("save the disposition of the last call first")
        seat.leaving = True
        return [ev.AgentLoggedOut(seat.agent), DropPosition(seat.agent)]

    def _do_ready(self, seat: Seat, c: cmd.Ready, now: float) -> list[Out]:
        if seat.state == CONNECTING:
            raise _Refusal("the agent's phone has not answered yet")
        if seat.state == WRAP_UP:
            raise _Refusal("save the disposition of the last call first")
        if seat.consulted_by is not None:
            raise _Refusal(f"agent {seat.consulted_by!r} is consulting you about a call: "
                           "wait until they complete or cancel the transfer")
        if seat.state == PAUSED:
            seat.then_pause = None
            return [ev.AgentReady(seat.agent)]
        if seat.then_pause is None:
            return []
        seat.then_pause = None       # a pause asked for after the call is called off
        out: list[Out] = [StateChanged(seat.agent, seat.state, seat.reason, seat.since,
                                       seat.then)]
        if seat.state == READY:      # the engine was holding a deferred pause
            out.insert(0, ev.AgentReady(seat.agent))
            seat.pause_sent = None
        elif seat.pause_sent is not None:
            seat.want_ready = True   # the engine will pause it after the call: undo then
        return out

    def _do_pause(self, seat: Seat, c: cmd.Pause, now: float) -> list[Out]:
        code = self.site.pause_code(c.reason)
        if seat.state == CONNECTING:
            raise _Refusal("the agent's phone has not answered yet")
        if seat.state == PAUSED:
            if seat.reason == code.code:
                return []
            out: list[Out] = self._set(seat, PAUSED, code.code, now)
            seat.overrun_at = now + code.limit if code.limit else None
            return out
        seat.then_pause = code.code
        seat.want_ready = False
        out = [StateChanged(seat.agent, seat.state, seat.reason, seat.since, seat.then)]
        if seat.state == READY:
            out.insert(0, ev.AgentPaused(seat.agent, code.code))
            seat.pause_sent = code.code
        return out

    def _do_save_disposition(self, seat: Seat, c: cmd.SaveDisposition, now: float
                             ) -> list[Out]:
        if seat.state not in (TALKING, WRAP_UP) or seat.card is None or seat.call is None:
            raise _Refusal(f"no call to record: state is {seat.state}")
        if seat.disposed:
            raise _Refusal("the disposition of this call is saved already")
        campaign = self._campaign(seat.card.campaign)
        disposition = campaign.config.disposition(c.code)
        if c.code == AUTO_DISPOSITION:
            raise FieldError("code", f"{AUTO_DISPOSITION!r} is saved by the desk itself")
        values = disposition.check(c.fields)
        if disposition.callback is CallbackRule.REQUIRED and c.callback is None:
            raise FieldError("callback.at", f"disposition {c.code!r} needs a callback time")
        if disposition.callback is CallbackRule.NONE and c.callback is not None:
            raise FieldError("callback", f"disposition {c.code!r} takes no callback")
        if c.then == "pause":
            self.site.pause_code(c.reason)
        out: list[Out] = []
        if c.callback is not None:
            out += self._callback(seat, campaign, c.callback, now)
        seat.disposed = True
        card = seat.card
        out += [RecordDisposition(seat.agent, card.campaign, seat.call, card.attempt,
                                  card.contact_id, c.code, values, c.notes, now, False),
                DispositionSaved(seat.agent, seat.call, c.code, False)]
        if c.then == "pause":
            seat.then_pause = c.reason
            seat.want_ready = False
        elif c.then == "ready":
            seat.then_pause = None
            seat.want_ready = seat.pause_sent is not None
        if seat.state == WRAP_UP:
            out += self._end_wrap(seat)
        return out

    def _do_schedule_callback(self, seat: Seat, c: cmd.ScheduleCallback, now: float
                              ) -> list[Out]:
        if seat.state not in (TALKING, WRAP_UP) or seat.card is None:
            raise _Refusal(f"no contact on the screen: state is {seat.state}")
        return self._callback(seat, self._campaign(seat.card.campaign), c.request, now)

    def _do_preview_dial(self, seat: Seat, c: cmd.PreviewDial, now: float) -> list[Out]:
        return self._preview_decision(seat, c.contact_id, True, c)

    def _do_preview_skip(self, seat: Seat, c: cmd.PreviewSkip, now: float) -> list[Out]:
        return self._preview_decision(seat, c.contact_id, False, c)

    def _preview_decision(self, seat: Seat, contact_id: str, dial: bool,
                          c: cmd.Command) -> list[Out]:
        if seat.state != PREVIEW or seat.preview is None:
            raise _Refusal(f"no record is shown: state is {seat.state}")
        if seat.preview.contact_id != contact_id:
            raise FieldError("contact_id", f"the record shown is "
                                           f"{seat.preview.contact_id!r}, not {contact_id!r}")
        seat.preview = seat.preview_deadline = None
        return [ev.PreviewDecision(seat.agent, contact_id, dial),
                PreviewClosed(seat.agent, contact_id, "dialled" if dial else "skipped")]

    def _do_manual_dial(self, seat: Seat, c: cmd.ManualDial, now: float) -> list[Out]:
        if seat.state not in (READY, PREVIEW):
            raise _Refusal(f"the agent dials when ready: state is {seat.state}")
        if c.campaign not in dict(seat.campaigns):
            raise FieldError("campaign", f"agent {seat.agent!r} is not logged in to "
                                         f"{c.campaign!r}")
        return [DialRequest(seat.agent, c.campaign, c.number),
                CallNote(seat.agent, "dialling", c.number)]

    def _do_hang_up(self, seat: Seat, c: cmd.HangUp, now: float) -> list[Out]:
        if seat.consulted_by is not None:   # a consulted agent's hang-up ends its part
            return self._do_end_consult(seat, cmd.EndConsult(seat.agent), now)
        return [self._call_op(seat, "hang_up")]

    def _do_end_consult(self, seat: Seat, c: cmd.EndConsult, now: float) -> list[Out]:
        """The consulted agent ends the consultation from its own screen. After a
        completed transfer it is no longer consulted (the call is its own: hang up)."""
        if seat.consulted_by is None:
            raise _Refusal("nobody is consulting you" + (
                ": the call is yours now, hang up" if seat.state == TALKING else ""))
        return [LeaveConsult(seat.agent, seat.consulted_by)]

    def _do_hold(self, seat: Seat, c: cmd.Hold, now: float) -> list[Out]:
        op = self._call_op(seat, "hold")
        if seat.held:
            raise _Refusal("the call is on hold already")
        seat.held = True
        return [op, CallNote(seat.agent, "held")]

    def _do_resume(self, seat: Seat, c: cmd.Resume, now: float) -> list[Out]:
        op = self._call_op(seat, "resume")
        if not seat.held or seat.transfer is not None:
            raise _Refusal("the call is not on hold" if not seat.held
                           else "finish or cancel the transfer first")
        seat.held = False
        return [op, CallNote(seat.agent, "resumed")]

    def _do_send_dtmf(self, seat: Seat, c: cmd.SendDtmf, now: float) -> list[Out]:
        return [self._call_op(seat, "send_dtmf", c.digits),
                CallNote(seat.agent, "dtmf_sent", c.digits)]

    def _do_transfer(self, seat: Seat, c: cmd.Transfer, now: float) -> list[Out]:
        op = self._call_op(seat, "transfer", f"{c.mode}:{c.target_kind}:{c.target}")
        if seat.transfer is not None:
            raise _Refusal("a transfer is in progress")
        if c.target_kind == "agent" and c.target == seat.agent:
            raise FieldError("target", "an agent cannot transfer a call to itself")
        if c.target_kind == "campaign" and c.target not in self.campaigns:
            raise FieldError("target", f"campaign {c.target!r} is not running")
        if c.mode == "attended":
            seat.transfer = "attended"
            seat.held = True
            return [op, CallNote(seat.agent, "consulting", c.target)]
        return [op, CallNote(seat.agent, "transferring", c.target)]

    def _do_complete_transfer(self, seat: Seat, c: cmd.CompleteTransfer, now: float
                              ) -> list[Out]:
        op = self._call_op(seat, "complete_transfer")
        if seat.transfer is None:
            raise _Refusal("no transfer in progress")
        return [op]

    def _do_cancel_transfer(self, seat: Seat, c: cmd.CancelTransfer, now: float
                            ) -> list[Out]:
        op = self._call_op(seat, "cancel_transfer")
        if seat.transfer is None:
            raise _Refusal("no transfer in progress")
        seat.transfer = None
        seat.held = False
        return [op, CallNote(seat.agent, "transfer_cancelled")]

    def _do_conference(self, seat: Seat, c: cmd.Conference, now: float) -> list[Out]:
        op = self._call_op(seat, "conference")
        if seat.transfer is None:
            raise _Refusal("a conference joins a consulted party: start an attended "
                           "transfer first")
        if seat.transfer == "conference":
            raise _Refusal("the conference is on already")
        seat.transfer = "conference"
        return [op, CallNote(seat.agent, "conference")]

    def _call_op(self, seat: Seat, op: str, arg: str = "") -> CallOp:
        if seat.state != TALKING or seat.call is None:
            raise _Refusal(f"no call in progress: state is {seat.state}")
        return CallOp(seat.agent, seat.call, op, arg)

    # -- facts from the runner ---------------------------------------------------------------

    def position_answered(self, agent: str, now: float) -> list[Out]:
        """The agent's phone answered: log in to the engine (paused, reason ``login``)."""
        seat = self.seats.get(agent)
        if seat is None or seat.state != CONNECTING:
            return []
        out: list[Out] = [ev.AgentLoggedIn(agent, tuple(seat.campaigns))]  # type: ignore[arg-type]
        return out + self._set(seat, PAUSED, LOGIN_REASON, now)

    def position_lost(self, agent: str, now: float,
                      why: str = "the position did not answer") -> list[Out]:
        """The agent's phone hung up (or never answered): the agent leaves as soon as the
        engine lets it; a call in wrap-up gets the automatic disposition first. A phone
        that never answered fails this agent's login only, ``why`` on its screen (the
        state's reason and a refused ``login``)."""
        seat = self.seats.get(agent)
        if seat is None:
            return []
        if seat.state == CONNECTING:
            return [*self._gone(seat, now, why), Refused(agent, "login", why)]
        seat.leaving = True
        return self._leave_if_possible(seat, now)

    def call_op_failed(self, op: CallOp, error: str) -> list[Out]:
        """The runner could not carry out ``op``: undo what the desk assumed."""
        seat = self.seats.get(op.agent)
        if seat is not None:
            if op.op == "hold":
                seat.held = False
            elif op.op == "resume":
                seat.held = True
            elif op.op == "transfer" and op.arg.startswith("attended"):
                seat.transfer, seat.held = None, False
            elif op.op == "conference":
                seat.transfer = "attended"
        return [Refused(op.agent, op.op, error)]

    def transfer_done(self, agent: str, target: str, *, to_agent: bool = False
                      ) -> list[Out]:
        """The runner handed the customer over; the agent's call ends (wrap-up follows).
        Handed to another agent (``to_agent``), the call's disposition is that agent's
        to save, so this agent's wrap-up ends at once."""
        seat = self.seats.get(agent)
        if seat is None:
            return []
        seat.transfer, seat.held = None, False
        if to_agent:
            seat.disposed = True
        return [CallNote(agent, "transferred", target)]

    def transfer_failed(self, agent: str, why: str) -> list[Out]:
        """The consulted party did not answer or hung up: the agent has the customer back."""
        seat = self.seats.get(agent)
        if seat is None or seat.transfer is None:
            return []
        seat.transfer, seat.held = None, False
        return [CallNote(agent, "transfer_cancelled", why)]

    def screen_pop(self, agent: str, call: int, card: ContactCard) -> ScreenPop:
        """``card`` on ``agent``'s screen for ``call``: the campaign's script filled in
        and the dispositions the agent may save (a call's own, or one it is consulted
        on)."""
        campaign = self.campaigns.get(card.campaign)
        config = campaign.config if campaign else DeskConfig(card.campaign)
        return ScreenPop(agent, call, card.campaign, card,
                         render(config.script, card.values()),
                         tuple(d.to_dict() for d in config.dispositions
                               if d.code != AUTO_DISPOSITION))

    def on_engine(self, action: Any, now: float, card: ContactCard | None = None
                  ) -> list[Out]:
        """An engine action about an agent: ``Connect`` (with the contact's card: screen
        pop), ``OfferPreview`` (card: preview), ``PreviewExpired``, ``Dial`` for an agent
        (manual or preview dial: the card of what is being dialled)."""
        if isinstance(action, Connect):
            seat = self.seats.get(action.agent)
            if seat is None:
                return []
            if card is not None:
                seat.card = card
            seat.call, seat.disposed, seat.held, seat.transfer = action.call_id, False, \
                False, None
            seat.wrap_deadline = None
            out = self._set(seat, TALKING, "", now)
            if seat.card is not None:
                out.append(self.screen_pop(seat.agent, action.call_id, seat.card))
            return out
        if isinstance(action, OfferPreview):
            seat = self.seats.get(action.agent)
            if seat is None or card is None:
                return []
            seat.preview, seat.preview_deadline = card, action.deadline
            out = self._set(seat, PREVIEW, "", now)
            campaign = self.campaigns.get(action.campaign)
            script = render(campaign.config.script, card.values()) if campaign else ""
            return [*out, PreviewOffered(seat.agent, action.campaign, card, script,
                                         action.deadline)]
        if isinstance(action, PreviewExpired):
            seat = self.seats.get(action.agent)
            if seat is None:
                return []
            seat.preview = seat.preview_deadline = None
            how = "expired_dialled" if action.dialed else "expired_skipped"
            return [PreviewClosed(action.agent, action.contact_id, how)]
        if isinstance(action, Dial) and action.agent is not None:
            seat = self.seats.get(action.agent)
            out = []
            if seat is not None and seat.preview is not None \
                    and seat.preview.contact_id != action.contact.id:
                # a callback (or a typed number) replaced the record shown
                out.append(PreviewClosed(seat.agent, seat.preview.contact_id, "returned"))
                seat.preview = seat.preview_deadline = None
            if seat is not None and card is not None:
                seat.card, seat.call, seat.disposed = card, action.call_id, False
            return out
        return []

    def engine_state(self, agent: str, state: AgentState | None, now: float) -> list[Out]:
        """The engine's state of ``agent`` after a batch (None: not in the engine)."""
        seat = self.seats.get(agent)
        if seat is None or seat.state == CONNECTING:
            return []
        if state is None:
            return self._gone(seat, now)
        new = str(state)
        if new == seat.state:
            return self._leave_if_possible(seat, now) if seat.leaving else []
        out: list[Out] = []
        if new == WRAP_UP:
            campaign = self._campaign_or_none(seat.card.campaign if seat.card else None)
            limit = campaign.config.max_wrap_up if campaign else 120.0
            seat.wrap_deadline = now + limit
            seat.held, seat.transfer = False, None
            out += self._set(seat, WRAP_UP, "", now)
            out.append(WrapUpStarted(agent, seat.call if seat.call is not None else -1,
                                     seat.card.campaign if seat.card else "",
                                     seat.wrap_deadline))
            if seat.disposed or seat.card is None:
                out += self._end_wrap(seat)
        elif new == PAUSED:
            reason = seat.then_pause or seat.pause_sent or seat.reason or LOGIN_REASON
            seat.then_pause = seat.pause_sent = None
            out += self._set(seat, PAUSED, reason, now)
            if seat.want_ready:      # the agent chose ready after the engine held a pause
                seat.want_ready = False
                out.append(ev.AgentReady(agent))
            pause_limit = next((p.limit for p in self.site.pause_codes if p.code == reason),
                               None)
            seat.overrun_at = now + pause_limit if pause_limit else None
        else:
            if new == READY:     # after wrap-up, a skipped preview or a failed dial
                seat.call, seat.card = None, None
            if new != PREVIEW:
                seat.preview = seat.preview_deadline = None
            out += self._set(seat, new, "", now)
        if seat.leaving:
            out += self._leave_if_possible(seat, now)
        return out

    def held_pauses(self) -> list[str]:
        """Agents with a pause the engine holds back: it may apply it on any event."""
        return [a for a, seat in self.seats.items() if seat.pause_sent is not None]

    # -- time --------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        times = [t for seat in self.seats.values()
                 for t in (seat.wrap_deadline if seat.state == WRAP_UP else None,
                           seat.overrun_at if seat.state == PAUSED else None)
                 if t is not None]
        return min(times) if times else None

    def tick(self, now: float) -> list[Out]:
        """Wrap-up that ran out gets the automatic disposition; long pauses are flagged."""
        out: list[Out] = []
        for seat in list(self.seats.values()):
            if seat.state == WRAP_UP and seat.wrap_deadline is not None \
                    and now >= seat.wrap_deadline and not seat.disposed:
                out += self._auto_dispose(seat, now)
                out += self._end_wrap(seat)
            elif seat.state == PAUSED and seat.overrun_at is not None \
                    and now >= seat.overrun_at:
                seat.overrun_at = None
                limit = next(p.limit for p in self.site.pause_codes if p.code == seat.reason)
                out.append(PauseOverrun(seat.agent, seat.reason, limit or 0.0))
        return out

    # -- internals ---------------------------------------------------------------------------

    def _campaign(self, name: str) -> CampaignDesk:
        campaign = self.campaigns.get(name)
        if campaign is None:
            raise _Refusal(f"campaign {name!r} is not running")
        return campaign

    def _campaign_or_none(self, name: str | None) -> CampaignDesk | None:
        return self.campaigns.get(name) if name else None

    def _set(self, seat: Seat, state: str, reason: str, now: float) -> list[Out]:
        """Change the seat's state (and reason); the stretch that ended goes to the log."""
        out: list[Out] = []
        if (seat.state, seat.reason) == (state, reason):
            return out
        if seat.state != CONNECTING and now > seat.since:
            out.append(LogState(seat.agent, seat.state, seat.reason, seat.since, now))
        seat.state, seat.reason, seat.since = state, reason, now
        if state != PAUSED:
            seat.overrun_at = None
        if state != WRAP_UP:
            seat.wrap_deadline = None
        out.append(StateChanged(seat.agent, state, reason, now, seat.then))
        return out

    def _auto_dispose(self, seat: Seat, now: float) -> list[Out]:
        seat.disposed = True
        card = seat.card
        call = seat.call if seat.call is not None else -1
        if card is None:
            return []
        return [RecordDisposition(seat.agent, card.campaign, call, card.attempt,
                                  card.contact_id, AUTO_DISPOSITION, {}, "", now, True),
                DispositionSaved(seat.agent, call, AUTO_DISPOSITION, True)]

    def _end_wrap(self, seat: Seat) -> list[Out]:
        """The disposition is saved: tell the engine (pause first, if chosen)."""
        seat.wrap_deadline = None
        out: list[Out] = []
        if seat.logout_after and not seat.leaving:
            seat.leaving = True
            return [ev.AgentLoggedOut(seat.agent), DropPosition(seat.agent)]
        if seat.then_pause and not seat.leaving:
            out.append(ev.AgentPaused(seat.agent, seat.then_pause))
        if not seat.leaving:
            out.append(ev.WrapUpDone(seat.agent))
        return out

    def _leave_if_possible(self, seat: Seat, now: float) -> list[Out]:
        if seat.state == WRAP_UP and not seat.disposed:
            return [*self._auto_dispose(seat, now), ev.AgentLoggedOut(seat.agent)]
        if seat.state in (READY, PAUSED, PREVIEW, WRAP_UP):
            return [ev.AgentLoggedOut(seat.agent)]
        return []       # talking or reserved: after the call

    def _gone(self, seat: Seat, now: float, why: str = "") -> list[Out]:
        out: list[Out] = []
        if seat.state != CONNECTING and now > seat.since:
            out.append(LogState(seat.agent, seat.state, seat.reason, seat.since, now))
        del self.seats[seat.agent]
        out.append(StateChanged(seat.agent, LOGGED_OUT, why, now))
        return out

    def _callback(self, seat: Seat, campaign: CampaignDesk, request: cmd.CallbackRequest,
                  now: float) -> list[Out]:
        assert seat.card is not None
        due = callback_time(request.at, campaign.strategy, seat.card.time_zone, now)
        owner = seat.agent if request.owner == "agent" else None
        return [SaveCallback(seat.agent, seat.card.campaign, seat.card.contact_id, due,
                             owner, request.note),
                CallbackScheduled(seat.agent, seat.card.contact_id, due, owner)]


class _Refusal(Exception):
    """A command that does not fit the agent's state (answered with :class:`Refused`)."""


def callback_time(text: str, strategy: Strategy, zone: str | None, now: float) -> float:
    """Epoch time of a callback given as local time in the contact's zone; refused
    (naming ``callback.at``) in the past or outside the campaign's calling windows, with
    the next time it could be."""
    tz = strategy.zone(zone)
    try:
        local = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise FieldError("callback.at", f"{text!r} is not a local time "
                                        "YYYY-MM-DD HH:MM") from None
    if local.tzinfo is not None:
        raise FieldError("callback.at", f"give the local time in {tz.key} without an "
                                        "offset")
    due = local.replace(tzinfo=tz).timestamp()
    if due <= now:
        raise FieldError("callback.at", f"{text} ({tz.key}) is in the past")
    if not strategy.windows.is_open(due, tz):
        nxt = strategy.windows.next_open(due, tz)
        hint = "" if nxt is None else \
            f"; the next calling time is {datetime.fromtimestamp(nxt, tz):%Y-%m-%d %H:%M}"
        raise FieldError("callback.at", f"{text} ({tz.key}) is outside the campaign's "
                                        f"calling windows{hint}")
    return due


def agents_concerned(engine: Any, event: ev.Event) -> set[str]:
    """Before ``engine`` handles ``event``: the agents whose state it may change, besides
    those its actions will name (:func:`agents_named`) and those with a pause the engine
    holds back (:meth:`Desk.held_pauses`). The runner syncs only these with the desk, not
    every seat after every event (the whole floor on each event is O(agents) per event)."""
    out: set[str] = set()
    agent = getattr(event, "agent", None)
    if agent:
        out.add(agent)
    call_id = getattr(event, "call_id", None)
    if call_id is not None:
        call = engine.calls.get(call_id)
        if call is not None and call.agent:
            out.add(call.agent)
    return out


def agents_named(actions: Any) -> set[str]:
    """The agents the engine's actions name (reserved, connected, shown a preview)."""
    return {a.agent for a in actions if getattr(a, "agent", None)}
