"""The campaign runner: the dialing engine driven through the gateway (issue 7 item 5).

The runner owns three things and connects them:

- a **gateway** (:class:`~trunkline.dialer.runner.gateway.GatewayPort`): ``LiveGateway``
  over its socket, or ``InProcessGateway`` on the emulated card in virtual time
  (``trunkline dialer run --virtual`` and the tests);
- the **store** (:class:`~trunkline.dialer.store.Store`) through
  :class:`~trunkline.dialer.store.StoreContacts`: every batch of engine actions is made
  durable (``contacts.persist``) *before* any of it is carried out, so no originate is
  ever sent without a committed ``mark_dialing`` row;
- the **engine** (:class:`~trunkline.dialer.pacing.engine.Engine`), fed gateway events
  with the time they were seen, and ticked at its ``next_deadline()``.

Agent positions are calls: at start the runner rings each agent phone (an FXS port, or
any number on a channel) and holds the call for the shift; the held call is the agent's
audio leg. ``Connect(call, agent)`` bridges the customer's call to that leg
(``call.bridge``) in the same gateway tick as the answer was classified, when an agent is
free; when the customer hangs up the gateway unbridges and the agent leg stays up (the
agent goes to wrap-up for ``wrap_up`` seconds, then is ready again). Machines and faxes
(AMD) and network announcements (number powered off, unreachable, invalid) release the
customer call. A live answer with no agent within the campaign's ``abandon_after`` is
abandoned as the engine says: the abandon message (a WAV file on the gateway host, or a
zone tone) is played and the call is hung up.

What the gateway says about a customer call becomes engine events in
:class:`~trunkline.dialer.runner.translator.WireTranslator` (its docstring has the
table); the runner carries out what it returns, and keeps per customer call only what
the dialer needs (:class:`_Customer`: the gateway call, the campaign, the attempt).

Time: the engine runs on epoch seconds. The live gateway's events are stamped when they
are read; the in-process gateway's virtual clock starts at an epoch instant, so the
store's calling windows and the regime's windows work the same way in both.

Why one module of about 800 lines: it is one class, the place where each engine action
is carried out on the gateway beside the durable record it needs in the store (claim,
dial, answer, bridge, abandon, end), in the order the crash guarantees depend on. The
parts that stand alone are already elsewhere: the wire translation (translator.py),
settling a crashed run (settling.py), the settings (settings.py), the summary
(summary.py), why a campaign dials nothing (idle_reason.py), recordings and the shift
loop (base.py).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.abandon_clock import abandon_clock_start, counts_from_answer
from trunkline.dialer.pacing.actions import (
    Abandon,
    Action,
    Connect,
    Dial,
    HangUp,
    OfferPreview,
    PreviewExpired,
    RecordOutcome,
)
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import window_index
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.pacing.engine import Engine
from trunkline.dialer.runner.abandon_message import require_abandon_message
from trunkline.dialer.runner.base import GatewayRunner
from trunkline.dialer.runner.gateway import REQUEST_FAILED, GatewayPort
from trunkline.dialer.runner.idle_reason import IdleNotices, idle_sentence, idle_state
from trunkline.dialer.runner.recording import CallRecording
from trunkline.dialer.runner.settings import campaign_config, runner_settings
from trunkline.dialer.runner.settling import clear_positions
from trunkline.dialer.runner.sound_files import check_sound_files
from trunkline.dialer.runner.summary import Connection, RunSummary
from trunkline.dialer.runner.tags import attempt_tag, owner_of, position_tag
from trunkline.dialer.runner.translator import (
    AwaitAmd,
    Ended,
    HangUpCall,
    MessageLeft,
    Note,
    Output,
    WireTranslator,
)
from trunkline.dialer.store import Store, StoreContacts
from trunkline.dialer.vocab import AgentState, CallOutcome, CallState
from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

#: The longest a machine message may take, wait for the beep included (seconds).
MESSAGE_LIMIT = 120.0
#: After the gateway refused a dial for want of a channel, how long no new contact is
#: drawn, and when the returned contact is due again (seconds).
NOT_PLACED_BACKOFF = 2.0
#: After clearing the positions a killed run left up, how long the agents have to put
#: their phones down before the positions ring again (seconds).
POSITION_SETTLE = 3.0


@dataclass(slots=True)
class _Customer:
    """A customer call the runner placed, as the dialer needs it: what to send to the
    gateway, whose books it is in, and its attempt row (for notes after the outcome)."""

    gw: int                            # the gateway's call id
    campaign: str                      # the campaign that dialed it
    attempt: int | None = None         # the store's attempt row


@dataclass(slots=True)
class _Position:
    """An agent position: the call held to the agent's phone for the shift."""

    gw: int
    agent: str
    channel: int
    logged_in: bool = False            # the phone answered: the agent logged in
    gone: bool = False                 # the phone hung up (or never answered)
    session: int | None = None         # the store's agent_session row


