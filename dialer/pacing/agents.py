"""Agents: their states, and every allowed transition in one table.

An agent is logged in to one or more campaigns, each at a level (high, standard,
overflow). Its *home* is the campaign where its level is best (the first listed on a
tie): the home campaign counts the agent as its own capacity when pacing, and the agent's
free time is predicted there. Other campaigns may borrow it only when the home campaign
does not need it (see the engine's routing).
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import AgentLevel, AgentState

S = AgentState

#: (state, trigger) -> new state. Anything missing is refused with a DialerStateError.
TRANSITIONS: dict[tuple[AgentState, str], AgentState] = {
    (S.LOGGED_OUT, "login"): S.PAUSED,
    (S.PAUSED, "ready"): S.READY,
    (S.READY, "pause"): S.PAUSED,
    (S.PAUSED, "pause"): S.PAUSED,
    (S.READY, "offer_preview"): S.PREVIEW,
    (S.PREVIEW, "preview_dial"): S.RESERVED,
    (S.PREVIEW, "preview_skip"): S.READY,
    (S.READY, "reserve"): S.RESERVED,       # manual dial, or a dial with a guaranteed agent
    (S.RESERVED, "release"): S.READY,       # the reserved call did not reach a person
    (S.READY, "connect"): S.TALKING,
    (S.RESERVED, "connect"): S.TALKING,
    (S.TALKING, "hangup"): S.WRAP_UP,
    (S.WRAP_UP, "wrap_done"): S.READY,
    (S.READY, "logout"): S.LOGGED_OUT,
    (S.PAUSED, "logout"): S.LOGGED_OUT,
    (S.WRAP_UP, "logout"): S.LOGGED_OUT,
    (S.PREVIEW, "logout"): S.LOGGED_OUT,
}


@dataclass(slots=True)
class Agent:
    id: str
    levels: dict[str, AgentLevel]
    home: str
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    call_id: int | None = None
    preview: Contact | None = None
    preview_campaign: str | None = None
    pause_pending: bool = False

    @classmethod
    def log_in(cls, agent_id: str, campaigns: tuple[tuple[str, AgentLevel], ...],
               now: float) -> Agent:
        levels = {name: AgentLevel(level) for name, level in campaigns}
        home = min(levels, key=lambda name: levels[name].rank)  # first best on a tie
        agent = cls(agent_id, levels, home)
        agent.fire("login", now)
        return agent

    def fire(self, trigger: str, now: float) -> AgentState:
        """Apply ``trigger``; raise naming the agent and its state if not allowed."""
        new = TRANSITIONS.get((self.state, trigger))
        if new is None:
            raise DialerStateError(f"cannot {trigger.replace('_', ' ')} agent {self.id!r}: "
                                   f"state is {self.state}")
        self.state = new
        self.since = now
        return new
