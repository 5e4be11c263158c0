"""The supervisor's live control (issue 18): a running campaign's pacing and windows,
an agent logged out or paused, and the supervisor on an agent's call from its own
position (listen, whisper, barge, take over).

A supervisor's **position** is like an agent's (docs/agent-desk.md): an FXS port (its
phone rings and is held) or a number reached over the trunks, rung on the gateway that
runs the agents it wants to hear, and held until it logs out or hangs up. It is not an
agent: it never gets calls from the pacing engine. On it the supervisor is put on an
agent's call with the gateway's ``call.monitor`` (listen, whisper, barge; the mode
changes on the fly) and ``call.takeover`` (docs/gateway.md); the agent's call is the
call held to the agent's position, so the supervisor hears whatever that agent hears.

Everything runs on the gateway's worker thread (:meth:`ServiceHost.on_worker`), between
two runner steps, so the runner, its store connection and the gateway port are never
touched from two threads. The routes audit every request (``web_supervisor.py``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.runner.live_settings import (
    LiveChange,
    apply_live_change,
    check_live_change,
)
from trunkline.dialer.service.host import HostConflict, ServiceHost
from trunkline.dialer.store import Store
from trunkline.dialer.vocab import AgentState
from trunkline.gateway.rpc.errors import RpcError

log = structlog.get_logger("trunkline.dialer.supervisor")

__all__ = ["MONITOR_MODES", "SupervisorConsole", "SupervisorError"]

MONITOR_MODES = ("listen", "whisper", "barge")


class SupervisorError(HostConflict):
    """A console request that does not fit what runs now; the message says why."""


@dataclass(frozen=True, slots=True)
class Position:
    """A supervisor's position: where it is, and the call held to it on a gateway."""

    user: str
    gateway: str
    kind: str             # fxs | number
    address: str
    call: int
    target: str | None = None   # the agent it is on
    mode: str | None = None     # listen | whisper | barge | takeover

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "gateway": self.gateway, "position": self.kind,
                "address": self.address, "call": self.call, "monitoring": self.target,
                "mode": self.mode}


def _release_agent(runner: Any, agent: str, target: str, now: float) -> None:
    """After a takeover, the agent's desk as after a blind transfer (the desk runner's
    hand-over): the engine's call ends for the agent (talk time recorded, wrap-up and
    the disposition follow), the customer's gateway call lives on with the supervisor,
    no longer the engine's; it ends when the customer or the supervisor hangs up, and
    the supervisor's position stays up."""
    desk = getattr(runner, "desk", None)
    current = runner.engine.agents.get(agent) if desk is not None else None
    if current is None or current.state is not AgentState.TALKING:
        log.warning("takeover_desk_not_talking", agent=agent,
                    state=None if current is None else str(current.state))
        return
    customer = runner.customers.get(current.call_id)
    if customer is None:
        log.warning("takeover_no_customer", agent=agent, call=current.call_id)
        return
    runner.translator.calls.pop(customer.gw, None)
    runner._feed([*desk.transfer_done(agent, target), ev.CallHungUp(current.call_id)], now)


def _request(port: Any, method: str, **params: Any) -> Any:
    """A gateway request through the runner's port (both ports, over the socket and in
    process, send every request through ``_call``)."""
    return port._call(method, **params)


