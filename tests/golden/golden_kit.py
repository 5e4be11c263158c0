"""Golden traces: what the gateway says on the wire for each number-plan behaviour.

A :class:`Scenario` is a small client script: requests at the start, reactions to events
(answer an offered call, bridge on a live answer, record from the answer...), and
network-side actions on the emulated card (ring an FXO line, offer a PRI call). A trace
is everything the client received: every event in order, and every reply.

:func:`record_socket` runs a scenario against the real :class:`GatewayService` over its
Unix socket, in virtual time, *in lockstep*: the media engine is held after every tick
that published an event until the client has read those events, sent its reactions,
and the service has queued them for the engine. Nothing then depends on how fast the
machine is, and a trace is the same every time.

:func:`record_virtual` runs the same script against the in-process
:class:`~trunkline.gateway.testing.VirtualGateway`, which ticks between the client's
steps just as the lockstep does: the two must agree exactly.

The traces of the code as it stood before the call layer was reshaped are kept in
``traces/``; the reshaped gateway must reproduce them exactly, over the socket and in
process. ``python tests/golden/record_goldens.py`` writes them anew (only when a change
of wire behaviour is intended, and said so in the commit).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.clock import VirtualClock
from trunkline.gateway.background import drain
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.service import GatewayService

HERE = Path(__file__).resolve().parent
TRACES = HERE / "traces"
PLAN = HERE / "network.toml"
CARD = HERE / "card.toml"
#: Card time before a scenario starts: the PRI D-channels come up.
WARMUP = 0.3


# -- scenarios ---------------------------------------------------------------------------

class Ctx:
    """What a scenario script may do: request, act on the network, finish."""

    def __init__(self, scratch: Path, card: Any, clock: VirtualClock) -> None:
        self.scratch = scratch
        self.card = card
        self.clock = clock
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.replies: dict[int, Any] = {}
        self.calls: dict[int, str] = {}  # call id -> last call.state seen
        self.memo: dict[str, Any] = {}  # free for scenarios
        self.finished = False
        self._batch: list[int] = []

    def request(self, method: str, **params: Any) -> int:
        """Send a request (its reply is recorded when it comes); returns its index."""
        index = len(self.requests)
        self.requests.append((method, params))
        self._batch.append(index)
        return index

    def network(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(card)`` on the far side of the emulated card (the engine is held)."""
        return fn(self.card)

    def finish(self) -> None:
        self.finished = True

    @property
    def now(self) -> float:
        return self.clock.now()

    @property
    def outstanding(self) -> list[int]:
        return [i for i in range(len(self.requests)) if i not in self.replies]

    def all_calls_over(self) -> bool:
        return bool(self.calls) and all(s == "hungup" for s in self.calls.values())


@dataclass
class Scenario:
    """A client script. Subclasses (or the hooks given) decide what it does."""

    name: str
    start: Callable[[Ctx], None]
    react: Callable[[Ctx, dict[str, Any]], None] = lambda ctx, event: None
    config: dict[str, Any] = field(default_factory=dict)
    """GatewayConfig fields to set; a callable value is called with the scratch folder."""
    max_seconds: float = 240.0
    done: Callable[[Ctx], bool] | None = None
    """When the scenario is over (default: every call seen has hung up, no reply due)."""

    def is_done(self, ctx: Ctx) -> bool:
        if ctx.finished:
            return not ctx.outstanding
        if self.done is not None:
            return self.done(ctx) and not ctx.outstanding
        if ctx.requests and not ctx.calls:  # requests that place no call
            return not ctx.outstanding and ctx.requests[0][0] != "call.originate"
        return ctx.all_calls_over() and not ctx.outstanding


def _observe(ctx: Ctx, event: dict[str, Any]) -> None:
    if event.get("event") == "call.state" and event.get("call") is not None:
        ctx.calls[event["call"]] = event["state"]
    elif event.get("event") == "call.offered":
        ctx.calls[event["call"]] = "offered"


def build_config(scenario: Scenario, scratch: Path) -> GatewayConfig:
    # The card and the channel groups the traces were recorded with (the default
    # groups have grown r2 and ss7 entries since, for spans this card does not have).
    config = GatewayConfig(card_url=f"emulated:{CARD}", network=PLAN,
                           groups={"outbound": ["fxo", "pri"], "fxo": ["fxo"],
                                   "pri": ["pri"], "agents": ["fxs"]},
                           socket=scratch / "gw.sock",
                           recordings_root=scratch / "recordings", fax_spool=scratch / "fax",
                           shutdown_grace=0.5, inbound_timeout=2.0)
    for key, value in scenario.config.items():
        # A callable is given the scratch folder: the folders clients' paths are
        # confined to (gateway/paths.py) are set by the scenarios that name files.
        setattr(config, key, value(scratch) if callable(value) else value)
    return config