class _Contacts(StoreContacts):
    """StoreContacts that can be closed (no new contacts once the shift ends), held
    (none until ``hold_until``: the gateway had no free channel) and bounded by the
    lines (none while ``lines_free()`` says every line of the dial group is taken)."""

    closed = False
    hold_until = float("-inf")
    lines_free: Callable[[], bool] | None = None

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        if self.closed or now < self.hold_until:
            return None
        if self.lines_free is not None and not self.lines_free():
            return None
        return super().next_contact(campaign, now)


class CampaignRunner(GatewayRunner[RunSummary]):
    """Drive campaigns: engine, store and gateway. See the module docstring.

    ``campaign`` is one campaign name or several: several run at once on one engine and
    one gateway, sharing the agents (agent position *i* is at home in campaign *i* mod
    *n* at level ``standard`` and logged in to the others at ``overflow``, so every
    campaign has its own team and borrows idle agents of the others). ``config`` is the
    engine settings (one :class:`CampaignConfig`, or one per campaign; default: each
    campaign's stored config). An idle campaign costs the engine nothing per tick.

    ``agents`` are the channels of the agent positions (default: the gateway's ``agents``
    group); ``group`` is where customer calls go out (``outbound``: FXO lines and PRI).
    ``wrap_up`` is how long an agent stays in wrap-up after a call (there is no agent
    screen yet to say it is done). ``abandon_file`` is a WAV on the gateway host; without
    one ``abandon_tone`` is played for ``abandon_seconds``. ``require_message``: refuse
    to start a campaign under a regime that requires a recorded abandon message (uk, us)
    when there is no ``abandon_file`` (:mod:`~trunkline.dialer.runner.abandon_message`;
    ``dialer run`` and ``dialer serve`` set it). ``amd_timeout``: a call
    answered that AMD has not classified after this long is taken as a person.
    """

    #: Ring every agent position at start and hold it for the shift (``dialer run``);
    #: the desk runner rings positions as agents log in instead.
    positions_at_start: bool = True
    #: The contact provider the engine draws from (the desk runner's adds to it).
    contacts_class: type[_Contacts] = _Contacts

    def __init__(self, store: Store, campaign: str | Sequence[str], gateway: GatewayPort, *,
                 config: CampaignConfig | Sequence[CampaignConfig] | None = None,
                 agents: Sequence[int] | None = None,
                 group: str = "outbound", agent_number: str = "agent", wrap_up: float = 5.0,
                 abandon_file: str | None = None, abandon_tone: str = "info",
                 abandon_seconds: float = 3.0, require_message: bool = False,
                 amd_timeout: float = 6.0,
                 home_country: str = "86", progress: Callable[[str], None] | None = None,
                 progress_every: float = 60.0, engine_log: Any = None) -> None:
        super().__init__(store, gateway, home_country=home_country, progress=progress,
                         progress_every=progress_every)
        self.campaigns = [campaign] if isinstance(campaign, str) else list(campaign)
        if not self.campaigns or len(set(self.campaigns)) != len(self.campaigns):
            raise ConfigError("give one or more campaigns, each once")
        self.campaign = self.campaigns[0]   # the first (single-campaign callers)
        #: Names this runner's agent positions in their tags (``tags.owner_of``): a run
        #: of the same campaigns from the same database after a crash clears them, no
        #: other runner does.
        self.owner = owner_of(self.campaigns, store.identity)
        given = [config] if isinstance(config, CampaignConfig) else list(config or ())
        configs = {c.name: c for c in given}
        unknown = sorted(set(configs) - set(self.campaigns))
        if unknown:
            raise ConfigError(f"the config is for campaign {unknown[0]!r}, "
                              f"not {' or '.join(map(repr, self.campaigns))}")
        self.configs = {name: configs.get(name) or campaign_config(store, name)
                        for name in self.campaigns}
        self.config = self.configs[self.campaign]
        self.settings = {name: runner_settings(store, name) for name in self.campaigns}
        #: every call put through to an agent is recorded, unless its campaign says
        #: ``record_calls = false`` (:mod:`~trunkline.dialer.runner.recording`)
        self.recording = CallRecording(store, self.gateway, lambda name: (
            self.settings.get(name) or runner_settings(store, name)).record_calls)
        self.agent_channels = list(agents) if agents else \
            gateway.group("agents") if self.positions_at_start else []
        if not self.agent_channels and self.positions_at_start:
            raise ConfigError("no agent positions: give --agents or an 'agents' group")
        self.group = group
        self.agent_number = agent_number
        self.wrap_up = wrap_up
        self.abandon_file = abandon_file
        self.abandon_tone = abandon_tone
        self.abandon_seconds = abandon_seconds
        self.require_message = require_message
        self.amd_timeout = amd_timeout
        self.contacts = self.contacts_class(store, window_of=self.window_of)
        self.contacts.lines_free = self._lines_free
        #: How many channels the dial group has (learnt at start; None: unknown, no bound)
        self.lines: int | None = None
        self._not_placed_at: float | None = None
        #: tag -> hung up: calls whose originate got no reply in time (placed or not)
        self._late_calls: dict[str, bool] = {}
        self._to_record: list[dict[str, Any]] = []   # connected calls to record next
        self.engine = Engine(self.configs.values(), self.contacts, log=engine_log)
        self.translator = WireTranslator(self._engine_state, amd_timeout=amd_timeout)
        self.customers: dict[int, _Customer] = {}    # engine call id -> customer call
        self.agent_legs: dict[str, _Position] = {}   # agent id -> position
        self._positions: dict[int, _Position] = {}   # gateway call id -> position
        self.connections: list[Connection] = []
        #: ``(gateway call, the moment the 2 s limit ran from, abandoned at)`` of every
        #: abandoned call (the answer under ``uk``, the greeting's end otherwise)
        self.abandons: list[tuple[int, float | None, float]] = []
        self._connected: dict[int, Connection] = {}            # engine call id -> bridge
        self._wrapping: dict[str, tuple[int, float]] = {}      # agent -> (attempt, since)
        self.outcomes: Counter[str] = Counter()
        self.refused = 0
        #: dials the gateway could not place (no free channel): not attempts
        self.not_placed = 0
        self.messages_left = 0
        #: Each campaign's reason for dialling nothing, said through ``progress``.
        self._idle = IdleNotices(lambda line: self.progress(line) if self.progress else None)
        self._idle_checked = -math.inf
        #: Each campaign's reason for dialling nothing (idle_state's data), None while it
        #: has something to dial or calls up: the supervisor's floor shows it.
        self.idle_states: dict[str, dict[str, str | None] | None] = {}

    # -- public ----------------------------------------------------------------------------

    def start(self) -> None:
        """Refuse a uk or us campaign without an abandon message (``require_message``:
        abandon_message.py), check the sound files the run plays on its gateway (a typo
        stops the start, naming the setting: sound_files.py), then settle and begin as
        every runner."""
        self.check_abandon_message(self.campaigns)
        check_sound_files(self.gateway, self.sound_files(self.campaigns))
        super().start()

    def check_abandon_message(self, names: Sequence[str]) -> None:
        """With ``require_message``, :class:`ConfigError` naming the first of ``names``
        whose regime needs a recorded abandon message when there is no ``abandon_file``
        (nothing is dialled or stored before)."""
        if self.require_message:
            require_abandon_message(((name, self.configs[name].regime) for name in names),
                                    self.abandon_file)

    def sound_files(self, names: Sequence[str]) -> dict[str, str | None]:
        """The files the run may play for campaigns ``names``, by what names them."""
        files: dict[str, str | None] = {"abandon_file": self.abandon_file}
        for name in names:
            settings = self.settings.get(name) or runner_settings(self.store, name)
            files[f"campaign {name!r}: machine_message"] = settings.machine_message
        return files

    def window_of(self, name: str, t: float) -> int:
        """``name``'s regulated abandon window at ``t``."""
        cfg = self.configs[name]
        return window_index(cfg.regime, t, start=cfg.start, day_offset=cfg.day_offset)

    def totals(self) -> dict[str, int]:
        """Dials, live answers, abandons and machines over the running campaigns."""
        out = {"dials": 0, "live": 0, "abandoned": 0, "machines": 0}
        for name in self.campaigns:
            stats = self.engine.stats(name)
            out["dials"] += stats.dials
            out["live"] += stats.live
            out["abandoned"] += stats.abandoned
            out["machines"] += stats.machines
        return out

    def progress_line(self, now: float) -> str:
        totals = self.totals()
        states = Counter(str(a.state) for a in self.engine.agents.values())
        started = self._started if self._started is not None else now
        return (f"+{now - started:7.0f}s dials {totals['dials']} in flight "
                f"{len(self.customers)} live {totals['live']} connects "
                f"{len(self.connections)} abandoned {totals['abandoned']} agents "
                + " ".join(f"{k} {v}" for k, v in sorted(states.items())))

    def summary(self, *, finished: bool = False) -> RunSummary:
        totals = self.totals()
        started = self._started if self._started is not None else self.gateway.now()
        by_campaign = {}
        for name in self.campaigns:
            stats = self.engine.stats(name)
            by_campaign[name] = {
                "dials": stats.dials, "live": stats.live, "abandoned": stats.abandoned,
                "abandon_rate": round(stats.abandoned / stats.live, 4) if stats.live else 0.0}
        modes = sorted({str(c.mode) for c in self.configs.values()})
        return RunSummary(
            campaign=", ".join(self.campaigns), mode="/".join(modes), started=started,
            ended=self.gateway.now(),
            agents=sum(1 for leg in self.agent_legs.values() if leg.logged_in),
            dials=totals["dials"], live=totals["live"], connects=len(self.connections),
            abandoned=totals["abandoned"], machines=totals["machines"], refused=self.refused,
            outcomes=dict(self.outcomes),
            max_after_live=max((c.after_live for c in self.connections), default=None),
            max_after_answer=max((c.after_answer for c in self.connections), default=None),
            max_after_greeting=max((c.after_greeting for c in self.connections),
                                   default=None),
            finished=finished, messages_left=self.messages_left, by_campaign=by_campaign)

    # -- the shift (GatewayRunner's hooks) -------------------------------------------------

    def _own_campaigns(self) -> Collection[str]:
        return set(self.configs)

    def _log_context(self) -> Mapping[str, Any]:
        return {"campaigns": self.campaigns}

    def _record_unknown(self, attempt: int, now: float) -> None:
        """A call of a previous run, its end unseen: what the store knew is kept
        (answered, bridged), the rest retried after the error delay without counting
        as an attempt (:meth:`Store.record_lost`)."""
        self.store.record_lost(attempt, now, window_of=self.window_of)

    def _begin(self, now: float) -> None:
        """Restore the abandon windows, close sessions a crash left open, ring agents."""
        self.lines = self._count_lines()
        for name in self.campaigns:
            self.store.restore_ledger(self.engine.ledger(name), name,
                                      self.window_of(name, now))
        self.store.close_stale_sessions(self.campaigns, now)  # left open by a crash
        if not self.positions_at_start:
            return
        self._clear_dead_positions()
        refused: list[str] = []
        for ch in self.agent_channels:
            agent = f"agent-{ch}"
            try:
                gw = self.gateway.originate(self.agent_number, channel=ch, ring_timeout=60.0,
                                            tag=position_tag(self.owner, ch))
            except REQUEST_FAILED as err:
                self._gateway_error(f"cannot ring agent position {ch}: {err}")
                refused.append(f"{ch}: {err}")
                if isinstance(err, CallTimeout):   # rung late after all: hung up
                    self._late_calls[position_tag(self.owner, ch)] = False
                continue
            position = _Position(gw, agent, ch)
            self._positions[gw] = position
            self.agent_legs[agent] = position
        if self.agent_channels and not self._positions:
            # Without a single position the shift would dial nothing, forever: say so.
            raise DialerError("no agent position could be rung, so nothing can be dialled "
                              f"({'; '.join(refused)}); another program holds the "
                              "channels, or a dialer of other campaigns runs on them")

    def _count_lines(self) -> int | None:
        """The channels of the dial group, or None when the gateway does not say."""
        try:
            return len(self.gateway.group(self.group)) or None
        except (ConfigError, RpcError, CallTimeout, AttributeError) as err:
            self.log.info("runner_lines_unknown", group=self.group, error=str(err))
            return None

    def _lines_free(self) -> bool:
        """Whether the dial group may have a free line: fewer calls in the engine than
        the group has channels. Without this bound, 200 agents on 120 lines had the
        engine claim a contact for every idle agent every NOT_PLACED_BACKOFF, each one
        committed, refused by the gateway and released (91 % of all dials in the desk
        floor benchmark), and the runner's steps grew to seconds. Calls of other
        programs on those lines still get a refusal, handled as before."""
        return self.lines is None or len(self.engine.calls) < self.lines

    def _clear_dead_positions(self) -> None:
        """The positions a killed run of the same campaigns left up on the gateway are
        hung up, and their channels waited for (a few seconds at most), before the
        positions are rung again (issue 15, red-team 5)."""
        cleared = set(clear_positions(self.gateway, self.owner))
        if not cleared:
            return
        self.log.warning("runner_cleared_positions", campaigns=self.campaigns,
                         calls=sorted(cleared))
        deadline = self.gateway.now() + 5.0
        while self.gateway.now() < deadline:
            if not cleared & {int(c["call"]) for c in self.gateway.calls()}:
                break
            self.gateway.wait(min(deadline, self.gateway.now() + 0.2))  # their hungups
        # The port removed battery; the agent puts the phone down (a phone off hook
        # cannot be rung): give that a moment before the positions ring again.
        settle = self.gateway.now() + POSITION_SETTLE
        while self.gateway.now() < settle:
            self.gateway.wait(settle)

    def _urgent_calls(self) -> Collection[Any]:
        return self._positions

    def _next_deadline(self, now: float) -> float:
        engine_next = self.engine.next_deadline()
        return engine_next if engine_next is not None else float("inf")

    def _after_events(self, now: float) -> None:
        self._handle(ev.Tick(), now)
        self._start_recordings()
        self._say_why_idle(now)

    def _say_why_idle(self, now: float) -> None:
        """For each campaign with no call of its own up, say once (and again when it
        changes) why it dials nothing: outside its calling window, or its next contact
        not due yet (idle_reason.py; issue 15: a run outside its windows printed 'dials
        0' only), and keep it for the floor (:attr:`idle_states`). Checked at most once
        a second of gateway time."""
        if now < self._idle_checked + 1.0:
            return
        self._idle_checked = now
        busy = {name for c in self.engine.calls.values() for name in (c.origin, c.campaign)}
        for name in self.campaigns:
            state = None if name in busy else idle_state(
                self.store.strategy(name), self.store.next_due(name), now)
            self.idle_states[name] = state
            self._idle.update(name, None if state is None else idle_sentence(name, state))

    def _in_flight(self) -> bool:
        return bool(self.engine.calls) or bool(self.translator.calls)

    def _list_finished(self) -> bool:
        """Nothing in flight and no contact of the campaigns left to call."""
        return not self._in_flight() and self.store.open_contacts(self.campaigns) == 0

    def _close(self) -> None:
        self.contacts.closed = True

    def _end(self) -> None:
        """End of shift: clear what is still up (customers first), log the agents out."""
        for gw in list(self.translator.calls):
            self._hangup(gw)
        end = self.gateway.now() + 5.0
        while self.translator.calls and self.gateway.now() < end:
            self.step(end)
        for position in list(self.agent_legs.values()):
            self._hangup(position.gw)
        end = self.gateway.now() + 2.0
        while self._calls_up() and self.gateway.now() < end:
            now = self.gateway.now()
            for event in self.gateway.wait(end):
                self._on_event(event, now)

    # -- engine side -----------------------------------------------------------------------

    def _engine_state(self, call_id: int) -> CallState | None:
        call = self.engine.calls.get(call_id)
        return call.state if call is not None else None

    def _handle(self, event: ev.Event, now: float) -> None:
        """Feed ``event`` (and what follows from it) to the engine; persist, then act."""
        queue: deque[ev.Event] = deque([event])
        while queue:
            item = queue.popleft()
            try:
                actions = self.engine.handle(item, now)
            except DialerError as err:
                self.log.warning("runner_event_refused", engine_event=repr(item), error=str(err))
                continue
            refused = self.contacts.persist(actions, now)   # durable before acted on
            for action in connects_first(actions):
                self._act(action, now, refused, queue)
        self._start_recordings()

    def _act(self, action: Action, now: float, refused: set[int],
             queue: deque[ev.Event]) -> None:
        if isinstance(action, Dial):
            self._dial(action, now, refused, queue)
        elif isinstance(action, Connect):
            self._connect(action, now)
        elif isinstance(action, Abandon):
            self._abandon(action, now)
        elif isinstance(action, HangUp):
            customer = self.customers.get(action.call_id)
            if customer is not None and not self._leave_message(customer, now):
                self._hangup(customer.gw)
        elif isinstance(action, RecordOutcome):
            self.outcomes[str(action.outcome)] += 1
            customer = self.customers.get(action.call_id)
            connection = self._connected.pop(action.call_id, None)
            if connection is not None and customer is not None \
                    and customer.attempt is not None:
                # who talked, and how long, for the reports (the outcome is committed)
                self.store.set_talk(customer.attempt, connection.agent,
                                    round(now - connection.bridged_at, 3))
                self._wrapping[connection.agent] = (customer.attempt, now)
            if customer is not None and customer.gw not in self.translator.calls:
                del self.customers[action.call_id]  # the gateway call is over too
        elif isinstance(action, OfferPreview):
            # No agent screen yet: a preview record is dialled at once for the agent.
            queue.append(ev.PreviewDecision(action.agent, action.contact.id, True))
        elif isinstance(action, PreviewExpired):
            pass

    def _dial(self, action: Dial, now: float, refused: set[int],
              queue: deque[ev.Event]) -> None:
        if action.call_id in refused:  # went on a DNC list since it was claimed
            self.refused += 1
            queue.append(ev.CallFailed(action.call_id, CallOutcome.REJECTED))
            return
        number = self.dial_string(action.contact.number)
        claim = self.contacts.claim(action.call_id)
        if self._not_placed_at == now:
            # The gateway refused a dial of this same turn for want of a channel: the
            # rest of the turn's dials would be refused too, each a round trip.
            self.not_placed += 1
            queue.append(ev.DialNotPlaced(action.call_id, now + NOT_PLACED_BACKOFF,
                                          "not placed: no free channel a moment ago"))
            return
        try:
            gw = self.gateway.originate(
                number, group=self.group, ring_timeout=action.ring_timeout,
                tag=attempt_tag(self.store.identity, claim.attempt) if claim is not None else None)
        except RpcError as err:
            if err.name == "conflict":
                # No free channel (or the gateway is draining): no call existed, so it
                # is no attempt and no congestion; the contact goes back, and no new
                # contact is drawn for a moment (issue 15, item 3).
                self.not_placed += 1
                self.contacts.hold_until = now + NOT_PLACED_BACKOFF
                self._not_placed_at = now
                queue.append(ev.DialNotPlaced(action.call_id, now + NOT_PLACED_BACKOFF,
                                              f"not placed: {err.message}"))
                return
            self._gateway_error(f"cannot dial {number}: {err}")
            queue.append(ev.CallFailed(action.call_id, CallOutcome.ERROR))
            return
        except CallTimeout as err:
            # A gateway too slow to answer: this dial failed, the campaign goes on. A
            # call it placed all the same is hung up when an event shows its tag.
            self._gateway_error(f"cannot dial {number}: {err}")
            if claim is not None:
                self._late_calls[attempt_tag(self.store.identity, claim.attempt)] = False
            queue.append(ev.CallFailed(action.call_id, CallOutcome.ERROR))
            return
        customer = _Customer(gw, action.campaign)
        self.customers[action.call_id] = customer
        cfg = self.configs.get(action.campaign)
        # Ofcom counts the 2 s from the answer: AMD may not take longer than that
        from_answer = cfg is not None and counts_from_answer(cfg.regime)
        self.translator.placed(gw, action.call_id,
                               amd_limit=cfg.abandon_after if cfg and from_answer else None)
        if claim is not None:
            customer.attempt = claim.attempt
            self.store.set_call_ref(claim.attempt, str(gw))

    def _connect(self, action: Connect, now: float) -> None:
        customer = self.customers.get(action.call_id)
        position = self.agent_legs.get(action.agent)
        if customer is None or position is None:
            self._gateway_error(f"cannot connect call {action.call_id} to {action.agent}: "
                                "no such leg")
            return
        try:
            self.gateway.bridge(customer.gw, position.gw)
        except REQUEST_FAILED as err:  # the customer (or agent) hung up meanwhile
            self._gateway_error(f"cannot bridge call {customer.gw} to agent {action.agent} "
                                f"(call {position.gw}): {err}")
            return
        wire = self.translator.calls.get(customer.gw)
        call = self.engine.calls.get(action.call_id)
        number = self.dial_string(call.contact.number) if call is not None else ""
        answered_at = wire.answered_at if wire is not None else None
        live_at = wire.live_at if wire is not None and wire.live_at is not None else now
        if customer.attempt is not None:  # a conversation now, even if we crash
            self.store.mark_bridged(customer.attempt, action.agent, now)
        connection = Connection(action.call_id, customer.gw, action.agent, position.gw,
                                number, answered_at, live_at, now,
                                wire.greeting_ended_at if wire is not None else None)
        self.connections.append(connection)
        self._connected[action.call_id] = connection
        # started once the event is handled, after the agent's screen pop is out: a
        # recording is a gateway round trip and a write the pop need not wait for
        self._to_record.append(dict(
            gw=customer.gw, campaign=customer.campaign, attempt=customer.attempt,
            agent=action.agent, number=call.contact.number if call is not None else number,
            now=now))

    def _start_recordings(self) -> None:
        """Record the calls put through to agents since the last time (see _connect)."""
        while self._to_record:
            self.recording.connected(**self._to_record.pop(0))

    def _abandon(self, action: Abandon, now: float) -> None:
        customer = self.customers.get(action.call_id)
        if customer is None:
            return
        gw = customer.gw
        wire = self.translator.calls.get(gw)
        live_at = self.translator.abandoning(gw)
        cfg = self.configs.get(customer.campaign)
        # the moment the regime's limit ran from (the answer under Ofcom, the greeting's
        # end under the TSR), as the engine counted it
        start = live_at if wire is None or live_at is None or cfg is None else \
            abandon_clock_start(cfg.regime, answered_at=wire.answered_at,
                                greeting_ended_at=wire.greeting_ended_at, now=live_at)
        self.abandons.append((gw, start, now))
        try:
            if self.abandon_file:
                self.gateway.play(gw, file=self.abandon_file)
                self._schedule(now + 60.0, "hangup", gw)  # play.finished hangs up first
            else:
                self.gateway.play(gw, tone=self.abandon_tone)
                self._schedule(now + self.abandon_seconds, "hangup", gw)
        except REQUEST_FAILED as err:
            self._gateway_error(f"cannot play the abandon message to call {gw}: {err}")
            self._hangup(gw)

    def _leave_message(self, customer: _Customer, now: float) -> bool:
        """A machine, in a campaign that leaves messages: play it after the beep.

        The message waits for ``machine_message_wait`` seconds of quiet (the greeting
        and the beep over), then plays; the call is released when it ends. Returns
        False when there is no message to leave (the caller hangs up)."""
        settings = self.settings.get(customer.campaign)
        gw = customer.gw
        if settings is None or not settings.machine_message \
                or not self.translator.may_leave_message(gw):
            return False
        try:
            self.gateway.play(gw, file=settings.machine_message,
                              wait_silence=settings.machine_message_wait)
        except REQUEST_FAILED as err:
            self._gateway_error(f"cannot leave the machine message on call {gw}: {err}")
            return False
        self.translator.message_asked(gw)
        self._schedule(now + MESSAGE_LIMIT, "hangup", gw)  # a stuck play ends too
        return True

    def _calls_up(self) -> bool:
        """Any customer call or agent position still up on the gateway."""
        return bool(self.translator.calls) or any(not p.gone for p in self._positions.values())

    def _hangup(self, gw: int) -> None:
        """Hang up a call of ours that is still up."""
        position = self._positions.get(gw)
        if gw in self.translator.calls or (position is not None and not position.gone):
            self._hang_up(gw)

    # -- gateway side ----------------------------------------------------------------------

    def _on_event(self, event: Mapping[str, Any], now: float) -> None:
        if self._late_calls and event.get("tag") in self._late_calls:
            self._on_late_call(event)
            return
        if self.recording.on_event(event):
            return
        position = self._positions.get(event.get("call"))  # type: ignore[arg-type]
        if position is not None:
            if not position.gone:
                self._on_agent_event(position, event, now)
            return
        for out in self.translator.on_event(event, now):
            self._carry_out(out, now)

    def _on_late_call(self, event: Mapping[str, Any]) -> None:
        """An event of a call whose originate timed out: the gateway placed it after
        all, but its dial was already given up (the attempt failed), so it is hung up,
        once; forgotten when it has ended."""
        tag = str(event["tag"])
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            del self._late_calls[tag]
        elif not self._late_calls[tag] and isinstance(event.get("call"), int):
            self._late_calls[tag] = True
            self._hang_up(int(event["call"]))  # type: ignore[arg-type]

    def _carry_out(self, out: Output, now: float) -> None:
        """One of the translator's outputs: an engine event, or a decision."""
        if isinstance(out, ev.CallAnswered):
            claim = self.contacts.claim(out.call_id)
            customer = self.customers.get(out.call_id)
            if claim is not None and customer is not None:
                # counted in the abandon window at once, durably
                self.store.mark_answered(claim.attempt, str(out.kind), now,
                                         window=self.window_of(customer.campaign, now),
                                         line_answered_at=out.answered_at,
                                         greeting_ended_at=out.greeting_ended_at)
            self._handle(out, now)
        elif isinstance(out, ev.CallHungUp):
            call = self.engine.calls.get(out.call_id)
            agent = call.agent if call is not None \
                and call.state is not CallState.DIALING else None
            self._handle(out, now)
            if agent is not None:
                state = self.engine.agents.get(agent)
                if state is not None and state.state is AgentState.WRAP_UP:
                    self._schedule(now + self.wrap_up, "wrap", agent)
        elif isinstance(out, ev.Event):
            self._handle(out, now)
        elif isinstance(out, HangUpCall):
            self._hangup(out.gw)
        elif isinstance(out, AwaitAmd):
            self._schedule(out.until, "amd", out.gw)
        elif isinstance(out, Note):
            customer = self.customers.get(out.call_id)
            if customer is not None and customer.attempt is not None:
                self.store.set_note(customer.attempt, out.text)
        elif isinstance(out, MessageLeft):
            self.messages_left += 1
        elif isinstance(out, Ended) and out.call_id not in self.engine.calls:
            self.customers.pop(out.call_id, None)  # the engine finished it too

    def _on_agent_event(self, position: _Position, event: Mapping[str, Any],
                        now: float) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        agent = position.agent
        if state == "answered" and not position.logged_in:
            position.logged_in = True
            self._handle(ev.AgentLoggedIn(agent, self._levels(position)), now)
            if agent in self.engine.agents:
                position.session = self.store.open_agent_session(agent, self.campaigns, now)
            self._handle(ev.AgentReady(agent), now)
        elif state == "hungup":
            position.gone = True
            if not position.logged_in:
                self._gateway_error(f"agent position {position.channel} did not answer "
                                    f"({event.get('outcome')})")
                return
            current = self.engine.agents.get(agent)
            if current is not None and current.state is AgentState.TALKING \
                    and current.call_id in self.customers:
                self._hangup(self.customers[current.call_id].gw)  # the customer goes too
            self._try_logout(agent, now)

    def _levels(self, position: _Position) -> tuple[tuple[str, str], ...]:
        """The campaigns an agent position logs in to: at home (``standard``) in one,
        round-robin over the positions, and ``overflow`` in the others."""
        index = self.agent_channels.index(position.channel)
        home = self.campaigns[index % len(self.campaigns)]
        return ((home, "standard"),
                *((name, "overflow") for name in self.campaigns if name != home))

    def _try_logout(self, agent: str, now: float) -> None:
        current = self.engine.agents.get(agent)
        if current is None:
            return
        if current.state in (AgentState.READY, AgentState.PAUSED, AgentState.WRAP_UP,
                             AgentState.PREVIEW):
            self._handle(ev.AgentLoggedOut(agent), now)
            position = self.agent_legs.get(agent)
            if agent not in self.engine.agents and position is not None \
                    and position.session is not None:
                self.store.close_agent_session(position.session, now)
                position.session = None

    # -- timers ----------------------------------------------------------------------------

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        if kind == "hangup":
            self._hangup(key)
        elif kind == "amd":
            for out in self.translator.on_amd_timeout(key, now):
                self._carry_out(out, now)
        elif kind == "wrap":
            current = self.engine.agents.get(key)
            if current is not None and current.state is AgentState.WRAP_UP:
                wrapping = self._wrapping.pop(key, None)
                if wrapping is not None:
                    self.store.set_wrap(wrapping[0], round(now - wrapping[1], 3))
                if self.agent_legs[key].gone:
                    self._try_logout(key, now)
                else:
                    self._handle(ev.WrapUpDone(key), now)


def connects_first(actions: Sequence[Action]) -> list[Action]:
    """The engine's actions with its Connects (bridge, then the agent's screen pop)
    first, the rest in their order: a Connect does not wait behind the same event's
    dials and hang-ups, each a gateway round trip. They are persisted together before
    any is carried out, and the engine emits a call's Connect before anything else about
    that call, so a Connect only moves ahead of other calls' actions."""
    return [a for a in actions if isinstance(a, Connect)] \
        + [a for a in actions if not isinstance(a, Connect)]


def run_campaign(store: Store, campaign: str, gateway: GatewayPort, *,
                 seconds: float | None = None, **options: Any) -> RunSummary:
    """Convenience: build a :class:`CampaignRunner`, run it, return its summary."""
    runner = CampaignRunner(store, campaign, gateway, **options)
    return runner.run(seconds=seconds)