class SupervisorConsole:
    """The console's live control over ``host`` (see the module docstring)."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self._positions: dict[str, Position] = {}
        self._lock = threading.Lock()

    # -- campaigns ------------------------------------------------------------------------

    async def change_settings(self, store: Store, name: str, changes: Mapping[str, Any]
                              ) -> dict[str, Any]:
        """Check and apply ``changes`` to campaign ``name``: on its runner's thread when
        it runs (the engine applies them at its next decision), else to the store only
        (read at the next start). ConfigError naming the setting when a check fails."""
        gateway = self.host.gateway_of(campaign=name)
        if gateway is None:
            change = check_live_change(store, name, changes)
            apply_live_change(store, change)
            self._forget_strategy(name)
            return {"campaign": name, "changed": change.changed, "applied": "stored"}

        def on_runner(runner: Any, port: Any, wstore: Store) -> LiveChange:
            change = check_live_change(wstore, name, changes)
            apply_live_change(wstore, change, runner)
            return change
        change = await self.host.on_worker(gateway, on_runner)
        self.host.publish({"type": "campaign.settings", "campaign": name,
                           "changed": change.changed})
        return {"campaign": name, "changed": change.changed, "applied": "running"}

    def _forget_strategy(self, name: str) -> None:
        """The workers' store connections cache strategies: a change made while the
        campaign is idle must be read afresh at its next start."""
        for worker in self.host.workers.values():
            if worker.store is not None:
                worker.store._strategies.pop(name, None)

    # -- agents ---------------------------------------------------------------------------

    def agent_command(self, agent: str, command: cmd.Command) -> None:
        """Queue ``command`` for ``agent`` (a logout, a forced pause) with the runner
        that has it; its outcome arrives as ``desk.*`` events (``desk.refused`` when the
        desk refuses it: an agent on a call is logged out only after it)."""
        if not self.host.agent_at_desk(agent):
            raise SupervisorError(f"agent {agent!r} is not logged in to a desk")
        self.host.desk_command(command)

    # -- the supervisor's position --------------------------------------------------------

    def position(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            pos = self._positions.get(user)
        return pos.as_dict() if pos else None

    def positions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.as_dict() for p in self._positions.values()]

    async def login(self, user: str, kind: str, address: str, gateway: str | None = None
                    ) -> dict[str, Any]:
        """Ring the supervisor's position on ``gateway`` (default: the one gateway, or
        the first running a campaign) and hold it."""
        if kind not in ("fxs", "number"):
            raise SupervisorError(f"position {kind!r}: a supervisor's position is fxs or "
                                  "number")
        if kind == "fxs" and not address.isdigit():
            raise SupervisorError(f"position fxs: address {address!r} is not a channel "
                                  "number")
        if kind == "number" and not address:
            raise SupervisorError("position number: give the number to ring")
        with self._lock:
            if user in self._positions:
                raise SupervisorError(f"{user} is at a position already; log out first")
            taken = [p for p in self._positions.values() if (p.kind, p.address) ==
                     (kind, address)]
            if taken:
                raise SupervisorError(f"position {kind} {address} is taken by "
                                      f"{taken[0].user!r}")
        name = gateway or self._default_gateway()

        def ring(runner: Any, port: Any, store: Store) -> int:
            try:
                if kind == "fxs":
                    return int(port.originate("supervisor", channel=int(address),
                                              ring_timeout=60.0))
                return int(port.originate(address, group=getattr(runner, "group", None)
                                          or "outbound", ring_timeout=60.0))
            except RpcError as err:
                raise SupervisorError(f"cannot ring the position: {err}") from None
        call = await self.host.on_worker(name, ring)
        pos = Position(user, name, kind, address, call)
        with self._lock:
            self._positions[user] = pos
        self.host.publish({"type": "supervisor.position", **pos.as_dict(),
                           "state": "ringing"})
        return pos.as_dict()

    async def logout(self, user: str) -> dict[str, Any]:
        with self._lock:
            pos = self._positions.pop(user, None)
        if pos is None:
            raise SupervisorError(f"{user} is not at a position")

        def hang_up(runner: Any, port: Any, store: Store) -> None:
            with contextlib.suppress(RpcError):  # the phone was hung up already
                port.hangup(pos.call)
        await self.host.on_worker(pos.gateway, hang_up)
        self.host.publish({"type": "supervisor.position", **pos.as_dict(),
                           "state": "released"})
        return pos.as_dict()

    async def monitor(self, user: str, agent: str | None, mode: str) -> dict[str, Any]:
        """Put the supervisor on ``agent``'s call in ``mode`` (listen, whisper, barge),
        change the mode, or take it off (``agent`` None)."""
        if mode not in MONITOR_MODES:
            raise SupervisorError(f"mode {mode!r} is not one of {', '.join(MONITOR_MODES)}")
        pos = self._position_of(user)
        if agent is None:
            def stop(runner: Any, port: Any, store: Store) -> None:
                try:
                    _request(port, "call.monitor", call=pos.call)
                except RpcError as err:
                    raise SupervisorError(str(err)) from None
            await self.host.on_worker(pos.gateway, stop)
            new = Position(pos.user, pos.gateway, pos.kind, pos.address, pos.call)
        else:
            leg = await self._agent_leg(pos, agent)

            def start(runner: Any, port: Any, store: Store) -> None:
                try:
                    _request(port, "call.monitor", call=pos.call, target=leg, mode=mode)
                except RpcError as err:
                    raise SupervisorError(f"cannot {mode} on {agent}: {err}") from None
            await self.host.on_worker(pos.gateway, start)
            new = Position(pos.user, pos.gateway, pos.kind, pos.address, pos.call,
                           agent, mode)
        with self._lock:
            self._positions[user] = new
        # never addressed to the agent ("agent" key): silent monitoring stays silent
        self.host.publish({"type": "supervisor.monitor", "supervisor": user,
                           "monitoring": agent or pos.target, "mode": new.mode})
        return new.as_dict()

    async def takeover(self, user: str, agent: str) -> dict[str, Any]:
        """The supervisor takes ``agent``'s place on its customer (强拆): the customer
        is bridged to the supervisor's position, the agent's position stays up."""
        pos = self._position_of(user)
        leg = await self._agent_leg(pos, agent)

        def take(runner: Any, port: Any, store: Store) -> dict[str, Any]:
            try:
                result = dict(_request(port, "call.takeover", call=pos.call, target=leg))
            except RpcError as err:
                raise SupervisorError(f"cannot take over from {agent}: {err}") from None
            _release_agent(runner, agent, f"supervisor {user}", port.now())
            return result
        result = await self.host.on_worker(pos.gateway, take)
        new = Position(pos.user, pos.gateway, pos.kind, pos.address, pos.call, agent,
                       "takeover")
        with self._lock:
            self._positions[user] = new
        # addressed to the agent too: its screen says the supervisor has its customer;
        # its desk goes to wrap-up (desk.* events)
        self.host.publish({"type": "supervisor.takeover", "supervisor": user,
                           "agent": agent, "customer_call": result.get("peer")})
        return new.as_dict()

    # -- helpers --------------------------------------------------------------------------

    def _position_of(self, user: str) -> Position:
        with self._lock:
            pos = self._positions.get(user)
        if pos is None:
            raise SupervisorError(f"{user} is not at a position: log in to one first "
                                  "(POST /api/supervisor/position)")
        return pos

    async def _agent_leg(self, pos: Position, agent: str) -> int:
        """The gateway call held to ``agent``'s position, on the supervisor's gateway."""
        gateway = self.host.gateway_of(agent=agent)
        if gateway is None:
            raise SupervisorError(f"agent {agent!r} is not logged in to a desk")
        if gateway != pos.gateway:
            raise SupervisorError(f"agent {agent!r} works on gateway {gateway}, the "
                                  f"supervisor's position is on {pos.gateway}: log in to "
                                  "a position there")

        def leg(runner: Any, port: Any, store: Store) -> int:
            held = getattr(runner, "agent_legs", {}).get(agent)
            if held is None or getattr(held, "gone", False):
                raise SupervisorError(f"agent {agent!r} has no position up")
            return int(held.gw)
        return await self.host.on_worker(gateway, leg)

    def _default_gateway(self) -> str:
        names = list(self.host.workers)
        if len(names) == 1:
            return names[0]
        for status in self.host.campaigns():
            if status["state"] in ("running", "paused") and status["gateway"]:
                return str(status["gateway"])
        return names[0]
