"""Helpers for the desk-runner tests (a unique module name: never import from conftest)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.outputs import ScreenPop
from trunkline.dialer.runner.desk_runner import DeskRunner

SH = ZoneInfo("Asia/Shanghai")
HUMANS = (("1381", 5, "human"),)
DESK = {"script": "您好 {{name}}", "max_wrap_up": 120, "disposition": [
    {"code": "promise", "callback": "optional",
     "field": [{"name": "amount", "kind": "money", "required": True},
               {"name": "date", "kind": "date", "required": True}]},
    {"code": "no_deal"}]}


def step_until(runner: DeskRunner, condition, seconds: float = 600.0) -> None:
    end = runner.gateway.now() + seconds
    while not condition():
        assert runner.gateway.now() < end, "timed out"
        runner.step()


def state(runner: DeskRunner, agent: str = "a1") -> str | None:
    seat = runner.desk.seats.get(agent)
    return seat.state if seat else None


def pops(runner: DeskRunner) -> list[ScreenPop]:
    return [e for e in runner.desk_events if isinstance(e, ScreenPop)]


def login(runner: DeskRunner, campaigns: tuple[tuple[str, str], ...]) -> None:
    runner.submit(cmd.Login("a1", "fxs", "71", campaigns))
    step_until(runner, lambda: state(runner) == "paused", 120)
    runner.submit(cmd.Ready("a1"))
