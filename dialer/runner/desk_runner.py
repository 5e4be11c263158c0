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
store; hold, DTMF, transfers and consultations are carried out on the customer's call.

The host starts and stops campaigns in the runner's thread: :meth:`DeskRunner.start_campaign`
(a new one joins the running engine) and :meth:`DeskRunner.stop_campaign` (no new dials;
its agents are logged out once off their calls and it leaves the engine; the sink then
gets a :class:`CampaignEvent` ``{"type": "campaign", "campaign", "state": "stopped"}``).

The parts, one job each, joined by :class:`DeskRunner` (this module: the host's side,
the step and campaigns at run time):

- :mod:`~trunkline.dialer.runner.desk_feed`: the loop of engine events, desk ops and
  desk events every part feeds, and the base class they share;
- :mod:`~trunkline.dialer.runner.desk_dispatch`: which part takes each op, gateway event
  and timer;
- :mod:`~trunkline.dialer.runner.desk_positions`: ringing and dropping agents' positions;
- :mod:`~trunkline.dialer.runner.desk_transfers`: hold, DTMF, transfers, consultations,
  the three-way conference;
- :mod:`~trunkline.dialer.runner.desk_dispositions`: dispositions, callbacks, their SMS;
- :mod:`~trunkline.dialer.runner.desk_dials`: manual dials and due personal callbacks;
- :mod:`~trunkline.dialer.runner.desk_contacts`: the contacts, pausable, adopting claims;
- :mod:`~trunkline.dialer.runner.softphone_faults`: a browser position losing its audio.

The desk's decisions are in dialer/desk, the shared runner in campaign_runner.py and
base.py.
"""

from __future__ import annotations

import math
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import SiteDesk
from trunkline.dialer.desk.desk import CampaignDesk, Desk
from trunkline.dialer.desk.outputs import DeskEvent
from trunkline.dialer.errors import DialerError
from trunkline.dialer.runner.abandon_message import require_abandon_message
from trunkline.dialer.runner.desk_dials import CALLBACK_POLL
from trunkline.dialer.runner.desk_dispatch import DeskDispatch
from trunkline.dialer.runner.gateway import GatewayPort
from trunkline.dialer.runner.settings import campaign_config, runner_settings
from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.runner.softphone_faults import SoftphoneFaults
from trunkline.dialer.runner.sound_files import check_sound_files
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError


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


class DeskRunner(DeskDispatch):
    """Campaigns with agents at a desk (see the module docstring). ``sink`` receives the
    desk events; ``site`` the pause codes (default: the store's)."""

    positions_at_start = False
    #: The longest a step waits while agents are logged in (command latency).
    max_wait = 0.1

    def __init__(self, store: Store, campaign: str | Sequence[str], gateway: GatewayPort, *,
                 sink: Callable[[DeskEvent], None] | None = None,
                 site: SiteDesk | None = None, hold_file: str | None = None,
                 **options: Any) -> None:
        names = [campaign] if isinstance(campaign, str) else list(campaign)
        self._works = []
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
        self.desk_events = []
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._transfers = {}
        self._consults = {}
        self._consult_legs = {}
        self._stopping: set[str] = set()
        self._ring_expired = set()
        self._ring_seq = 0
        self._late_rings = {}
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

    def sound_files(self, names: Sequence[str]) -> dict[str, str | None]:
        """The plain runner's files and the music on hold."""
        return {**super().sound_files(names), "hold_file": self.hold_file}

    def start(self) -> None:
        """As the plain runner, and first bring the campaigns' SMS up to date: the
        ``sms.*`` events of messages still open may have come while no runner listened."""
        self._settle_sms(self.campaigns, self.gateway.now())
        super().start()

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
        if self.require_message:   # uk/us need a recorded abandon message (abandon_message.py)
            require_abandon_message([(name, config.regime)], self.abandon_file)
        # its machine message must play on this gateway before anything changes
        check_sound_files(self.gateway, {f"campaign {name!r}: machine_message":
                                         settings.machine_message})
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