# -- traces ------------------------------------------------------------------------------

@dataclass
class Trace:
    events: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"events": self.events, "replies": self.replies}


_STAMP = re.compile(r"/\d{4}/\d{2}/\d{2}/call(\d+)-\d{6}-\d{3}\.wav")
_UUID = re.compile(r"[0-9a-f]{32}|(?<=-)[0-9a-f]{8}(?=\.)")
_WALL = re.compile(r"\d{8}-\d{6}")


class Normaliser:
    """Turns what depends on the run (scratch folder, wall-clock file names, fax ids
    numbered process-wide) into stable names; everything else is kept as sent."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = str(scratch)
        self.fax_ids: dict[int, int] = {}

    def __call__(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, str) and self.scratch in value:
            value = value.replace(self.scratch, "<scratch>")
            value = _STAMP.sub(r"/<day>/call\1-<time>.wav", value)
            return _WALL.sub("<time>", _UUID.sub("<id>", value))
        if key == "fax" and isinstance(value, int) and not isinstance(value, bool):
            return self.fax_ids.setdefault(value, len(self.fax_ids) + 1)
        return value


def reply_entry(method: str, params: dict[str, Any], outcome: Any, error: Any) -> dict:
    entry: dict[str, Any] = {"method": method, "params": params}
    if error is not None:
        entry["error"] = {"code": int(error.code), "name": error.name,
                          "message": error.message}
    else:
        entry["result"] = outcome
    return entry


def load_golden(name: str) -> dict[str, Any]:
    return json.loads((TRACES / f"{name}.json").read_text())


def save_golden(name: str, trace: Trace) -> Path:
    TRACES.mkdir(exist_ok=True)
    path = TRACES / f"{name}.json"
    path.write_text(json.dumps(trace.as_json(), indent=1, ensure_ascii=False,
                               sort_keys=True) + "\n")
    return path


# -- the socket service in lockstep ------------------------------------------------------

class TickGate:
    """Holds the engine thread between ticks while the client works."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.cond = threading.Condition()
        self.held = True
        self.free = False  # no more holds (the scenario is over)
        self.published = 0
        self.submits = 0
        self.hold_at: float | None = None

    def count_event(self) -> None:
        with self.cond:
            self.published += 1

    def count_submit(self) -> None:
        with self.cond:
            self.submits += 1

    def wrap(self, engine: Any) -> None:
        tick, submit = engine.tick, engine.submit

        def gated_tick() -> None:
            with self.cond:
                while self.held and not self.free:
                    self.cond.wait()
                seen = self.published
            tick()
            drain()  # what background threads report lands in this tick
            with self.cond:
                due = self.hold_at is not None and self.clock.now() >= self.hold_at
                if (self.published != seen or due) and not self.free:
                    self.held = True
                    self.cond.notify_all()

        def counted_submit(fn: Callable[[], Any]) -> Any:
            self.count_submit()
            return submit(fn)

        engine.tick = gated_tick
        engine.submit = counted_submit

    def release(self) -> None:
        with self.cond:
            self.held = False
            self.cond.notify_all()

    def wait_held(self, timeout: float = 60.0) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.held, timeout):
                raise AssertionError("the engine did not stop at the next event")

    def set_free(self) -> None:
        with self.cond:
            self.free = True
            self.cond.notify_all()


