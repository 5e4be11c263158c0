"""The campaign runner: the dialing engine driven through the gateway (issue 7 item 5).

The runner owns three things and connects them:

- a **gateway** (:class:`GatewayPort`): :class:`LiveGateway` talks to a running gateway
  over its socket; :class:`InProcessGateway` runs a gateway service on the emulated card
  inside this process and ticks it in virtual time (``trunkline dialer run --virtual``
  and the tests). Both expose the same small API: originate, hangup, bridge, play, and
  the events that arrived up to a time;
- the **store** (:class:`~trunkline.dialer.store.Store`) through
  :class:`~trunkline.dialer.store.StoreContacts`: every batch of engine actions is made
  durable (``contacts.persist``) *before* any of it is carried out, so no originate is
  ever sent without a committed ``mark_dialing`` row;
- the **engine** (:class:`~trunkline.dialer.pacing.engine.Engine`), fed gateway events with the
  time they were seen, and ticked at its ``next_deadline()``.

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

Gateway events become engine events as follows::

    call.state ringing                    -> CallRinging
    call.state answered (by unknown)      -> (nothing yet: wait for AMD)
    amd human | notsure                   -> CallAnswered(human)   (store.mark_answered first)
    amd machine | fax                     -> CallAnswered(machine | fax) -> HangUp
    announcement (before an answer)       -> hang up; CallFailed(invalid_number | unreachable ...)
    call.state hungup, never classified   -> CallFailed(outcome) for failure outcomes,
                                             CallAnswered(machine|fax) for those,
                                             CallHungUp otherwise (recorded as error)
    call.state hungup after a live answer -> CallHungUp (waiting: abandoned by the caller;
                                             connected: the agent goes to wrap-up)

Time: the engine runs on epoch seconds. The live gateway's events are stamped when they
are read; the in-process gateway's virtual clock starts at an epoch instant, so the
store's calling windows and the regime's windows work the same way in both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import math
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing import events as ev
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
from trunkline.dialer.store import Store, StoreContacts
from trunkline.dialer.vocab import (
    FAILURE_OUTCOMES,
    AgentState,
    AnswerKind,
    CallOutcome,
    CallState,
)
from trunkline.errors import ConfigError, TrunklineError
from trunkline.gateway.rpc.errors import RpcError

log = structlog.get_logger("trunkline.dialer.runner")

#: Dialer outcome for each network announcement kind (as the gateway's controllers map
#: them; an announcement nobody recognised is taken as "unreachable").
ANNOUNCEMENT_OUTCOME: dict[str, str] = {
    "invalid_number": "invalid_number", "powered_off": "unreachable",
    "unreachable": "unreachable", "busy": "busy", "call_barred": "rejected",
    "congestion": "congestion", "not_in_service": "invalid_number", "no_answer": "no_answer",
}

#: The longest a machine message may take, wait for the beep included (seconds).
MESSAGE_LIMIT = 120.0

#: The gateway events the runner listens to.
EVENTS = ["call.state", "amd", "announcement", "play.started", "play.finished"]


# -- the gateway ---------------------------------------------------------------------------

class GatewayPort(Protocol):
    """What the runner needs from a gateway; both implementations below provide it.

    Methods raise :class:`~trunkline.gateway.rpc.errors.RpcError` as the gateway answers.
    """

    def now(self) -> float:
        """The time events are stamped with (epoch seconds; virtual in-process)."""
        ...

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        """Place a call; returns the gateway's call id."""
        ...

    def hangup(self, call: int) -> None: ...

    def bridge(self, call: int, other: int) -> None: ...

    def unbridge(self, call: int) -> None: ...

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        """Play into a call; with ``wait_silence`` the start waits for that much quiet."""
        ...

    def group(self, name: str) -> list[int]:
        """The channels of a channel group (``agents``: the FXS ports by default)."""
        ...

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress (``calls.list``)."""
        ...

    def wait(self, until: float) -> list[dict[str, Any]]:
        """The events that arrive until ``until`` (returns at the first, or at ``until``)."""
        ...

    def close(self) -> None: ...


class LiveGateway:
    """A running gateway over its socket (the blocking :class:`GatewayClient`)."""

    def __init__(self, address: str, *, token: str | None = None, client: Any = None) -> None:
        if client is None:
            from trunkline.gateway.rpc.client import GatewayClient

            client = GatewayClient(address, token=token).connect()
        self.client = client
        self.client.subscribe(EVENTS)

    def now(self) -> float:
        return time.time()

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        params: dict[str, Any] = {"number": number, "ring_timeout": ring_timeout}
        if channel is not None:
            params["channel"] = channel
        elif group is not None:
            params["group"] = group
        return int(self.client.call("call.originate", **params)["call"])

    def hangup(self, call: int) -> None:
        self.client.call("call.hangup", call=call)

    def bridge(self, call: int, other: int) -> None:
        self.client.call("call.bridge", call=call, other=other)

    def unbridge(self, call: int) -> None:
        self.client.call("call.unbridge", call=call)

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        params: dict[str, Any] = {"call": call}
        if wait_silence:
            params["wait_silence"] = wait_silence
        if file is not None:
            params["file"] = file
        else:
            params["tone"] = tone
        self.client.call("call.play", **params)

    def group(self, name: str) -> list[int]:
        groups = self.client.call("groups.list")
        if name not in groups:
            raise ConfigError(f"the gateway has no channel group {name!r} "
                              f"(groups: {', '.join(groups)})")
        return list(groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return list(self.client.call("calls.list"))

    def wait(self, until: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        try:
            out.append(self.client.next_event(timeout=max(0.0, until - time.time())))
            while True:
                out.append(self.client.next_event(timeout=0))
        except TimeoutError:
            pass
        return out

    def close(self) -> None:
        self.client.close()


def _as_rpc(fn: Callable[[], Any]) -> Any:
    """Run an engine method, raising what a client of the service would see (the
    service's registry maps these exceptions the same way)."""
    try:
        return fn()
    except RpcError:
        raise
    except ConfigError as err:
        raise RpcError("invalid_params", str(err)) from err
    except TrunklineError as err:
        raise RpcError("conflict", str(err)) from err


class InProcessGateway:
    """A gateway service on the emulated card in this process, in virtual time.

    The media engine is ticked by :meth:`wait` (20 ms of card time per tick, as fast as
    the CPU allows), and engine methods are called directly between ticks, on the same
    thread, as the service's request queue would. ``start`` is the epoch instant the
    virtual clock starts at. ``on_tick`` callables run after every tick (tests use them
    to watch the card).
    """

    def __init__(self, *, start: float | None = None, network: str | Path | None = None,
                 config: Any = None) -> None:
        from trunkline.clock import VirtualClock
        from trunkline.gateway.config import GatewayConfig
        from trunkline.gateway.service import GatewayService

        self.clock = VirtualClock(time.time() if start is None else start)
        self._scratch: tempfile.TemporaryDirectory | None = None
        if config is None:  # a virtual gateway keeps its recordings and fax spool aside
            self._scratch = tempfile.TemporaryDirectory(prefix="trunkline-virtual-gw-")
            scratch = Path(self._scratch.name)
            config = GatewayConfig(recordings_root=scratch / "recordings",
                                   fax_spool=scratch / "fax")
        if network is not None:
            config.network = Path(network)
        self.service = GatewayService(config, clock=self.clock)
        self.engine = self.service.engine
        self.card = self.service.card
        self._events: list[dict[str, Any]] = []
        self.engine.publish = self._events.append
        self.on_tick: list[Callable[[], None]] = []
        self.ticks = 0
        end = self.clock.now() + 0.3  # the PRI D-channels come up
        while self.clock.now() < end:
            self._tick()
        self._events.clear()

    def _tick(self) -> None:
        self.engine.tick()
        self.ticks += 1
        for fn in self.on_tick:
            fn()

    def now(self) -> float:
        return self.clock.now()

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        info = _as_rpc(lambda: self.engine.originate(
            number, group=None if channel is not None else group, channel=channel,
            ring_timeout=ring_timeout))
        return int(info["call"])

    def hangup(self, call: int) -> None:
        _as_rpc(lambda: self.engine.hangup(call))

    def bridge(self, call: int, other: int) -> None:
        _as_rpc(lambda: self.engine.bridge(call, other))

    def unbridge(self, call: int) -> None:
        _as_rpc(lambda: self.engine.unbridge(call))

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        spec = {"file": file, "tone": tone, "digits": None, "loop": False,
                "wait_silence": wait_silence}
        _as_rpc(lambda: self.engine.play(call, spec))

    def group(self, name: str) -> list[int]:
        if name not in self.engine.groups:
            raise ConfigError(f"the gateway has no channel group {name!r} "
                              f"(groups: {', '.join(self.engine.groups)})")
        return list(self.engine.groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return [c.info() for c in self.engine.calls.values()]

    def wait(self, until: float) -> list[dict[str, Any]]:
        if not self._events:
            self._tick()  # always move on: a caller at its deadline gets the next frame
        while not self._events and self.clock.now() < until:
            self._tick()
        out = self._events[:]
        self._events.clear()  # the engine publishes into this very list
        return out

    def close(self) -> None:
        self.card.close()
        if self._scratch is not None:
            self._scratch.cleanup()


# -- the runner ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Leg:
    """One gateway call the runner placed: a customer call or an agent's held leg."""

    gw: int
    kind: str                          # "customer" | "agent"
    number: str
    campaign: str = ""                 # the campaign that dialed it (customers)
    call_id: int | None = None         # engine call (customers)
    attempt: int | None = None         # the store's attempt row (customers)
    agent: str | None = None           # agent id (agent legs)
    channel: int | None = None
    placed: float = 0.0
    ringing: bool = False
    answered_at: float | None = None
    classified: str | None = None      # AMD result as given to the engine
    live_at: float | None = None       # when the engine learnt of the live answer
    released: str | None = None        # the outcome we released it with (announcements)
    abandoned: bool = False
    logged_in: bool = False
    gone: bool = False                 # agent leg: the phone hung up
    message: str | None = None         # a machine: "waiting" | "playing" | "left"
    session: int | None = None         # agent leg: the store's agent_session row


@dataclass
class Connection:
    """A customer bridged to an agent: who, and how long after the answer."""

    call_id: int
    gateway_call: int
    agent: str
    agent_call: int
    number: str
    answered_at: float | None
    live_at: float
    bridged_at: float

    @property
    def after_live(self) -> float:
        """Seconds from the live answer (AMD said human) to the bridge."""
        return self.bridged_at - self.live_at

    @property
    def after_answer(self) -> float:
        """Seconds from the line's answer to the bridge (includes the AMD decision)."""
        return self.bridged_at - (self.answered_at if self.answered_at is not None
                                  else self.live_at)


@dataclass
class RunSummary:
    campaign: str
    mode: str
    started: float
    ended: float
    agents: int
    dials: int
    live: int
    connects: int
    abandoned: int
    machines: int
    refused: int
    outcomes: dict[str, int] = field(default_factory=dict)
    max_after_live: float | None = None
    max_after_answer: float | None = None
    finished: bool = False
    messages_left: int = 0
    by_campaign: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "mode": self.mode,
                "seconds": round(self.ended - self.started, 1), "agents": self.agents,
                "dials": self.dials, "live_answers": self.live, "connects": self.connects,
                "abandoned": self.abandoned, "abandon_rate": round(self.abandon_rate, 4),
                "machines": self.machines, "refused_dnc": self.refused,
                "outcomes": dict(sorted(self.outcomes.items())),
                "max_live_to_agent_s": None if self.max_after_live is None
                else round(self.max_after_live, 2),
                "max_answer_to_agent_s": None if self.max_after_answer is None
                else round(self.max_after_answer, 2),
                "machine_messages_left": self.messages_left,
                "list_finished": self.finished,
                **({"campaigns": self.by_campaign} if len(self.by_campaign) > 1 else {})}

    def lines(self) -> list[str]:
        d = self.as_dict()
        outcomes = ", ".join(f"{k} {v}" for k, v in d["outcomes"].items()) or "none"
        return [
            f"campaign {self.campaign} ({self.mode}): {d['seconds']} s, {self.agents} agents",
            f"dials {self.dials}, live answers {self.live}, connects {self.connects}, "
            f"abandoned {self.abandoned} (abandon rate {100 * self.abandon_rate:.2f} %)",
            f"outcomes: {outcomes}"
            + (f"; messages left on machines {self.messages_left}"
               if self.messages_left else ""),
            f"live answer to agent: at most {d['max_live_to_agent_s']} s "
            f"(line answer to agent: at most {d['max_answer_to_agent_s']} s)",
            "list finished" if self.finished else "list not finished",
            *(f"  {name}: dials {c['dials']}, live {c['live']}, abandoned {c['abandoned']}"
              f" ({100 * c['abandon_rate']:.2f} %)" for name, c in self.by_campaign.items()
              if len(self.by_campaign) > 1),
        ]


def settle_open_attempts(store: Store, gateway: GatewayPort, campaigns: Container[str],
                         dial_string: Callable[[str], str],
                         record_unknown: Callable[[int], None], now: float) -> dict[str, int]:
    """Attempts of ``campaigns`` left open by a previous run (a crash), settled.

    What :meth:`Store.reconcile` does, for these campaigns only (other campaigns may be
    running from the same database): ``claimed`` attempts were never sent and are
    released; ``dialing`` ones cannot be adopted: a call of ours still up on the gateway
    (same id and number) is cleared, and each is given to ``record_unknown`` (the
    campaign runner records ``error``, the cleaning runner ``unknown``). Returns counts.
    """
    up = {int(c["call"]): str(c.get("number")) for c in gateway.calls()}
    counts = {"released": 0, "unknown": 0, "cleared": 0}
    for item in store.in_flight():
        if item.campaign not in campaigns:
            continue
        if item.state == "claimed":
            store.release(item.attempt, not_before=now)
            counts["released"] += 1
            continue
        ref = int(item.call_ref) if item.call_ref and item.call_ref.isdigit() else None
        if ref is not None and up.get(ref) == dial_string(item.number):
            with contextlib.suppress(RpcError):
                gateway.hangup(ref)
            counts["cleared"] += 1
        record_unknown(item.attempt)
        counts["unknown"] += 1
    return counts


class _Contacts(StoreContacts):
    """StoreContacts that can be closed: no new contacts once the shift ends."""

    closed = False

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        if self.closed:
            return None
        return super().next_contact(campaign, now)


#: Campaign settings the runner reads (the rest of a campaign's config is the engine's):
#: ``type`` ("dialing", or "cleaning": run by ``trunkline dialer clean``),
#: ``machine_message`` (a WAV on the gateway host left on answering machines after the
#: beep) and ``machine_message_wait`` (seconds of quiet that mark the end of the beep).
RUNNER_SETTINGS = ("type", "machine_message", "machine_message_wait")


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """A campaign's runner-level settings (see :data:`RUNNER_SETTINGS`)."""

    type: str = "dialing"
    machine_message: str | None = None
    machine_message_wait: float = 1.0

    def __post_init__(self) -> None:
        if self.type not in ("dialing", "cleaning"):
            raise ValueError(f"type must be 'dialing' or 'cleaning', not {self.type!r}")
        if self.machine_message is not None and not isinstance(self.machine_message, str):
            raise ValueError("machine_message is the path of a WAV file")
        wait = self.machine_message_wait
        if isinstance(wait, bool) or not isinstance(wait, int | float) \
                or not 0.2 <= wait <= 10.0:
            raise ValueError(f"machine_message_wait must be in [0.2, 10] s, got {wait!r}")


def runner_settings(store: Store, name: str) -> RunnerSettings:
    """``name``'s runner settings from its stored config, checked."""
    stored = store.campaign_config(name)
    try:
        return RunnerSettings(**{k: stored[k] for k in RUNNER_SETTINGS
                                 if stored.get(k) is not None})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"campaign {name!r}: {err}") from err


