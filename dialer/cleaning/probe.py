"""One cleaning call as a small sans-IO machine: gateway events and time in, "hang up
now" out (see :class:`Probe`'s transition table)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from trunkline.dialer.cleaning.verdicts import (
    LIVE,
    UNKNOWN,
    Verdict,
    verdict_for_announcement,
    verdict_for_clearing,
    verdict_for_sit,
)

#: How long to wait for the gateway's ``hungup`` after we asked for the hang-up.
HANGUP_GRACE = 10.0
#: Ring-back heard in band (the gateway's ``tone`` event): the called party is being
#: alerted, so the number is live and a person may pick up at any moment. Decisive on
#: its own, whether or not the gateway also said ``ringing``; the evidence names music
#: ring-back, so a report shows which numbers have it.
RINGBACK_TONES = {"ringback": "ring-back tone", "music": "music ring-back (彩铃)"}


@dataclass(slots=True)
class Probe:
    """One cleaning call, as a small sans-IO machine: gateway events and time in, "hang up
    now" out. All its rules are here::

        input (before a verdict)                  verdict                     then
        call.state ringing (ALERTING, ring-back)  live (no_answer: it rang)   hang up
        tone ringback / music                     live (no_answer: it rang)   hang up
        call.state answered                       live (abandoned)            the abandon message
        play.finished done / message_until        (the message is over)       hang up
        announcement KIND                         ANNOUNCEMENT_CLASSES[KIND]  hang up
        sit / tone sit                            (remembered)                wait for more
        sit_wait s after the SIT                  SIT_CLASSES[code]           hang up
        listen s after the originate              unknown                     hang up
        call.state hungup                         verdict_for_clearing(...)   record
        call.state hungup (verdict given)         the verdict                 record

    Events after the verdict change nothing, except an answer that beat our hang-up: it
    is remembered (the attempt is recorded as ``abandoned``, which regulators count).

    An answer before our release is an abandoned call: the runner plays the abandon
    message (:meth:`message_started`) and the probe asks for the hang-up when the
    gateway says it is done, or at ``message_until`` (a tone's length, or a cap on a
    stuck play), so the person never hears silence (Ofcom: an abandoned call gets a
    brief recorded information message; ../shared/reference/dialer-anchors.md).
    """

    call: int
    attempt: int
    contact: int
    number: str
    placed: float
    verdict: Verdict | None = None
    decided_at: float | None = None
    live_at: float | None = None       # the first sign of a live number (ringing/answer)
    released_at: float | None = None   # when we asked the gateway to hang up
    answered_at: float | None = None
    sit: str | None = None
    sit_at: float | None = None
    early_media: bool = False
    message: str | None = None          # what was played to the person who answered
    message_until: float | None = None  # hang up then at the latest (the message's cap)
    message_done: bool = False          # played to its end (a file: the gateway said so)

    def on_event(self, event: Mapping[str, Any], now: float) -> bool:
        """Feed one gateway event of this call; True: hang up now."""
        kind = event.get("event")
        if self.message_until is not None:  # the abandon message is playing
            if kind == "play.finished" and event.get("reason") == "done":
                self.message_done = True
                return self.released_at is None
            return False
        if kind == "call.state":
            state = event.get("state")
            if state == "ringing":
                return self._decide(Verdict(LIVE, "no_answer", "ringing"), now, live=True)
            if state == "answered":
                self.answered_at = now
                return self._decide(Verdict(LIVE, "abandoned", "answered before release"),
                                    now, live=True)
            if state == "early_media":
                self.early_media = True
            return False
        if kind == "announcement":
            verdict = verdict_for_announcement(str(event.get("kind")))
            if self.sit is not None:  # both heard: the report shows both
                verdict = replace(verdict, evidence=f"SIT ({self.sit}), {verdict.evidence}")
            return self._decide(verdict, now)
        if kind == "tone" and event.get("tone") in RINGBACK_TONES:
            heard = f"ringing: {RINGBACK_TONES[str(event.get('tone'))]}"
            if self.verdict is not None and self.verdict.evidence == "ringing" \
                    and self.decided_at == now:  # the same news as the ringing: say which
                self.verdict = replace(self.verdict, evidence=heard)
                return False
            return self._decide(Verdict(LIVE, "no_answer", heard), now, live=True)
        is_sit = kind == "sit" or (kind == "tone" and event.get("tone") == "sit")
        if is_sit and self.sit is None:
            self.sit = str(event.get("code") or "ITU")
            self.sit_at = now
        return False

    def message_started(self, what: str, *, until: float, timed: bool = False) -> None:
        """The abandon message ``what`` is playing to the person who answered; hang up
        when the gateway says it is done, at ``until`` at the latest. ``timed``: it has no
        end of its own (a tone), ``until`` is its length."""
        self.message = what
        self.message_until = until
        self.message_done = timed

    def on_time(self, now: float, *, listen: float, sit_wait: float) -> bool:
        """Deadlines; True: hang up now."""
        if self.message_until is not None:
            return self.released_at is None and now >= self.message_until
        if self.verdict is None and self.sit_at is not None and now - self.sit_at >= sit_wait:
            by_sit = verdict_for_sit(self.sit)
            return self._decide(replace(by_sit, evidence=by_sit.evidence + ", nothing after"),
                                now)
        if self.verdict is None and now - self.placed >= listen:
            return self._decide(Verdict(UNKNOWN, "no_answer",
                                        f"nothing decisive within {listen:g} s"), now)
        return False

    def deadline(self, *, listen: float, sit_wait: float) -> float:
        """When :meth:`on_time` next has something to do."""
        if self.released_at is not None:
            return self.released_at + HANGUP_GRACE
        if self.message_until is not None:
            return self.message_until
        if self.verdict is not None:
            return math.inf
        when = self.placed + listen
        if self.sit_at is not None:
            when = min(when, self.sit_at + sit_wait)
        return when

    def on_hungup(self, event: Mapping[str, Any]) -> Verdict:
        """The call is over: the final verdict."""
        cause = event.get("cause")
        cause = int(cause) if isinstance(cause, int) and not isinstance(cause, bool) else None
        verdict = self.verdict
        if verdict is None:
            verdict = verdict_for_clearing(event.get("outcome"), cause, sit=self.sit)
            if verdict.cls == LIVE and str(event.get("outcome")) in ("human", "machine", "fax"):
                verdict = Verdict(LIVE, "abandoned", "answered before release", cause)
        if self.answered_at is not None and verdict.outcome != "abandoned":
            verdict = replace(verdict, outcome="abandoned",
                              evidence=verdict.evidence + "; answered before release")
        if self.message is not None:
            how = "played" if self.message_done else "started, not played to its end"
            verdict = replace(verdict, evidence=f"{verdict.evidence}; abandon message "
                                                f"{self.message} {how}")
        return verdict

    def _decide(self, verdict: Verdict, now: float, *, live: bool = False) -> bool:
        if self.verdict is None:
            self.verdict = verdict
            self.decided_at = now
            if live:
                self.live_at = now
        return self.released_at is None

