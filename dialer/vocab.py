"""The words the dialer speaks: modes, regimes, agent and call states, outcomes.

Kept in one small module so that events, the engine, the simulator and (later) storage and
reports agree on spelling. Every enum is a :class:`~enum.StrEnum` so it serialises as its
value in JSON and TOML without translation tables.
"""

from __future__ import annotations

from enum import StrEnum

from trunkline.vocab import FAILURE_OUTCOMES as FAILURE_OUTCOMES
from trunkline.vocab import Outcome


class Mode(StrEnum):
    """How a campaign decides when to dial (DESIGN.md, field-notes "Dialing modes")."""

    MANUAL = "manual"            # the agent dials; the engine only tracks and connects
    PREVIEW = "preview"          # the agent sees the record first, then dials or skips
    PROGRESSIVE = "progressive"  # dial when an agent is free, whole lines per free agent
    POWER = "power"              # a fixed, possibly fractional, lines-per-free-agent ratio
    PRECISE = "precise"          # predict so that every live answer has an agent at once
    PREDICTIVE = "predictive"    # hold the operator's abandon target, maximise talk time
    VICIDIAL = "vicidial"        # baseline: VICIdial's published adaptive method

    @property
    def automatic(self) -> bool:
        """True when the engine itself decides to place calls (not agent-driven)."""
        return self not in (Mode.MANUAL, Mode.PREVIEW)


class Regime(StrEnum):
    """Which abandoned-call rule a campaign is measured against."""

    US = "us"      # FTC TSR 16 CFR 310.4(b)(4), FCC 47 CFR 64.1200(a)(7)
    UK = "uk"      # Ofcom persistent-misuse statement (2016, in force 1 March 2017)
    CN = "cn"      # 工信部联信管〔2018〕138号: no numeric cap; operator target only
    NONE = "none"  # operator target only


class AgentLevel(StrEnum):
    """An agent's standing in one campaign; the order is the routing preference."""

    HIGH = "high"
    STANDARD = "standard"
    OVERFLOW = "overflow"  # takes the campaign's calls only when its own agents cannot

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {AgentLevel.HIGH: 0, AgentLevel.STANDARD: 1, AgentLevel.OVERFLOW: 2}


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"    # committed to a call that is not yet talking
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    PREVIEW = "preview"      # looking at a record, deciding to dial or skip


class CallState(StrEnum):
    DIALING = "dialing"      # placed, not yet resolved (includes ringing)
    WAITING = "waiting"      # a live person answered and no agent is connected yet
    CONNECTED = "connected"  # talking to an agent
    DONE = "done"


class AnswerKind(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    FAX = "fax"


#: The outcomes a call is recorded with: the wire's (DESIGN.md, "Contracts"), defined once
#: in :mod:`trunkline.vocab`.
CallOutcome = Outcome


class AbandonRoute(StrEnum):
    """What happens to a live answer that found no agent in time (VICIdial `drop_action`)."""

    MESSAGE = "message"      # the safe-harbour / information message, then hang up
    IVR = "ivr"
    VOICEMAIL = "voicemail"
    CAMPAIGN = "campaign"    # hand the caller to another campaign's agents