def campaign_config(store: Store, name: str, **overrides: Any) -> CampaignConfig:
    """The engine's settings for ``name``: the campaign's stored config, then overrides.

    Unknown keys are refused (the runner's own :data:`RUNNER_SETTINGS` are not the
    engine's and are left out). A list-cleaning campaign is refused: it has no agents
    and is run by ``trunkline dialer clean run``. Under the US regime the 30-day periods
    start when the campaign was created (unless ``start`` is given); ``day_offset`` (where
    calendar days count) comes from the strategy's time zone.
    """
    if runner_settings(store, name).type == "cleaning":
        raise ConfigError(f"campaign {name!r} is a list-cleaning campaign: run it with "
                          f"`trunkline dialer clean run --campaign {name}`")
    stored = {k: v for k, v in store.campaign_config(name).items()
              if k not in RUNNER_SETTINGS}
    stored.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(CampaignConfig)} - {"name"}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ConfigError(f"campaign {name!r}: unknown settings {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    if "start" not in stored:
        stored["start"] = store.campaign_created_at(name)
    if "day_offset" not in stored:
        zone = ZoneInfo(store.strategy(name).time_zone)
        offset = datetime.now(zone).utcoffset()
        stored["day_offset"] = offset.total_seconds() if offset is not None else 0.0
    try:
        config = CampaignConfig(name, **stored)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"campaign {name!r}: {err}") from err
    if not config.mode.automatic:
        raise ConfigError(f"campaign {name!r}: mode {config.mode} needs agents at a screen; "
                          "the runner drives progressive, power, precise, predictive and "
                          "vicidial campaigns")
    return config


