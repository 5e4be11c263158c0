"""Shared helpers for the dialer tests: a scripted driver around the engine."""

from __future__ import annotations

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, Dial
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.vocab import AgentLevel


def contacts(campaign: str, n: int, *, start: int = 0, preview: bool = False) -> list[Contact]:
    return [Contact(f"{campaign}-{i}", f"+1555{i:07d}", campaign, preview=preview)
            for i in range(start, start + n)]


class Driver:
    """Feeds events to an engine at explicit times and keeps every action."""

    def __init__(self, *configs: CampaignConfig, queue: ContactQueue | None = None,
                 log=None) -> None:
        self.queue = queue if queue is not None else ContactQueue()
        self.engine = Engine(configs, self.queue, log=log or quiet_logger())
        self.now = 0.0
        self.actions: list[Action] = []

    def send(self, event, at: float | None = None) -> list[Action]:
        if at is not None:
            self.now = at
        out = self.engine.handle(event, self.now)
        self.actions.extend(out)
        return out

    def tick(self, at: float) -> list[Action]:
        return self.send(ev.Tick(), at)

    def login(self, agent: str, *campaigns: tuple[str, str], ready: bool = True
              ) -> list[Action]:
        out = self.send(ev.AgentLoggedIn(agent, tuple(
            (name, AgentLevel(level)) for name, level in campaigns)))
        if ready:
            out += self.send(ev.AgentReady(agent))
        return out


def dials(actions: list[Action]) -> list[Dial]:
    return [a for a in actions if isinstance(a, Dial)]
