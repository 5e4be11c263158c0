"""What a run did: the bridges it made, its summary, and how a summary is printed.

:class:`RunSummary` is the campaign runner's; the cleaning runner's
(:class:`~trunkline.dialer.cleaning.runner.CleaningSummary`) has the same two views,
``as_dict()`` (``--json``) and ``lines()``, so :func:`print_run` prints either.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    greeting_ended_at: float | None = None

    @property
    def after_live(self) -> float:
        """Seconds from the live answer (AMD said human) to the bridge."""
        return self.bridged_at - self.live_at

    @property
    def after_answer(self) -> float:
        """Seconds from the line's answer to the bridge (includes the AMD decision)."""
        return self.bridged_at - (self.answered_at if self.answered_at is not None
                                  else self.live_at)

    @property
    def after_greeting(self) -> float:
        """Seconds from the end of the greeting to the bridge: what 16 CFR
        310.4(b)(4)(iii) limits to 2 s (``after_answer`` is what Ofcom limits). Where
        the greeting's end is unknown, the answer stands in (the stricter measure)."""
        if self.greeting_ended_at is not None:
            return self.bridged_at - self.greeting_ended_at
        return self.after_answer


@dataclass
class RunSummary:
    """What one run of the campaign runner did (``trunkline dialer run`` prints it)."""

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
    max_after_greeting: float | None = None
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
                "max_greeting_to_agent_s": None if self.max_after_greeting is None
                else round(self.max_after_greeting, 2),
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
            # "at most None s" said nothing to an operator whose run put no call through
            "live answer to agent: no call was put through to an agent"
            if d["max_live_to_agent_s"] is None else
            f"live answer to agent: at most {d['max_live_to_agent_s']} s "
            f"(line answer to agent, Ofcom's measure: at most "
            f"{_seconds(d['max_answer_to_agent_s'])}; greeting end to agent, the TSR's "
            f"measure: at most {_seconds(d['max_greeting_to_agent_s'])})",
            "list finished" if self.finished else "list not finished",
            *(f"  {name}: dials {c['dials']}, live {c['live']}, abandoned {c['abandoned']}"
              f" ({100 * c['abandon_rate']:.2f} %)" for name, c in self.by_campaign.items()
              if len(self.by_campaign) > 1),
        ]


def _seconds(value: float | None) -> str:
    """A delay of the summary's lines: ``"1.5 s"``, or ``"unknown"`` (no moment known)."""
    return "unknown" if value is None else f"{value} s"


class Summary(Protocol):
    """What :func:`print_run` needs of a run's summary."""

    def as_dict(self) -> dict[str, Any]: ...

    def lines(self) -> list[str]: ...


def print_run(summary: Summary, gateway_errors: list[str], as_json: bool) -> int:
    """The summary (a line or a JSON object), then the first gateway problems."""
    if as_json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        for line in summary.lines():
            print(line)
    for problem in gateway_errors[:10]:
        print(f"trunkline: warning: {problem}", file=sys.stderr)
    return 0
