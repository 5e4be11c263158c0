"""The service host: campaigns run on gateways from threads of their own, controlled at
run time, with their events fanned out into asyncio (issue 17).

The runner (:class:`~trunkline.dialer.runner.campaign_runner.CampaignRunner`) is
synchronous: it waits on its gateway and handles what comes. The host gives each gateway
one **worker thread** that owns the gateway port, its own store connection and, while a
campaign runs there, its runner. Everything else reaches a worker through its **inbox**
(a thread-safe queue of callables, run on the worker thread between two runner steps,
each answering through a :class:`concurrent.futures.Future`), so the runner, the store
connection and the gateway port are only ever touched from one thread.

Events (``{"type": ..., ...}`` dicts) are published from any thread with
:meth:`ServiceHost.publish` and delivered on the asyncio loop to every
:class:`Subscription` (the WebSocket), which decides per user what it may see
(:func:`visible_to`).

What the current runner allows, honestly:

- **start**: a campaign starts on a gateway with no campaign running; the runner then
  settles what a previous run left open (the store's crash guarantees), rings the agent
  positions and dials. A second campaign on a busy gateway is refused
  (:class:`HostConflict`), unless the runner offers ``start_campaign(name)`` (run-time
  campaign control, being added to the runner).
- **stop**: no new calls; the calls in flight finish (at most :attr:`ServiceHost.drain`
  seconds); then the runner's summary is published.
- **pause / resume**: through the runner's ``submit(CampaignControl(name, action))``
  (:class:`~trunkline.dialer.runner.desk_runner.DeskRunner`: no new dials while paused,
  agents stay logged in); a runner without it is refused with :class:`HostUnsupported`.
- **desk commands** (:mod:`trunkline.dialer.desk.commands`): handed to the ``submit``
  of the runner that has the agent (its login named a campaign of that runner); the
  runner applies them at its next step and its desk's events (state changes, screen
  pops, refusals naming the field...) come back through the ``sink`` the factory gave it
  and are published as ``desk.<type>`` events addressed to the agent.

A command waits for the worker's next turn: a runner step waits for gateway events at
most :data:`STEP` seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import structlog

from trunkline.dialer.errors import DialerError
from trunkline.dialer.store import Store

T = TypeVar("T")
log = structlog.get_logger("trunkline.dialer.service")

#: The longest a runner step waits for gateway events before the inbox is read again.
STEP = 0.2
#: Events a slow subscriber may fall behind by before the oldest are dropped.
QUEUE_LIMIT = 1000
#: The states in which a runner owns its campaign: it cannot be started again, archived
#: or have its list removed until it is idle.
RUNNER_OWNS = frozenset({"starting", "running", "paused", "stopping"})


class HostError(DialerError):
    """A request the host cannot carry out as asked."""


class HostConflict(HostError):
    """The request does not fit what runs now (the campaign already runs, the gateway is
    busy, the campaign is not running)."""


class HostUnsupported(HostError):
    """The runner cannot do this at run time (yet); the message says what to do instead."""


class Runner(Protocol):
    """What the host needs of a runner (the campaign runner provides it)."""

    campaigns: list[str]

    def start(self) -> None: ...

    def run(self, *, seconds: float | None = None, drain: float | None = None,
            on_step: Callable[[float], None] | None = None) -> Any: ...

    def request_stop(self) -> None: ...

    def totals(self) -> dict[str, int]: ...


#: Builds a runner: ``(store, campaigns, gateway, progress, sink) -> runner``;
#: ``progress(line)`` takes its progress lines, ``sink(event)`` its desk events.
RunnerFactory = Callable[[Store, list[str], Any, Callable[[str], None],
                          Callable[[Any], None]], Runner]


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    """A gateway the host runs campaigns on: a name (shown to users) and how to open its
    port (on the worker thread; returns the port and a function that closes it)."""

    name: str
    open: Callable[[], tuple[Any, Callable[[], None]]]


@dataclass(slots=True)
class CampaignStatus:
    """What the host knows of one campaign (the API's campaign status)."""

    name: str
    state: str = "idle"                  # idle | starting | running | stopping | paused
    gateway: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    ended_how: str | None = None          # finished | stopped | error
    progress: str | None = None
    totals: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "gateway": self.gateway,
                "started_at": self.started_at, "ended_at": self.ended_at,
                "ended_how": self.ended_how, "progress": self.progress,
                "totals": dict(self.totals), "summary": self.summary, "error": self.error}


