"""Q.850 cause values, their standard names, and the call outcome each one means.

Causes travel on the wire (``call.state hungup`` carries the cause a call ended with) and
every digital signalling speaks them (PRI's Q.931, SS7's ISUP), so the table lives here,
shared by all layers, beside the outcomes of :mod:`trunkline.vocab`.

The table is ITU-T Q.850 (05/1998, with amendments), plus the two Q.931/ETSI values
libpri still uses (52, 54). Outcomes are the dialer's (DESIGN.md, "Call outcomes"):

=====================  ===================
cause                  outcome
=====================  ===================
17                     ``busy``
1                      ``invalid_number``
18, 19                 ``no_answer``
20, 27                 ``unreachable``
21                     ``rejected``
34, 38, 41, 42, 44     ``congestion``
anything else          ``error`` (the cause is kept)
=====================  ===================

The cause is always reported beside the outcome (:class:`CauseOutcome`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from trunkline.vocab import Outcome

__all__ = [
    "CAUSE_OUTCOMES",
    "Q850_CAUSES",
    "CauseOutcome",
    "Outcome",
    "cause_name",
    "classify_cause",
    "outcome_for_cause",
    "validate_cause",
]


Q850_CAUSES: Final[Mapping[int, str]] = MappingProxyType({
    1: "Unallocated (unassigned) number",
    2: "No route to specified transit network",
    3: "No route to destination",
    4: "Send special information tone",
    5: "Misdialled trunk prefix",
    6: "Channel unacceptable",
    7: "Call awarded and being delivered in an established channel",
    8: "Preemption",
    9: "Preemption - circuit reserved for reuse",
    14: "Query on release - number ported",
    16: "Normal call clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer from user (user alerted)",
    20: "Subscriber absent",
    21: "Call rejected",
    22: "Number changed",
    23: "Redirection to new destination",
    25: "Exchange routing error",
    26: "Non-selected user clearing",
    27: "Destination out of order",
    28: "Invalid number format (address incomplete)",
    29: "Facility rejected",
    30: "Response to STATUS ENQUIRY",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    38: "Network out of order",
    39: "Permanent frame mode connection out of service",
    40: "Permanent frame mode connection operational",
    41: "Temporary failure",
    42: "Switching equipment congestion",
    43: "Access information discarded",
    44: "Requested circuit/channel not available",
    46: "Precedence call blocked",
    47: "Resource unavailable, unspecified",
    49: "Quality of service not available",
    50: "Requested facility not subscribed",
    52: "Outgoing calls barred",
    53: "Outgoing calls barred within CUG",
    54: "Incoming calls barred",
    55: "Incoming calls barred within CUG",
    57: "Bearer capability not authorized",
    58: "Bearer capability not presently available",
    62: "Inconsistency in designated outgoing access information and subscriber class",
    63: "Service or option not available, unspecified",
    65: "Bearer capability not implemented",
    66: "Channel type not implemented",
    69: "Requested facility not implemented",
    70: "Only restricted digital information bearer capability is available",
    79: "Service or option not implemented, unspecified",
    81: "Invalid call reference value",
    82: "Identified channel does not exist",
    83: "A suspended call exists, but this call identity does not",
    84: "Call identity in use",
    85: "No call suspended",
    86: "Call having the requested call identity has been cleared",
    87: "User not member of CUG",
    88: "Incompatible destination",
    90: "Non-existent CUG",
    91: "Invalid transit network selection",
    95: "Invalid message, unspecified",
    96: "Mandatory information element is missing",
    97: "Message type non-existent or not implemented",
    98: "Message not compatible with call state or message type non-existent or not "
        "implemented",
    99: "Information element/parameter non-existent or not implemented",
    100: "Invalid information element contents",
    101: "Message not compatible with call state",
    102: "Recovery on timer expiry",
    103: "Parameter non-existent or not implemented - passed on",
    110: "Message with unrecognized parameter discarded",
    111: "Protocol error, unspecified",
    127: "Interworking, unspecified",
})

CAUSE_OUTCOMES: Final[Mapping[int, Outcome]] = MappingProxyType({
    1: Outcome.INVALID_NUMBER,
    17: Outcome.BUSY,
    18: Outcome.NO_ANSWER,
    19: Outcome.NO_ANSWER,
    20: Outcome.UNREACHABLE,
    21: Outcome.REJECTED,
    27: Outcome.UNREACHABLE,
    34: Outcome.CONGESTION,
    38: Outcome.CONGESTION,
    41: Outcome.CONGESTION,
    42: Outcome.CONGESTION,
    44: Outcome.CONGESTION,
})


def validate_cause(cause: int) -> int:
    """Return ``cause`` if it is a Q.850 cause value (1..127), else raise ValueError."""
    if isinstance(cause, bool) or not isinstance(cause, int) or not 1 <= cause <= 127:
        raise ValueError(f"Q.850 cause must be an integer 1..127, got {cause!r}")
    return cause


def cause_name(cause: int) -> str:
    """The Q.850 name of ``cause`` (``"Unknown cause 13"`` for an unassigned value)."""
    return Q850_CAUSES.get(cause, f"Unknown cause {cause}")


def outcome_for_cause(cause: int) -> Outcome:
    """The dialer outcome for a call cleared with ``cause`` before any answer."""
    return CAUSE_OUTCOMES.get(cause, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class CauseOutcome:
    """A clearing cause with its name and outcome: what the dialer records."""

    cause: int
    name: str
    outcome: Outcome

    def __post_init__(self) -> None:
        validate_cause(self.cause)


def classify_cause(cause: int) -> CauseOutcome:
    """Build the :class:`CauseOutcome` for ``cause``."""
    return CauseOutcome(validate_cause(cause), cause_name(cause), outcome_for_cause(cause))
