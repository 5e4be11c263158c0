"""Whether a campaign's regime lets an abandoned call hear a tone instead of a message.

An abandoned call (a person answered and no agent was free in time) gets the abandon
message (``--abandon-file``), else the ``info`` tone for 3 s. A tone names nobody, and
two regimes require a recorded message naming the caller
(../shared/reference/dialer-anchors.md section 3, lines 97-99):

* ``us``: FTC TSR 16 CFR 310.4(b)(4)(iii) safe harbor, "a recorded message (seller name +
  phone) whenever no rep is available within 2 s of the completed greeting" (line 97);
  FCC 47 CFR 64.1200(a)(7) the same, plus an automated opt-out (line 98);
* ``uk``: Ofcom's persistent-misuse statement (2016, in force 1 March 2017), "Non-marketing
  information message (caller + free/basic-rate number) within 2 s" (line 99).

``cn`` and ``none`` set no such rule (line 100: China sets no abandon rule), so they keep
the tone. A uk or us campaign without a file would be non-compliant from its first
abandoned call, so its start is refused. There is deliberately no override: a test lab
gives any WAV in its gateway's prompts folder (the emulated gateway plays it too), or
runs its campaign under ``regime = "none"``.
"""

from __future__ import annotations

from collections.abc import Iterable

from trunkline.dialer.vocab import Regime
from trunkline.errors import ConfigError

__all__ = ["MESSAGE_REGIMES", "AbandonMessageRequired", "require_abandon_message"]

#: The regimes whose abandoned calls must hear a recorded message naming the caller.
MESSAGE_REGIMES: frozenset[Regime] = frozenset({Regime.US, Regime.UK})

_RULE = {Regime.US: "the US TSR safe harbor (16 CFR 310.4(b)(4)(iii)) requires a recorded "
                    "message naming the seller and a number to call within 2 s",
         Regime.UK: "Ofcom's persistent-misuse statement requires a recorded information "
                    "message naming the caller and a number to call back within 2 s"}


class AbandonMessageRequired(ConfigError):
    """A start refused for want of an abandon message; ``campaign`` and ``regime`` let
    a client say it in its own language (the console's start button)."""

    def __init__(self, message: str, *, campaign: str, regime: Regime) -> None:
        super().__init__(message)
        self.campaign = campaign
        self.regime = regime


def require_abandon_message(campaigns: Iterable[tuple[str, Regime | str]],
                            abandon_file: str | None, *,
                            setting: str = "--abandon-file") -> None:
    """Raise :class:`AbandonMessageRequired` (a :class:`ConfigError`) when
    ``abandon_file`` is not given and one of ``campaigns`` (``(name, regime)``) is under
    a regime of :data:`MESSAGE_REGIMES`; the message names the campaign, the regime, its
    rule and ``setting``."""
    if abandon_file:
        return
    for name, raw in campaigns:
        regime = Regime(raw)
        if regime in MESSAGE_REGIMES:
            raise AbandonMessageRequired(   # "(regime X)": read by the console (console.js)
                f"campaign {name!r} (regime {regime}): no abandon message: {_RULE[regime]}, "
                f"and a tone names nobody; give {setting} WAV (a file in the gateway's "
                "prompts folder), or run the campaign under a regime without this rule",
                campaign=name, regime=regime)
