"""The words every layer uses for how a call ended: outcomes and announcement kinds.

They travel on the wire (``call.state hungup`` carries the outcome; the ``announcement``
event its kind), so the driver layer that decides them, the gateway that publishes
them and the dialer that records them share this one module (DESIGN.md, "Call
outcomes the dialer records"). Q.850 clearing causes are in
:mod:`trunkline.causes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = ["ANNOUNCEMENT_OUTCOME", "FAILURE_OUTCOMES", "Outcome", "outcome_for_announcement"]


class Outcome(StrEnum):
    """How a call ended, as the dialer records it (DESIGN.md, "Contracts")."""

    HUMAN = "human"
    MACHINE = "machine"
    FAX = "fax"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    INVALID_NUMBER = "invalid_number"
    UNREACHABLE = "unreachable"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    ERROR = "error"


#: Outcomes of a call that never reached a person or a device.
FAILURE_OUTCOMES: Final[frozenset[Outcome]] = frozenset({
    Outcome.BUSY, Outcome.NO_ANSWER, Outcome.CONGESTION, Outcome.INVALID_NUMBER,
    Outcome.UNREACHABLE, Outcome.REJECTED, Outcome.ERROR,
})

#: The outcome a network announcement before any answer stands for. The kinds are the
#: detector's (firmware-profiles/announcements, ``trunkline announcements add``): a
#: carrier's recording saying the number does not exist (空号) or is not in service is an
#: invalid number; switched off (关机) or out of reach (不在服务区) is unreachable;
#: barred (停机) is a rejection by the network.
ANNOUNCEMENT_OUTCOME: Final[Mapping[str, Outcome]] = MappingProxyType({
    "invalid_number": Outcome.INVALID_NUMBER,
    "not_in_service": Outcome.INVALID_NUMBER,
    "powered_off": Outcome.UNREACHABLE,
    "unreachable": Outcome.UNREACHABLE,
    "busy": Outcome.BUSY,
    "call_barred": Outcome.REJECTED,
    "congestion": Outcome.CONGESTION,
    "no_answer": Outcome.NO_ANSWER,
})


#: The outcome of a call that a special information tone ends, by the tone's code
#: (drivers/dsp/sit.py). NANP codes (Telcordia; shared/reference/detection-anchors.md
#: section 4): IC (intercept) and VC (vacant code) precede "not in service" intercepts,
#: so the number is invalid; NC (no circuit) and RO (reorder), with the inter-LATA
#: carriers' primed codes, and IO (ineffective other) are the network's trouble, not the
#: number's: congestion-like, to be tried again (issue 15, item 3). ITU-T E.180 SIT
#: carries no reason ("ITU"; carriers in China play it before 空号 announcements); it, an
#: unknown code and the reserved "future" code stay an invalid number as before.
SIT_OUTCOME: Final[Mapping[str, Outcome]] = MappingProxyType({
    "IC": Outcome.INVALID_NUMBER, "VC": Outcome.INVALID_NUMBER,
    "NC": Outcome.CONGESTION, "NC'": Outcome.CONGESTION,
    "RO": Outcome.CONGESTION, "RO'": Outcome.CONGESTION, "IO": Outcome.CONGESTION,
    "ITU": Outcome.INVALID_NUMBER, "future": Outcome.INVALID_NUMBER,
    "unknown": Outcome.INVALID_NUMBER,
})


def outcome_for_sit(code: str) -> Outcome:
    """The outcome of a call ended by SIT ``code`` (:data:`SIT_OUTCOME`)."""
    return SIT_OUTCOME.get(code, Outcome.INVALID_NUMBER)


def outcome_for_announcement(kind: str) -> Outcome:
    """The outcome for announcement ``kind``; one nobody recognised is ``unreachable``
    (the network speaks instead of connecting: the number cannot be reached now)."""
    return ANNOUNCEMENT_OUTCOME.get(kind, Outcome.UNREACHABLE)
