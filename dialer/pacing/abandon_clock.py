"""When a live answer's abandon limit starts, as each regime names that moment.

The regimes agree on 2 s but not on what they are counted from:

- ``us`` (and ``cn``, ``none``, which name no moment of their own): from the end of the
  called person's completed greeting. 16 CFR 310.4(b)(4)(iii): a recorded message is
  played whenever a sales representative is not available "within two (2) seconds
  after the completed greeting of the person answering the call"; 47 CFR
  64.1200(a)(7)(i) says the same.
- ``uk``: from the answer. Ofcom's persistent-misuse statement (2016, in force
  1 March 2017) asks that the information message start no later than 2 s after the
  call is answered, so the time answer detection takes to decide counts against it.

Both moments are on the engine's clock. Either may be unknown (None): then the moment
the engine learnt of the live answer stands in, which is never earlier than the real one.
"""

from __future__ import annotations

from trunkline.dialer.vocab import Regime


def counts_from_answer(regime: Regime) -> bool:
    """Whether ``regime``'s limit runs from the answer itself, so the time answer
    detection takes counts against it (Ofcom), rather than from the greeting's end."""
    return regime is Regime.UK


def abandon_clock_start(regime: Regime, *, answered_at: float | None,
                        greeting_ended_at: float | None, now: float) -> float:
    """The moment the regime's abandon limit runs from (never later than ``now``)."""
    if counts_from_answer(regime):
        start = answered_at
    else:
        start = greeting_ended_at if greeting_ended_at is not None else answered_at
    return now if start is None else min(start, now)