def record_socket(scenario: Scenario) -> Trace:
    """Run ``scenario`` against the real service over its socket; return its trace."""
    from trunkline.gateway.testing import ServiceThread

    scratch = Path(tempfile.mkdtemp(prefix="tl-golden-", dir="/tmp"))
    try:
        config = build_config(scenario, scratch)
        clock = VirtualClock()
        gate = TickGate(clock)
        service = GatewayService(config, clock=clock)
        service.engine.subscribe(lambda event: gate.count_event())
        gate.wrap(service.engine)
        thread = ServiceThread(config, service=service).start()
        try:
            return asyncio.run(_drive(scenario, service, gate, scratch))
        finally:
            gate.set_free()
            thread.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def _drive(scenario: Scenario, service: Any, gate: TickGate, scratch: Path) -> Trace:
    from trunkline.gateway.rpc.client import AsyncGatewayClient
    from trunkline.gateway.rpc.errors import RpcError

    client = await AsyncGatewayClient.connect(str(service.config.socket), timeout=60.0)
    await client.subscribe()
    ctx = Ctx(scratch, service.card, gate.clock)
    norm = Normaliser(scratch)
    trace = Trace()
    tasks: dict[int, asyncio.Task] = {}
    consumed = 0

    async def send(index: int) -> None:
        method, params = ctx.requests[index]
        try:
            result, error = await client.request(method, params), None
        except RpcError as err:
            result, error = None, err
        ctx.replies[index] = (result, error)

    async def settle(batch: list[int], submits_before: int) -> None:
        """Until every request of ``batch`` is answered or queued for the engine."""
        for _ in range(6000):
            answered = sum(1 for i in batch if i in ctx.replies)
            if answered + gate.submits - submits_before >= len(batch):
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"requests {[ctx.requests[i] for i in batch]} were neither "
                             "answered nor queued for the engine")

    async def run_batch() -> None:
        batch, ctx._batch = ctx._batch, []
        before = gate.submits
        for index in batch:
            tasks[index] = asyncio.get_running_loop().create_task(send(index))
        await settle(batch, before)

    # Warm up: the D-channels come up; nothing of it is part of the trace.
    gate.hold_at = WARMUP
    while gate.clock.now() < WARMUP:
        gate.release()
        await asyncio.to_thread(gate.wait_held)
    await client.ping()
    while True:
        try:
            await client.next_event(timeout=0)
        except TimeoutError:
            break
    consumed = gate.published
    gate.hold_at = WARMUP + scenario.max_seconds
    scenario.start(ctx)
    await run_batch()
    while True:
        gate.release()
        await asyncio.to_thread(gate.wait_held)
        if gate.hold_at is not None and gate.clock.now() >= gate.hold_at:
            raise AssertionError(f"scenario {scenario.name} not over after "
                                 f"{scenario.max_seconds} s; calls {ctx.calls}, "
                                 f"outstanding {[ctx.requests[i] for i in ctx.outstanding]}")
        # Every event of the tick; then, three round trips later, every reply the tick
        # completed (a reply is written at most two loop turns after its command ran).
        for _ in range(3):
            await client.ping()
        fresh = gate.published - consumed
        consumed = gate.published
        for _ in range(fresh):
            event = await client.next_event(timeout=30)
            trace.events.append(norm(event))
            _observe(ctx, event)
            scenario.react(ctx, event)
        for _ in range(3):
            await asyncio.sleep(0)
        if ctx._batch:
            await run_batch()
        if scenario.is_done(ctx):
            break
    for index in sorted(tasks):
        await tasks[index]
    for index, (method, params) in enumerate(ctx.requests):
        result, error = ctx.replies[index]
        trace.replies.append(norm(reply_entry(method, params, result, error)))
    await client.close()
    return trace


# -- the in-process gateway --------------------------------------------------------------

def record_virtual(scenario: Scenario) -> Trace:
    """Run ``scenario`` against the in-process VirtualGateway; return its trace."""
    from trunkline.gateway.rpc.errors import RpcError
    from trunkline.gateway.testing import VirtualGateway

    scratch = Path(tempfile.mkdtemp(prefix="tl-golden-", dir="/tmp"))
    gateway = VirtualGateway(build_config(scenario, scratch), start=0.0, warmup=WARMUP)
    try:
        ctx = Ctx(scratch, gateway.card, gateway.clock)
        norm = Normaliser(scratch)
        trace = Trace()
        pending: dict[int, Any] = {}

        def send() -> None:
            batch, ctx._batch = ctx._batch, []
            for index in batch:
                method, params = ctx.requests[index]
                pending[index] = gateway.request(method, **params)
            collect()

        def collect() -> None:
            for index, request in list(pending.items()):
                if request.done():
                    del pending[index]
                    try:
                        ctx.replies[index] = (request.result(), None)
                    except RpcError as err:
                        ctx.replies[index] = (None, err)

        deadline = gateway.now() + scenario.max_seconds
        scenario.start(ctx)
        send()
        while True:
            gateway.tick()
            if gateway.now() >= deadline:
                raise AssertionError(f"scenario {scenario.name} not over after "
                                     f"{scenario.max_seconds} s; calls {ctx.calls}")
            events = gateway.take_events()
            if not events:
                continue
            collect()
            for event in events:
                trace.events.append(norm(event))
                _observe(ctx, event)
                scenario.react(ctx, event)
            if ctx._batch:
                send()
            if scenario.is_done(ctx):
                break
        while pending:
            gateway.tick()
            collect()
        for index, (method, params) in enumerate(ctx.requests):
            result, error = ctx.replies[index]
            trace.replies.append(norm(reply_entry(method, params, result, error)))
        return trace
    finally:
        gateway.close()
        shutil.rmtree(scratch, ignore_errors=True)