class CampaignRunner:
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
    one ``abandon_tone`` is played for ``abandon_seconds``. ``amd_timeout``: a call
    answered that AMD has not classified after this long is taken as a person.
    """

    def __init__(self, store: Store, campaign: str | Sequence[str], gateway: GatewayPort, *,
                 config: CampaignConfig | Sequence[CampaignConfig] | None = None,
                 agents: Sequence[int] | None = None,
                 group: str = "outbound", agent_number: str = "agent", wrap_up: float = 5.0,
                 abandon_file: str | None = None, abandon_tone: str = "info",
                 abandon_seconds: float = 3.0, amd_timeout: float = 6.0,
                 home_country: str = "86", progress: Callable[[str], None] | None = None,
                 progress_every: float = 60.0, engine_log: Any = None) -> None:
        self.store = store
        self.campaigns = [campaign] if isinstance(campaign, str) else list(campaign)
        if not self.campaigns or len(set(self.campaigns)) != len(self.campaigns):
            raise ConfigError("give one or more campaigns, each once")
        self.campaign = self.campaigns[0]   # the first (single-campaign callers)
        self.gateway = gateway
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
        self.agent_channels = list(agents) if agents else gateway.group("agents")
        if not self.agent_channels:
            raise ConfigError("no agent positions: give --agents or an 'agents' group")
        self.group = group
        self.agent_number = agent_number
        self.wrap_up = wrap_up
        self.abandon_file = abandon_file
        self.abandon_tone = abandon_tone
        self.abandon_seconds = abandon_seconds
        self.amd_timeout = amd_timeout
        self.home_country = home_country
        self.progress = progress
        self.progress_every = progress_every
        self.contacts = _Contacts(store, window_of=self.window_of)
        self.engine = Engine(self.configs.values(), self.contacts, log=engine_log)
        self.legs: dict[int, _Leg] = {}              # gateway call id -> leg (in progress)
        self.customers: dict[int, _Leg] = {}         # engine call id -> leg
        self.agent_legs: dict[str, _Leg] = {}        # agent id -> held leg
        self.connections: list[Connection] = []
        #: ``(gateway call, live answer at, abandoned at)`` of every abandoned call
        self.abandons: list[tuple[int, float | None, float]] = []
        self._connected: dict[int, Connection] = {}            # engine call id -> bridge
        self._wrapping: dict[str, tuple[int, float]] = {}      # agent -> (attempt, since)
        self.outcomes: Counter[str] = Counter()
        self.refused = 0
        self.messages_left = 0
        self.gateway_errors: list[str] = []
        self._timers: list[tuple[float, int, str, Any]] = []
        self._seq = itertools.count()
        self._started: float | None = None
        self._next_progress = 0.0
        self._stop_requested = False

    # -- public ----------------------------------------------------------------------------

    def window_of(self, name: str, t: float) -> int:
        """``name``'s regulated abandon window at ``t``."""
        cfg = self.configs[name]
        return window_index(cfg.regime, t, start=cfg.start, day_offset=cfg.day_offset)

    def start(self) -> None:
        """Settle attempts left by a previous run, restore the abandon window, ring agents."""
        now = self.gateway.now()
        self._started = now
        self._next_progress = now + self.progress_every
        counts = self._settle_previous(now)
        if any(counts.values()):
            log.info("runner_reconciled", campaigns=self.campaigns, **counts)
        for name in self.campaigns:
            self.store.restore_ledger(self.engine.ledger(name), name,
                                      self.window_of(name, now))
        self.store.close_stale_sessions(self.campaigns, now)  # left open by a crash
        for ch in self.agent_channels:
            agent = f"agent-{ch}"
            try:
                gw = self.gateway.originate(self.agent_number, channel=ch, ring_timeout=60.0)
            except RpcError as err:
                self._gateway_error(f"cannot ring agent position {ch}: {err}")
                continue
            leg = _Leg(gw, "agent", self.agent_number, agent=agent, channel=ch, placed=now)
            self.legs[gw] = leg
            self.agent_legs[agent] = leg

    def _settle_previous(self, now: float) -> dict[str, int]:
        """Attempts of these campaigns left open by a previous run (a crash).

        What :meth:`Store.reconcile` does, for these campaigns only (``reconcile`` and
        ``recover`` take every campaign's open attempts, and other campaigns may be
        running from the same database): ``claimed`` ones were never sent and are
        released; ``dialing`` ones cannot be adopted: a call of ours still up on the
        gateway (same id and number) is cleared, and each is recorded as ``error``, so
        the contact waits for the strategy's error delay.
        """
        return settle_open_attempts(self.store, self.gateway, set(self.configs),
                                    self.dial_string,
                                    lambda attempt: self.store.record_lost(attempt, now), now)

    def run(self, *, seconds: float | None = None, drain: float = 600.0,
            on_step: Callable[[float], None] | None = None) -> RunSummary:
        """Run until the list is finished or ``seconds`` have passed, then end the shift:
        no new dials, calls in flight finish (at most ``drain`` seconds), agents hang up.
        ``on_step(now)`` runs after every step (a live display)."""
        if self._started is None:
            self.start()
        assert self._started is not None
        until = math.inf if seconds is None else self._started + seconds
        finished = False
        while not self._stop_requested:
            now = self.step(until)
            if on_step is not None:
                on_step(now)
            if now >= until:
                break
            if self._list_finished():
                finished = True
                break
        self.contacts.closed = True
        end = self.gateway.now() + drain
        while self._in_flight() and self.gateway.now() < end:
            now = self.step(end)
            if on_step is not None:
                on_step(now)
        self._shutdown()
        return self.summary(finished=finished or self._list_finished())

    def request_stop(self) -> None:
        """End the shift early (a signal handler may call it): no new dials, calls in
        flight finish, then the agents are released, as at the end of ``seconds``."""
        self._stop_requested = True

    def step(self, until: float = math.inf) -> float:
        """One turn: wait for gateway events (or the next deadline), handle them, tick."""
        now = self.gateway.now()
        deadline = min(until, now + 1.0)
        engine_next = self.engine.next_deadline()
        if engine_next is not None:
            deadline = min(deadline, engine_next)
        if self._timers:
            deadline = min(deadline, self._timers[0][0])
        events = self.gateway.wait(deadline)
        now = self.gateway.now()
        for event in events:
            self._on_gateway_event(event, now)
        self._run_timers(now)
        self._handle(ev.Tick(), now)
        if self.progress is not None and now >= self._next_progress:
            self._next_progress = now + self.progress_every
            self.progress(self.progress_line(now))
        return now

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
            finished=finished, messages_left=self.messages_left, by_campaign=by_campaign)

    # -- engine side -----------------------------------------------------------------------

    def _handle(self, event: ev.Event, now: float) -> None:
        """Feed ``event`` (and what follows from it) to the engine; persist, then act."""
        queue: deque[ev.Event] = deque([event])
        while queue:
            item = queue.popleft()
            try:
                actions = self.engine.handle(item, now)
            except DialerError as err:
                log.warning("runner_event_refused", event=repr(item), error=str(err))
                continue
            refused = self.contacts.persist(actions, now)   # durable before acted on
            for action in actions:
                self._act(action, now, refused, queue)

    def _act(self, action: Action, now: float, refused: set[int],
             queue: deque[ev.Event]) -> None:
        if isinstance(action, Dial):
            self._dial(action, now, refused, queue)
        elif isinstance(action, Connect):
            self._connect(action, now)
        elif isinstance(action, Abandon):
            self._abandon(action, now)
        elif isinstance(action, HangUp):
            leg = self.customers.get(action.call_id)
            if leg is not None and not self._leave_message(leg, now):
                self._hangup(leg)
        elif isinstance(action, RecordOutcome):
            self.outcomes[str(action.outcome)] += 1
            leg = self.customers.get(action.call_id)
            connection = self._connected.pop(action.call_id, None)
            if connection is not None and leg is not None and leg.attempt is not None:
                # who talked, and how long, for the reports (the outcome is committed)
                self.store.set_talk(leg.attempt, connection.agent,
                                    round(now - connection.bridged_at, 3))
                self._wrapping[connection.agent] = (leg.attempt, now)
            if leg is not None and leg.gw not in self.legs:
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
        try:
            gw = self.gateway.originate(number, group=self.group,
                                        ring_timeout=action.ring_timeout)
        except RpcError as err:
            self._gateway_error(f"cannot dial {number}: {err}")
            outcome = CallOutcome.CONGESTION if err.name == "conflict" else CallOutcome.ERROR
            queue.append(ev.CallFailed(action.call_id, outcome))
            return
        leg = _Leg(gw, "customer", number, campaign=action.campaign, call_id=action.call_id,
                   placed=now)
        self.legs[gw] = leg
        self.customers[action.call_id] = leg
        claim = self.contacts.claim(action.call_id)
        if claim is not None:
            leg.attempt = claim.attempt
            self.store.set_call_ref(claim.attempt, str(gw))

    def dial_string(self, e164: str) -> str:
        """What to send to the gateway for a stored (E.164) number."""
        try:
            return normalise(e164).dial_string(self.home_country)
        except InvalidNumber:
            return e164.lstrip("+")

    def _connect(self, action: Connect, now: float) -> None:
        leg = self.customers.get(action.call_id)
        agent_leg = self.agent_legs.get(action.agent)
        if leg is None or agent_leg is None:
            self._gateway_error(f"cannot connect call {action.call_id} to {action.agent}: "
                                "no such leg")
            return
        try:
            self.gateway.bridge(leg.gw, agent_leg.gw)
        except RpcError as err:  # the customer (or the agent) hung up meanwhile
            self._gateway_error(f"cannot bridge call {leg.gw} to agent {action.agent} "
                                f"(call {agent_leg.gw}): {err}")
            return
        connection = Connection(
            action.call_id, leg.gw, action.agent, agent_leg.gw, leg.number, leg.answered_at,
            leg.live_at if leg.live_at is not None else now, now)
        self.connections.append(connection)
        self._connected[action.call_id] = connection

    def _abandon(self, action: Abandon, now: float) -> None:
        leg = self.customers.get(action.call_id)
        if leg is None:
            return
        leg.abandoned = True
        self.abandons.append((leg.gw, leg.live_at, now))
        try:
            if self.abandon_file:
                self.gateway.play(leg.gw, file=self.abandon_file)
                self._schedule(now + 60.0, "hangup", leg.gw)  # play.finished hangs up first
            else:
                self.gateway.play(leg.gw, tone=self.abandon_tone)
                self._schedule(now + self.abandon_seconds, "hangup", leg.gw)
        except RpcError as err:
            self._gateway_error(f"cannot play the abandon message to call {leg.gw}: {err}")
            self._hangup(leg)

    def _leave_message(self, leg: _Leg, now: float) -> bool:
        """A machine, in a campaign that leaves messages: play it after the beep.

        The message waits for ``machine_message_wait`` seconds of quiet (the greeting
        and the beep over), then plays; the call is released when it ends. Returns
        False when there is no message to leave (the caller hangs up)."""
        settings = self.settings.get(leg.campaign)
        if settings is None or not settings.machine_message \
                or leg.classified != str(AnswerKind.MACHINE) or leg.message is not None:
            return False
        try:
            self.gateway.play(leg.gw, file=settings.machine_message,
                              wait_silence=settings.machine_message_wait)
        except RpcError as err:
            self._gateway_error(f"cannot leave the machine message on call {leg.gw}: {err}")
            return False
        leg.message = "waiting"
        self._schedule(now + MESSAGE_LIMIT, "hangup", leg.gw)  # a stuck play ends too
        return True

    def _message_note(self, leg: _Leg, note: str) -> None:
        if leg.attempt is not None:
            self.store.set_note(leg.attempt, note)

    def _hangup(self, leg: _Leg) -> None:
        if leg.gw not in self.legs:
            return
        try:
            self.gateway.hangup(leg.gw)
        except RpcError as err:
            if err.name != "not_found":
                self._gateway_error(f"cannot hang up call {leg.gw}: {err}")

    # -- gateway side ----------------------------------------------------------------------

    def _on_gateway_event(self, event: dict[str, Any], now: float) -> None:
        leg = self.legs.get(event.get("call"))  # type: ignore[arg-type]
        if leg is None:
            return
        if leg.kind == "agent":
            self._on_agent_event(leg, event, now)
            return
        kind = event.get("event")
        call = self.engine.calls.get(leg.call_id) if leg.call_id is not None else None
        dialing = call is not None and call.state is CallState.DIALING
        if kind == "call.state":
            state = event.get("state")
            if state == "ringing" and dialing and not leg.ringing and leg.released is None:
                leg.ringing = True
                self._handle(ev.CallRinging(leg.call_id), now)
            elif state == "answered" and leg.answered_at is None:
                leg.answered_at = now
                self._schedule(now + self.amd_timeout, "amd", leg.gw)
            elif state == "hungup":
                self._customer_ended(leg, event, now)
        elif kind == "amd":
            self._classified(leg, str(event.get("result")), now)
        elif kind == "announcement":
            if dialing and leg.answered_at is None and leg.released is None:
                outcome = ANNOUNCEMENT_OUTCOME.get(str(event.get("kind")), "unreachable")
                leg.released = outcome
                self._hangup(leg)
                self._handle(ev.CallFailed(leg.call_id, CallOutcome(outcome)), now)
        elif kind == "play.started" and leg.message == "waiting":
            leg.message = "playing"
        elif kind == "play.finished" and leg.message == "playing" \
                and event.get("reason") == "done":
            leg.message = "left"
            self.messages_left += 1
            self._message_note(leg, "machine message left")
            self._hangup(leg)
        elif kind == "play.finished" and leg.abandoned and event.get("reason") == "done":
            self._hangup(leg)

    def _classified(self, leg: _Leg, result: str, now: float) -> None:
        if leg.classified is not None or leg.released is not None:
            return
        call = self.engine.calls.get(leg.call_id) if leg.call_id is not None else None
        if call is None or call.state is not CallState.DIALING:
            return
        kind = AnswerKind.HUMAN if result in ("human", "notsure") else AnswerKind(result)
        leg.classified = str(kind)
        claim = self.contacts.claim(leg.call_id)
        if claim is not None:  # counted in the abandon window at once, durably
            self.store.mark_answered(claim.attempt, str(kind), now,
                                     window=self.window_of(leg.campaign, now))
        if kind is AnswerKind.HUMAN:
            leg.live_at = now
        self._handle(ev.CallAnswered(leg.call_id, kind), now)

    def _customer_ended(self, leg: _Leg, event: dict[str, Any], now: float) -> None:
        del self.legs[leg.gw]
        if leg.message in ("waiting", "playing"):  # the machine hung up first
            self._message_note(leg, "machine message cut off" if leg.message == "playing"
                               else "machine hung up before the message")
        call = self.engine.calls.get(leg.call_id) if leg.call_id is not None else None
        if call is None:  # the engine finished it (released, abandoned, machine...)
            self.customers.pop(leg.call_id, None)  # type: ignore[arg-type]
            return
        if call.state is CallState.DIALING:
            outcome = str(event.get("outcome") or "error")
            if outcome in FAILURE_OUTCOMES:
                self._handle(ev.CallFailed(leg.call_id, CallOutcome(outcome)), now)
            elif outcome in ("machine", "fax"):
                self._classified(leg, outcome, now)
            else:  # answered and gone before AMD decided: recorded as error
                self._handle(ev.CallHungUp(leg.call_id), now)
            return
        agent = call.agent
        self._handle(ev.CallHungUp(leg.call_id), now)
        if agent is not None:
            state = self.engine.agents.get(agent)
            if state is not None and state.state is AgentState.WRAP_UP:
                self._schedule(now + self.wrap_up, "wrap", agent)

    def _on_agent_event(self, leg: _Leg, event: dict[str, Any], now: float) -> None:
        if event.get("event") != "call.state":
            return
        state = event.get("state")
        agent = leg.agent
        assert agent is not None
        if state == "answered" and not leg.logged_in and not leg.gone:
            leg.logged_in = True
            self._handle(ev.AgentLoggedIn(agent, self._levels(leg)), now)
            if agent in self.engine.agents:
                leg.session = self.store.open_agent_session(agent, self.campaigns, now)
            self._handle(ev.AgentReady(agent), now)
        elif state == "hungup":
            del self.legs[leg.gw]
            leg.gone = True
            if not leg.logged_in:
                self._gateway_error(f"agent position {leg.channel} did not answer "
                                    f"({event.get('outcome')})")
                return
            current = self.engine.agents.get(agent)
            if current is not None and current.state is AgentState.TALKING \
                    and current.call_id in self.customers:
                self._hangup(self.customers[current.call_id])  # the customer goes too
            self._try_logout(agent, now)

    def _levels(self, leg: _Leg) -> tuple[tuple[str, str], ...]:
        """The campaigns an agent position logs in to: at home (``standard``) in one,
        round-robin over the positions, and ``overflow`` in the others."""
        index = self.agent_channels.index(leg.channel) if leg.channel is not None else 0
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
            leg = self.agent_legs.get(agent)
            if agent not in self.engine.agents and leg is not None and leg.session is not None:
                self.store.close_agent_session(leg.session, now)
                leg.session = None

    # -- timers ----------------------------------------------------------------------------

    def _schedule(self, when: float, kind: str, key: Any) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), kind, key))

    def _run_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, key = heapq.heappop(self._timers)
            if kind == "hangup":
                leg = self.legs.get(key)
                if leg is not None:
                    self._hangup(leg)
            elif kind == "amd":
                leg = self.legs.get(key)
                if leg is not None and leg.classified is None:
                    self._classified(leg, "human", now)  # AMD never decided: a person
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

    # -- ending ----------------------------------------------------------------------------

    def _in_flight(self) -> bool:
        return bool(self.engine.calls) or any(leg.kind == "customer"
                                              for leg in self.legs.values())

    def _list_finished(self) -> bool:
        """Nothing in flight and no contact of the campaign left to call."""
        return not self._in_flight() and self.store.open_contacts(self.campaigns) == 0

    def _shutdown(self) -> None:
        """End of shift: clear what is still up (customers first), log the agents out."""
        for leg in [leg for leg in self.legs.values() if leg.kind == "customer"]:
            self._hangup(leg)
        end = self.gateway.now() + 5.0
        while any(leg.kind == "customer" for leg in self.legs.values()) \
                and self.gateway.now() < end:
            self.step(end)
        for leg in list(self.agent_legs.values()):
            if leg.gw in self.legs:
                self._hangup(leg)
        end = self.gateway.now() + 2.0
        while self.legs and self.gateway.now() < end:
            now = self.gateway.now()
            for event in self.gateway.wait(end):
                self._on_gateway_event(event, now)

    def _gateway_error(self, message: str) -> None:
        self.gateway_errors.append(message)
        log.warning("runner_gateway_error", campaigns=self.campaigns, error=message)


def run_campaign(store: Store, campaign: str, gateway: GatewayPort, *,
                 seconds: float | None = None, **options: Any) -> RunSummary:
    """Convenience: build a :class:`CampaignRunner`, run it, return its summary."""
    runner = CampaignRunner(store, campaign, gateway, **options)
    return runner.run(seconds=seconds)


__all__ = [
    "ANNOUNCEMENT_OUTCOME",
    "CampaignRunner",
    "Connection",
    "GatewayPort",
    "InProcessGateway",
    "LiveGateway",
    "RunSummary",
    "campaign_config",
    "run_campaign",
    "settle_open_attempts",
]