def visible_to(event: Mapping[str, Any], name: str, role: str) -> bool:
    """Whether user ``name`` with ``role`` may see ``event``: supervisors and admins see
    everything; an agent only events addressed to it (``"agent": name``), never campaign
    or gateway events (they carry other agents' work)."""
    if role in ("supervisor", "admin"):
        return True
    return event.get("agent") == name


class Subscription:
    """One subscriber's events, on the asyncio loop (a WebSocket's feed). When the
    subscriber falls :data:`QUEUE_LIMIT` events behind, the oldest are dropped and the
    next event read is ``{"type": "lagged", "dropped": n}``: refresh with a snapshot."""

    def __init__(self, host: ServiceHost, name: str, role: str) -> None:
        self.host, self.name, self.role = host, name, role
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._dropped = 0

    def _offer(self, event: dict[str, Any]) -> None:
        if not visible_to(event, self.name, self.role):
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._queue.get_nowait()
            self._dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> dict[str, Any]:
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            return {"type": "lagged", "dropped": dropped}
        return await self._queue.get()

    def close(self) -> None:
        self.host._subscribers.discard(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Worker:
    """One gateway's thread: its port, its store connection, its runner (see the module
    docstring)."""

    def __init__(self, host: ServiceHost, spec: GatewaySpec) -> None:
        self.host, self.spec = host, spec
        self.inbox: queue.Queue[tuple[Callable[[_Worker], Any],
                                      concurrent.futures.Future[Any]]] = queue.Queue()
        self.runner: Runner | None = None
        self.gateway: Any = None
        self.store: Store | None = None
        self.error: str | None = None
        self._close_gateway: Callable[[], None] | None = None
        self._quit = False
        self.thread = threading.Thread(target=self._main, daemon=True,
                                       name=f"trunkline-runner-{spec.name}")

    def submit(self, fn: Callable[[_Worker], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        if self.thread.ident is not None and not self.thread.is_alive():
            why = "the service is shutting down" if self._quit else (
                f"its thread ended: {self.error}" if self.error else "its thread ended")
            future.set_exception(HostConflict(f"gateway {self.spec.name}: {why}"))
            return future
        self.inbox.put((fn, future))
        return future

    def open_gateway(self) -> Any:
        if self.gateway is None:
            try:
                self.gateway, self._close_gateway = self.spec.open()
            except Exception as err:
                self.error = f"cannot open gateway {self.spec.name}: {err}"
                raise HostConflict(self.error) from err
            self.error = None
        return self.gateway

    def _main(self) -> None:
        try:
            self.store = Store(self.host.store_path)
        except Exception as err:
            self.error = str(err)
            self._fail_inbox(err)
            return
        try:
            while not self._quit:
                try:
                    item = self.inbox.get(timeout=0.5)
                except queue.Empty:
                    self.host._watch(self, None)  # no runner: the watchers still see it
                    continue
                self._do(item)
                self.host._watch(self, None)
                if self.runner is not None:
                    self._shift(self.runner)
        finally:
            self._fail_inbox(HostConflict("the service is shutting down"))
            if self._close_gateway is not None:
                with contextlib.suppress(Exception):
                    self._close_gateway()
            self.store.close()

    def _do(self, item: tuple[Callable[[_Worker], Any],
                              concurrent.futures.Future[Any]]) -> None:
        fn, future = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(self))
        except BaseException as err:  # handed to the caller
            future.set_exception(err)

    def _drain_inbox(self, now: float) -> None:
        self.host._watch(self, None)  # after the step, before the commands
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            self._do(item)

    def _fail_inbox(self, err: BaseException) -> None:
        while True:
            try:
                _, future = self.inbox.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(err)

    def _shift(self, runner: Runner) -> None:
        """Run ``runner`` until its list is finished or it is stopped; the inbox is read
        after every step."""
        how, summary, error = "finished", None, None
        try:
            result = runner.run(drain=self.host.drain, on_step=self._drain_inbox)
            summary = result.as_dict() if hasattr(result, "as_dict") else None
            if not getattr(result, "finished", True):
                how = "stopped"
        except Exception as err:
            how, error = "error", f"{type(err).__name__}: {err}"
            log.exception("service_runner_failed", gateway=self.spec.name)
        finally:
            self.runner = None
        self.host._ended(list(runner.campaigns), how, summary, error)


class ServiceHost:
    """Campaigns on gateways, controlled at run time (see the module docstring).

    ``store_path`` is the campaign database (each worker opens its own connection);
    ``gateways`` the gateways to run on; ``runner_factory`` builds a runner for a
    campaign on a gateway. ``clock`` stamps events (epoch seconds). Call :meth:`start`
    from the asyncio loop that will read the events, :meth:`stop` to end.
    """

    def __init__(self, store_path: str, gateways: Sequence[GatewaySpec],
                 runner_factory: RunnerFactory, *, clock: Callable[[], float] = time.time,
                 drain: float = 120.0) -> None:
        if not gateways:
            raise HostError("the service needs at least one gateway")
        names = [g.name for g in gateways]
        if len(set(names)) != len(names):
            raise HostError(f"gateways named twice: {names}")
        self.store_path = store_path
        self.runner_factory = runner_factory
        self.clock = clock
        self.drain = drain
        self.workers = {g.name: _Worker(self, g) for g in gateways}
        self._status: dict[str, CampaignStatus] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[Subscription] = set()
        self._agents: dict[str, str] = {}  # agent -> the gateway whose runner has it
        self._store: Store | None = None   # the host's own connection, for reads
        #: ``watch(gateway, runner, port, event)`` on a worker's thread after each runner
        #: step, inbox item or idle half second (``event`` None), and for each desk event
        #: its runner emits mid-step: the live floor's snapshots (floor_snapshots.py).
        #: Quick, and never to block: a runner step waits for them.
        self.watchers: list[Callable[[str, Any, Any, Any], None]] = []

    # -- life ------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the worker threads; events go to ``loop`` (default: the running one)."""
        self._loop = loop or asyncio.get_running_loop()
        for worker in self.workers.values():
            worker.thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop every campaign (calls in flight finish, within :attr:`drain`), close the
        gateways, join the threads. Blocking: call it off the loop."""
        for worker in self.workers.values():
            worker.submit(_quit)
        limit = (self.drain + 30.0) if timeout is None else timeout
        for worker in self.workers.values():
            if worker.thread.is_alive():
                worker.thread.join(limit)
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # -- commands (any thread; await them on the loop) -------------------------------------

    async def start_campaign(self, name: str, gateway: str | None = None) -> dict[str, Any]:
        """Start campaign ``name`` on ``gateway`` (default: the first without a
        campaign). :class:`HostConflict` if it runs already, is archived or no gateway is
        free. No await before the status is set: an archive request (on the loop too)
        sees it starting, or this sees it archived."""
        if self._reads().campaign_archived(name):  # StoreError if unknown
            raise HostConflict(f"campaign {name!r} is archived: restore it first")
        with self._lock:
            status = self._status.get(name)
            if status is not None and status.state in RUNNER_OWNS:
                raise HostConflict(f"campaign {name!r} is {status.state} on gateway "
                                   f"{status.gateway}")
            worker = self._pick(gateway)
            self._status[name] = CampaignStatus(name, "starting", worker.spec.name)
        try:
            await asyncio.wrap_future(worker.submit(lambda w: self._start_on(w, name)))
        except BaseException as err:
            with self._lock:
                self._status[name] = CampaignStatus(name, "idle", error=str(err))
            raise
        self.publish({"type": "campaign.started", "campaign": name,
                      "gateway": worker.spec.name})
        return self.campaign(name)

    async def stop_campaign(self, name: str) -> dict[str, Any]:
        """Stop ``name``: no new calls; calls in flight finish. Returns at once (state
        ``stopping``); ``campaign.stopped`` is published when the runner has ended."""
        worker = self._running_on(name)
        await asyncio.wrap_future(worker.submit(lambda w: self._stop_on(w, name)))
        return self.campaign(name)

    async def pause_campaign(self, name: str) -> dict[str, Any]:
        """Pause ``name`` (no new calls, agents stay logged in), if the runner can."""
        worker = self._running_on(name)
        await asyncio.wrap_future(worker.submit(
            lambda w: self._control_on(w, name, "pause", "paused")))
        return self.campaign(name)

    async def resume_campaign(self, name: str) -> dict[str, Any]:
        worker = self._running_on(name, paused=True)
        await asyncio.wrap_future(worker.submit(
            lambda w: self._control_on(w, name, "resume", "running")))
        return self.campaign(name)

    def desk_command(self, command: Any) -> None:
        """Queue an agent's desk command with the runner that has the agent (any
        thread; the runner's ``submit`` is thread-safe). A login goes to the runner of
        its first campaign. :class:`HostConflict` when no running campaign can take it;
        what the desk makes of it comes back as ``desk.*`` events."""
        agent = command.agent
        campaigns = [pair[0] for pair in getattr(command, "campaigns", ())]
        with self._lock:
            if campaigns:
                status = self._status.get(campaigns[0])
                if status is None or status.state not in ("running", "paused"):
                    state = status.state if status else "idle"
                    raise HostConflict(f"campaign {campaigns[0]!r} is {state}: a supervisor "
                                       "starts it first")
                gateway = status.gateway
            else:
                gateway = self._agents.get(agent)
                if gateway is None:
                    raise HostConflict(f"agent {agent!r} is not logged in to a running "
                                       "campaign: log in first")
            assert gateway is not None
            runner = self.workers[gateway].runner
            submit = getattr(runner, "submit", None)
            if submit is None:
                raise HostUnsupported(f"the runner on gateway {gateway} has no agent desk")
            if campaigns:
                self._agents[agent] = gateway
        submit(command)

    def agent_at_desk(self, agent: str) -> bool:
        """Whether ``agent`` logged in to a desk of a running campaign (as far as the
        host routed its login)."""
        with self._lock:
            return agent in self._agents

    async def desk_seats(self) -> list[dict[str, Any]]:
        """Every logged-in agent's desk, from each runner that has a desk (read on the
        runners' threads)."""
        seats: list[dict[str, Any]] = []
        for worker in self.workers.values():
            if worker.runner is not None and hasattr(worker.runner, "snapshot"):
                seats += await asyncio.wrap_future(worker.submit(_seats))
        return seats

    async def on_worker(self, gateway: str, fn: Callable[[Any, Any, Store], T], *,
                        open_port: bool = True) -> T:
        """Run ``fn(runner, port, store)`` on ``gateway``'s worker thread, between two
        runner steps (``runner`` None when no campaign runs there; the port is opened if
        it was not, unless ``open_port`` is false: then it is None until a campaign
        opened it): what the supervisor's console does to a gateway's calls and a
        running engine goes through here. :class:`HostConflict` for an unknown gateway."""
        worker = self.workers.get(gateway)
        if worker is None:
            raise HostConflict(f"no gateway {gateway!r} (gateways: {', '.join(self.workers)})")

        def call(w: _Worker) -> T:
            assert w.store is not None
            return fn(w.runner, w.open_gateway() if open_port else w.gateway, w.store)
        return await asyncio.wrap_future(worker.submit(call))

    def gateway_of(self, *, campaign: str | None = None, agent: str | None = None
                   ) -> str | None:
        """The gateway running ``campaign`` (running or paused), or whose runner has
        ``agent`` at its desk; None when there is none."""
        with self._lock:
            if agent is not None:
                return self._agents.get(agent)
            status = self._status.get(campaign or "")
            if status is None or status.state not in ("running", "paused", "stopping"):
                return None
            return status.gateway

    # -- reads (any thread) ----------------------------------------------------------------

    def campaign(self, name: str) -> dict[str, Any]:
        """The status of campaign ``name`` (``idle`` if it never ran here)."""
        self._known(name)
        with self._lock:
            return (self._status.get(name) or CampaignStatus(name)).as_dict()

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign of the store not archived, with its status."""
        names = self._reads().active_campaigns()
        with self._lock:
            return [(self._status.get(n) or CampaignStatus(n)).as_dict() for n in names]

    def statuses(self) -> dict[str, dict[str, Any]]:
        """The status of every campaign that ran or runs here, by name, without reading
        the store (the live floor, which must not wait)."""
        with self._lock:
            return {n: s.as_dict() for n, s in self._status.items()}

    def snapshot(self) -> dict[str, Any]:
        """Gateways and campaigns as the host sees them now."""
        with self._lock:
            running = {s.gateway: s.name for s in self._status.values()
                       if s.state not in ("idle",) and s.gateway}
        gateways = [{"name": w.spec.name, "alive": w.thread.is_alive(), "error": w.error,
                     "campaign": running.get(w.spec.name)} for w in self.workers.values()]
        return {"gateways": gateways, "campaigns": self.campaigns()}

    # -- events ----------------------------------------------------------------------------

    def subscribe(self, name: str, role: str) -> Subscription:
        """A feed of the events user ``name`` with ``role`` may see (on the loop)."""
        sub = Subscription(self, name, role)
        self._subscribers.add(sub)
        return sub

    def publish(self, event: Mapping[str, Any]) -> None:
        """Send ``event`` to the subscribers (from any thread); it is stamped ``ts``."""
        stamped = {"ts": self.clock(), **event}
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._deliver, stamped)

    def _deliver(self, event: dict[str, Any]) -> None:
        for sub in list(self._subscribers):
            sub._offer(event)

    # -- on the worker threads -------------------------------------------------------------

    def _start_on(self, worker: _Worker, name: str) -> None:
        runner = worker.runner
        if runner is not None:
            if not hasattr(runner, "start_campaign"):
                raise HostConflict(
                    f"gateway {worker.spec.name} runs campaign "
                    f"{', '.join(runner.campaigns)}; this runner cannot add a campaign "
                    "while it runs: stop it first, or start on another gateway")
            runner.start_campaign(name)
        else:
            assert worker.store is not None
            gateway = worker.open_gateway()
            runner = self.runner_factory(worker.store, [name], gateway,
                                         lambda line: self._progress(name, line),
                                         lambda event: self._desk_event(event, worker))
            runner.start()  # settles what a previous run left open
            worker.runner = runner
        with self._lock:
            self._status[name] = CampaignStatus(name, "running", worker.spec.name,
                                                started_at=self.clock())

    def _stop_on(self, worker: _Worker, name: str) -> None:
        runner = worker.runner
        if runner is None or name not in runner.campaigns:
            raise HostConflict(f"campaign {name!r} is not running")
        if len(runner.campaigns) > 1 and hasattr(runner, "stop_campaign"):
            runner.stop_campaign(name)
        else:
            runner.request_stop()
        with self._lock:
            self._status[name].state = "stopping"
        self.publish({"type": "campaign.stopping", "campaign": name})

    def _control_on(self, worker: _Worker, name: str, action: str, state: str) -> None:
        runner = worker.runner
        if runner is None or name not in runner.campaigns:
            raise HostConflict(f"campaign {name!r} is not running")
        if not hasattr(runner, "submit"):
            raise HostUnsupported(
                f"this runner cannot {action} a campaign while it runs (it has no agent "
                "desk); stop the campaign instead: calls in flight finish")
        from trunkline.dialer.runner.desk_runner import CampaignControl

        runner.submit(CampaignControl(name, action))
        with self._lock:
            self._status[name].state = state
        self.publish({"type": f"campaign.{state}", "campaign": name})

    def _desk_event(self, event: Any, worker: _Worker | None = None) -> None:
        """A desk event from a runner (its thread): to the agent's screen as
        ``desk.<type>`` (and to supervisors), then to the :attr:`watchers`."""
        data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        data["type"] = f"desk.{data.get('type', 'event')}"
        self.publish(data)
        if worker is not None:
            self._watch(worker, event)

    def _watch(self, worker: _Worker, event: Any) -> None:
        """The :attr:`watchers` on ``worker``'s thread; one that fails is logged, the
        runner goes on."""
        for watch in list(self.watchers):
            try:
                watch(worker.spec.name, worker.runner, worker.gateway, event)
            except Exception:
                log.exception("service_watcher_failed", gateway=worker.spec.name)

    def _progress(self, name: str, line: str) -> None:
        with self._lock:
            status = self._status.get(name)
            if status is not None:
                status.progress = line
        self.publish({"type": "campaign.progress", "campaign": name, "line": line})

    def _ended(self, names: list[str], how: str, summary: dict[str, Any] | None,
               error: str | None) -> None:
        now = self.clock()
        with self._lock:
            gateways = {self._status[n].gateway for n in names if n in self._status}
            self._agents = {a: g for a, g in self._agents.items() if g not in gateways}
            for name in names:
                old = self._status.get(name) or CampaignStatus(name)
                self._status[name] = CampaignStatus(
                    name, "idle", old.gateway, started_at=old.started_at, ended_at=now,
                    ended_how=how, progress=old.progress, summary=summary, error=error)
        for name in names:
            self.publish({"type": f"campaign.{how}", "campaign": name, "summary": summary,
                          "error": error})

    # -- helpers ---------------------------------------------------------------------------

    def _reads(self) -> Store:
        """The host's connection for reads (any thread: the store serialises its use)."""
        with self._lock:
            if self._store is None:
                self._store = Store(self.store_path)
            return self._store

    def _known(self, name: str) -> None:
        self._reads().campaign_id(name)  # StoreError naming the known campaigns

    def _pick(self, gateway: str | None) -> _Worker:
        if gateway is not None:
            worker = self.workers.get(gateway)
            if worker is None:
                raise HostConflict(f"no gateway {gateway!r} (gateways: "
                                   f"{', '.join(self.workers)})")
            return worker
        busy = {s.gateway for s in self._status.values() if s.state != "idle"}
        for worker in self.workers.values():
            if worker.spec.name not in busy:
                return worker
        raise HostConflict("every gateway runs a campaign; stop one, or name a gateway "
                           "whose runner can add campaigns")

    def _running_on(self, name: str, *, paused: bool = False) -> _Worker:
        self._known(name)
        with self._lock:
            status = self._status.get(name)
            want = ("paused",) if paused else ("running", "paused")
            if status is None or status.state not in want or status.gateway is None:
                state = status.state if status else "idle"
                raise HostConflict(f"campaign {name!r} is {state}, not "
                                   f"{' or '.join(want)}")
            return self.workers[status.gateway]


def _seats(worker: _Worker) -> list[dict[str, Any]]:
    snapshot = getattr(worker.runner, "snapshot", None)
    return list(snapshot()) if snapshot is not None else []


def _quit(worker: _Worker) -> None:
    worker._quit = True
    if worker.runner is not None:
        worker.runner.request_stop()
