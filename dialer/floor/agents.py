"""What a simulated collections agent does at the desk, and when (sans-IO).

A :class:`FloorAgent` is told the desk events addressed to it (the same ``desk.*``
events the desktop page gets on its WebSocket) with the time they arrived, and says
which desk requests are due (:meth:`FloorAgent.due`), each as the HTTP route and JSON
body the desktop would send (``("ready", {})``, ``("disposition", {...})``). Whoever
drives it (:mod:`.web_agents` over HTTP, :mod:`.shift` in virtual time) sends them.

Its behaviour is a collections team's (:class:`Habits`): after the screen pop it talks
for a drawn time and hangs up unless the customer did first; in wrap-up it types for a
drawn time and saves a disposition with its fields (a promise to pay with an amount
within the balance and a date in the next fortnight, a refusal with its reason, a
callback for tomorrow, a wrong party); now and then it takes a break after a call.
The talk and wrap-up times are assumptions (this project has no measured collections
floor): talk lognormal with a mean of 90 s, wrap-up uniform 15-45 s, one break of 2-5
minutes every 25 calls or so.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

#: A desk request: the route under /api/desk and its JSON body.
Request = tuple[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Habits:
    """How the team works (seconds)."""

    talk_mean: float = 90.0
    talk_sigma: float = 0.6          # lognormal, of the log
    wrap_low: float = 15.0
    wrap_high: float = 45.0
    ready_after_login: float = 2.0
    pause_every: float = 25.0         # calls between breaks, on average
    pause_low: float = 120.0
    pause_high: float = 300.0
    pause_reason: str = "break"
    time_zone: str = "Asia/Shanghai"

    def talk(self, rng: random.Random) -> float:
        mu = math.log(self.talk_mean) - self.talk_sigma ** 2 / 2
        return rng.lognormvariate(mu, self.talk_sigma)

    def wrap(self, rng: random.Random) -> float:
        return rng.uniform(self.wrap_low, self.wrap_high)


#: The dispositions a collections agent chooses, with their shares.
CHOICES: tuple[tuple[str, float], ...] = (
    ("promise", 0.40), ("refuse", 0.25), ("callback", 0.15), ("wrong_party", 0.20))
REFUSALS = ("暂时没钱", "对金额有异议", "要求减免", "不接受催收")
REASONS = ("资金周转", "忘记还款", "失业", "其他")


@dataclass
class FloorAgent:
    """One simulated agent (see the module docstring)."""

    name: str
    rng: random.Random
    habits: Habits = field(default_factory=Habits)
    state: str = "logged_out"
    since: float = 0.0
    calls: int = 0
    dispositions: dict[str, int] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    _plan: dict[str, tuple[float, Request]] = field(default_factory=dict)
    _contact: dict[str, Any] = field(default_factory=dict)

    def on_event(self, event: dict[str, Any], now: float) -> None:
        """Take a ``desk.*`` event for this agent, received at ``now``."""
        kind = event.get("type", "")
        if kind == "desk.state":
            self._on_state(str(event.get("state")), str(event.get("reason", "")), now)
        elif kind == "desk.screen_pop":
            self.calls += 1
            contact = event.get("contact") or {}
            self._contact = dict(contact.get("fields") or {})
            self._plan["hangup"] = (now + self.habits.talk(self.rng), ("hangup", {}))
        elif kind == "desk.disposition_saved":
            code = str(event.get("code"))
            self.dispositions[code] = self.dispositions.get(code, 0) + 1
        elif kind == "desk.refused":
            self.refusals.append(f"{event.get('command')}: {event.get('error')}")
            if event.get("command") == "save_disposition" and self.state == "wrap_up":
                # a form the desk did not take: save the simplest disposition instead
                self._plan["disposition"] = (now + 1.0, ("disposition", {
                    "code": "wrong_party", "then": "ready"}))

    def _on_state(self, state: str, reason: str, now: float) -> None:
        self.state, self.since = state, now
        if state != "talking":
            self._plan.pop("hangup", None)
        if state == "paused":
            wait = (self.habits.ready_after_login if reason == "login"
                    else self.rng.uniform(self.habits.pause_low, self.habits.pause_high))
            self._plan["ready"] = (now + wait, ("ready", {}))
        elif state == "wrap_up":
            self._plan["disposition"] = (now + self.habits.wrap(self.rng),
                                         ("disposition", self.disposition(now)))
        elif state in ("ready", "talking", "reserved"):
            self._plan.pop("ready", None)

    def due(self, now: float) -> list[Request]:
        """The requests due at ``now`` (each is given once)."""
        out = [(at, key) for key, (at, _) in self._plan.items() if at <= now]
        return [self._plan.pop(key)[1] for _, key in sorted(out)]

    def next_at(self) -> float | None:
        """When the next request falls due (None: nothing planned)."""
        return min((at for at, _ in self._plan.values()), default=None)

    def disposition(self, now: float) -> dict[str, Any]:
        """The disposition of the call just ended, with its fields, and what follows."""
        rng = self.rng
        code = rng.choices([c for c, _ in CHOICES], [w for _, w in CHOICES])[0]
        local = datetime.fromtimestamp(now, ZoneInfo(self.habits.time_zone))
        body: dict[str, Any] = {"code": code, "then": "ready"}
        if code == "promise":
            balance = _number(self._contact.get("balance"), 5_000.0)
            amount = max(100, round(rng.uniform(0.2, 1.0) * balance / 100) * 100)
            date = (local + timedelta(days=rng.randint(1, 15))).strftime("%Y-%m-%d")
            body["fields"] = {"amount": f"{amount:.2f}", "date": date,
                              "reason": rng.choice(REASONS),
                              "follow_up": rng.random() < 0.5}
        elif code == "refuse":
            body["fields"] = {"reason": rng.choice(REFUSALS)}
        elif code == "callback":
            at = (local + timedelta(days=1)).replace(hour=rng.randint(10, 17), minute=0)
            body["callback"] = {"at": at.strftime("%Y-%m-%d %H:%M"), "owner": "campaign",
                                "note": "客户要求明天再联系"}
        if rng.random() < 1.0 / self.habits.pause_every:
            body["then"], body["reason"] = "pause", self.habits.pause_reason
        return body


def _number(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and number > 0 else default
