"""The fast scripted shift: the demo's floor on the desk runner and the emulated card in
virtual time (``trunkline demo --virtual``), for tests, CI and the occupancy check.

The simulated agents (:class:`~trunkline.dialer.floor.agents.FloorAgent`) send the same
desk requests as over HTTP (:mod:`.web_agents`), turned into the same desk commands the
API makes, and get the same ``desk.*`` events; only the HTTP hop is missing, because a
web client cannot share the gateway's virtual clock. Everything below (the desk, the
runner, the pacing engine, the store, the gateway on the emulated card and its number
plan) is what the service runs.

The shift ends when every contact has been dialled once and no customer call is up:
the agents log out after their wrap-up (a callback they set falls tomorrow), or at
``seconds``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.floor.agents import FloorAgent, Habits, Request
from trunkline.dialer.floor.setup import AGENT_NAMES, CAMPAIGN

#: The API route of a desk request -> the desk command type it becomes (web_desk.py).
ROUTE_COMMANDS = {"ready": "ready", "hangup": "hang_up", "pause": "pause",
                  "disposition": "save_disposition", "logout": "logout"}


def command_for(agent: str, request: Request) -> cmd.Command:
    """The desk command the API builds for ``agent``'s request (same fields)."""
    route, body = request
    return cmd.command_from_dict({"type": ROUTE_COMMANDS[route], "agent": agent, **body})


@dataclass
class Shift:
    """The agents of one shift and what happened to them."""

    runner: Any
    agents: dict[str, FloorAgent]
    contacts: int
    inbox: list[dict[str, Any]] = field(default_factory=list)
    leaving: bool = False
    asked: dict[str, float] = field(default_factory=dict)  # agent -> state time of logout

    def sink(self, event: Any) -> None:
        """The desk runner's sink: events as the service publishes them (``desk.*``)."""
        data = event.to_dict()
        data["type"] = f"desk.{data.get('type', 'event')}"
        self.inbox.append(data)

    def step(self, now: float) -> None:
        """After each runner step: deliver the events, send what is due."""
        events, self.inbox = self.inbox, []
        for event in events:
            agent = self.agents.get(str(event.get("agent")))
            if agent is not None:
                agent.on_event(event, now)
        for name, agent in self.agents.items():
            for request in agent.due(now):
                if not self.leaving or request[0] != "ready":
                    self.runner.submit(command_for(name, request))
        self._maybe_leave()

    def _maybe_leave(self) -> None:
        if not self.leaving:
            if self.runner.totals()["dials"] < self.contacts or self.runner.customers:
                return
            self.leaving = True  # the list is done: each agent leaves after its call
        if all(a.state == "logged_out" for a in self.agents.values()):
            self.runner.request_stop()
            return
        for name, agent in self.agents.items():
            # off a call and its disposition: log out (asked once per state reached)
            if agent.state in ("ready", "paused") and self.asked.get(name) != agent.since:
                self.asked[name] = agent.since
                self.runner.submit(cmd.Logout(name))


def run_shift(store: Any, gateway: Any, *, contacts: int, agents: int, seed: int,
              seconds: float | None, progress: Callable[[str], None] | None,
              progress_every: float, habits: Habits | None = None,
              on_step: Callable[[float], None] | None = None) -> tuple[Any, Shift]:
    """Log ``agents`` simulated agents in at FXS positions and work the list; returns
    the runner's summary and the shift."""
    from trunkline.dialer.pacing.engine import quiet_logger
    from trunkline.dialer.runner.desk_runner import DeskRunner

    positions = gateway.group("agents")[:agents]
    if len(positions) < agents:
        from trunkline.errors import ConfigError

        raise ConfigError(f"the card has {len(positions)} FXS ports; the demo seats "
                          f"{agents} agents")
    rng = random.Random(seed)
    floor = {name: FloorAgent(name, random.Random(rng.random()), habits or Habits())
             for name in AGENT_NAMES[:agents]}
    shift = Shift(None, floor, contacts)
    runner = DeskRunner(store, [CAMPAIGN], gateway, sink=shift.sink, group="outbound",
                        engine_log=quiet_logger(), progress=progress,
                        progress_every=progress_every)
    shift.runner = runner
    runner.start()
    for name, channel in zip(floor, positions, strict=True):
        runner.submit(cmd.Login(name, "fxs", str(channel), ((CAMPAIGN, "standard"),)))

    def each_step(now: float) -> None:
        shift.step(now)
        if on_step is not None:
            on_step(now)

    summary = runner.run(seconds=seconds, on_step=each_step)
    return summary, shift
