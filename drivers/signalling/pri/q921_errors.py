"""Q.921 data-link management errors (MDL-ERROR) as libpri reports them, made readable.

libpri reports a Q.921 management error as a text line (``q921.c``,
``q921_mdl_error``): ``"TEI=0 MDL-ERROR (A): Got supervisory frame with F=1 in state
7(Multi-frame established)"``. The letter is the error code of ITU-T Q.921 Appendix II
(the MDL-ERROR indications and what the management entity does with them). On a PRI (a
point-to-point link, TEI 0) libpri takes no action for any code but J, for which it
reports the D-channel down and re-establishes the link (``q921_mdl_handle_ptp_error``).

What each code means for calls, on a PRI:

* A-E: a response that did not match what this side expected (an answer to a poll it
  had already had, a UA or DM out of turn). Recovery is already over: calls go on.
* F: the far end re-established the link (SABME): frames not yet acknowledged are
  discarded and Q.931 is told the link was reset; calls normally go on, but the far
  end restarted its Q.921 for a reason.
* G, H, I: T200 expired N200 times: the far end did not answer at all. I: the link is
  being re-established (DChannelDown/Up may follow; unanswered calls are cleared when
  Q.921 gives up).
* J: N(R) error (the far end acknowledged a frame never sent): the link is re-established
  and libpri reports the D-channel down.
* K: the far end rejected a frame (FRMR): a protocol mismatch worth a trace.

Codes A-F and G-I after a stall are what a Q.921 link does to recover when one side
stopped reading the D-channel for more than T200 (1 s): the far end polls once per T200
(RR with P=1) and this side, reading late, answers every poll at once; the first answer
ends the far end's timer recovery and each further one is error A.

libpri also prints ``"Trying to queue MDL-ERROR (X) when MDL-ERROR (Y) is already
scheduled"`` when a second error arrives before the first's handling (a 0 ms timer) has
run; :class:`~trunkline.drivers.signalling.pri.span.PriSpan` runs due timers after each
received frame so that this no longer happens, and :func:`parse` reports it as the
second error (``dropped=True``) if it ever does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["CODES", "Q921Error", "parse"]

#: The meaning of each MDL-ERROR code (Q.921 Appendix II; libpri's q921.c), and whether it
#: means trouble on the link (True) or a recovery already completed (False).
CODES: Final[dict[str, tuple[str, bool]]] = {
    "A": ("unsolicited supervisory response (F=1): a late answer to a poll", False),
    "B": ("unsolicited DM response (F=1)", False),
    "C": ("unsolicited UA response (F=1)", False),
    "D": ("unsolicited UA response (F=0)", False),
    "E": ("unsolicited DM response (F=0)", False),
    "F": ("peer re-established the link (SABME received)", False),
    "G": ("no answer to SABME after N200 retries", True),
    "H": ("no answer to DISC after N200 retries", True),
    "I": ("no answer to RR/RNR polls after N200 retries: link re-established", True),
    "J": ("N(R) error: link re-established, D-channel reported down", True),
    "K": ("FRMR received: the far end rejected a frame", True),
}

_REPORT = re.compile(r"MDL-ERROR \(([A-Z])\)")
_DROPPED = re.compile(
    r"Trying to queue MDL-ERROR \(([A-Z])\) when MDL-ERROR \(([A-Z])\) is already scheduled")
_STATE = re.compile(r"in state (\d+)\(([^)]*)\)")


@dataclass(frozen=True, slots=True)
class Q921Error:
    """One MDL-ERROR: its code, what it means, and whether it signals trouble."""

    code: str
    meaning: str
    #: True for codes G-K (the link failed or was re-established), False for A-F.
    serious: bool
    #: The Q.921 state libpri was in ("Multi-frame established"), when it said.
    state: str = ""
    #: True for libpri's "Trying to queue" line: this error's handling was skipped.
    dropped: bool = False


def parse(text: str) -> Q921Error | None:
    """The MDL-ERROR a libpri message or error line reports, or None for other lines.

    An unknown code (libpri's default branch) is kept, with its letter as the meaning.
    """
    dropped = _DROPPED.search(text)
    match = dropped or _REPORT.search(text)
    if match is None:
        return None
    code = match.group(1)
    meaning, serious = CODES.get(code, (f"MDL-ERROR code {code}", True))
    state = _STATE.search(text)
    return Q921Error(code, meaning, serious, state.group(2) if state else "",
                     dropped=dropped is not None)
