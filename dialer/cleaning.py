"""List cleaning (外呼数据预处理, issue 7 item 3): find the bad numbers before the real campaign.

A *cleaning campaign* is an ordinary campaign in the store whose config says
``{"type": "cleaning", "cleaning": {...settings...}}``. :class:`CleaningRunner` dials its
list through a :class:`~trunkline.dialer.runner.gateway.GatewayPort` with no agents and no pacing
engine: it keeps up to ``concurrency`` lines busy, places at most ``rate`` calls a second
(carriers flag bursts of short calls), and **releases every call before it is answered**:
as soon as the network says the number rings (PRI ALERTING, FXO ring-back heard: the
gateway's ``call.state ringing``) the call is hung up. What the network said until then
classifies the number:

=============  ==================================================================
class          meaning
=============  ==================================================================
``invalid``    the number does not exist (空号): Q.850 cause 1, 22, 28; SIT; an
               "invalid number" / "not in service" announcement
``barred``     suspended or barred from incoming calls (停机): cause 54, 55; a
               "call barred" announcement
``powered_off``  the phone is off (关机): cause 20; a "powered off" announcement
``unreachable``  out of coverage or out of order (无法接通): cause 18, 27; an
               "unreachable" announcement
``live``       the number rang, was busy or answered: it exists and works
``unknown``    nothing decisive (congestion, network errors, silence) after the
               configured retries
=============  ==================================================================

How each piece of evidence is read is in the tables below (:data:`CAUSE_CLASSES`,
:data:`ANNOUNCEMENT_CLASSES`, :data:`SIT_CLASSES`, :data:`OUTCOME_CLASSES`); one
:class:`Probe` per call applies them in one place (see its transition table). A call
whose evidence is undetermined (``unknown``) is tried again ``retries`` times, each
``retry_after`` seconds later, before the number is reported as ``unknown``.

The store's contract holds as for the campaign runner (docs/campaigns.md): a contact is
claimed (``claim_next``, committed) and its attempt is marked ``dialing`` (committed,
DNC re-checked) **before** the originate is sent; the gateway's call id is stored as the
attempt's ``call_ref``. The verdict is committed in one transaction: the attempt's
``outcome`` and ``cause`` (what the call did, in the dialer's outcome vocabulary), its
``note`` (JSON: the class and the evidence), and the contact's state: ``done`` with
``last_outcome`` = the class, or ``ready`` again for a retry. No schema change: only the
existing tables are used.

:func:`apply_cleaning` then removes the bad numbers from the campaign that will really be
dialled: each goes on the *target campaign's* DNC list (``kind`` = the class, ``source`` =
the cleaning campaign), and the target's contacts still waiting are set to ``dnc``, so
they are never claimed; numbers imported into the target later are barred at claim time.
By default only ``invalid`` and ``barred`` are removed (:data:`DEFAULT_REMOVE`): those are
properties of the number; a phone powered off or out of coverage is usually so for hours.

What it does not do: it cannot tell a carrier that *answers* to play an announcement from
a person (the call is hung up at the answer: ``live``); such carriers need their
announcement recognised before the answer, or the numbers come out ``live``. Unrecognised
announcements on FXO lines without polarity reversal are taken by the gateway as an
answer (docs/emulated-network.md, the FXO controller): add the carrier's recording
(``trunkline announcements add``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Store
from trunkline.dialer.vocab import CallOutcome
from trunkline.drivers.signalling.pri.causes import cause_name, outcome_for_cause
from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import RpcError

log = structlog.get_logger("trunkline.dialer.cleaning")

# -- classes ---------------------------------------------------------------------------------

INVALID = "invalid"
BARRED = "barred"
POWERED_OFF = "powered_off"
UNREACHABLE = "unreachable"
LIVE = "live"
UNKNOWN = "unknown"

#: Every class a cleaned number can end in, the bad ones first.
CLASSES: tuple[str, ...] = (INVALID, BARRED, POWERED_OFF, UNREACHABLE, UNKNOWN, LIVE)
#: Classes ``clean apply --remove`` accepts (removing ``live`` numbers would empty a list).
REMOVABLE: tuple[str, ...] = (INVALID, BARRED, POWERED_OFF, UNREACHABLE, UNKNOWN)
#: Removed by default: states of the number itself. ``powered_off`` and ``unreachable``
#: are usually temporary (a phone off for the night, a basement), ``unknown`` says nothing.
DEFAULT_REMOVE: tuple[str, ...] = (INVALID, BARRED)

#: The attempt outcome (the dialer's vocabulary, DESIGN.md) recorded for a bad class when
#: the call's own outcome does not say it better.
CLASS_OUTCOME: Mapping[str, str] = {
    INVALID: "invalid_number", BARRED: "rejected", POWERED_OFF: "unreachable",
    UNREACHABLE: "unreachable",
}

#: Q.850 causes (ITU-T Q.850 05/1998, clause 2.2.7; names in
#: :data:`trunkline.drivers.signalling.pri.causes.Q850_CAUSES`) that say what the
#: number is, when the network clears the call before any answer. Every other cause
#: says nothing about the number (16/31: no information; 34, 38, 41, 42, 44, 47: the
#: network's resources; 2, 3: routing; 21: "may also be generated by the network ...
#: supplementary service constraint"; 50, 52, 57, 58, 63: our own subscription) and is
#: retried.
CAUSE_CLASSES: Mapping[int, str] = {
    1: INVALID,        # Unallocated (unassigned) number
    22: INVALID,       # Number changed: "no longer assigned" (else cause 1 is used)
    28: INVALID,       # Invalid number format (address incomplete)
    54: BARRED,        # Incoming calls barred
    55: BARRED,        # Incoming calls barred within CUG
    20: POWERED_OFF,   # Subscriber absent: "a mobile station has logged off, radio
                       # contact is not obtained ... temporarily not addressable"
    18: UNREACHABLE,   # No user responding: no ALERTING or CONNECT in time (T303/T310)
    27: UNREACHABLE,   # Destination out of order: "user equipment off-line"
    17: LIVE,          # User busy: the user exists and is on another call
    19: LIVE,          # No answer from user (user alerted): it rang
}

#: Announcement kinds (:data:`trunkline.drivers.dsp.announcements.KINDS`, as the gateway's
#: ``announcement`` event names them) -> (class, attempt outcome). ``unknown`` is what
#: the FXO controller reports for sound it could not name on a polarity-reversal line.
ANNOUNCEMENT_CLASSES: Mapping[str, tuple[str, str]] = {
    "invalid_number": (INVALID, "invalid_number"),   # 您拨打的号码是空号
    "not_in_service": (INVALID, "invalid_number"),   # 号码不存在 / "not in service"
    "call_barred": (BARRED, "rejected"),             # 已停机 / "calls are restricted"
    "powered_off": (POWERED_OFF, "unreachable"),     # 已关机
    "unreachable": (UNREACHABLE, "unreachable"),     # 暂时无法接通 / "not available"
    "busy": (LIVE, "busy"),                          # 正在通话中
    "no_answer": (LIVE, "no_answer"),                # 暂时无人接听: it rang
    "congestion": (UNKNOWN, "congestion"),           # 网络忙
    "other": (UNKNOWN, "unreachable"),
}

#: Special information tone codes (the detector's ``SitEvent.code``; the gateway also
#: publishes SIT as ``tone`` ``sit`` with no code, read as ``ITU``) -> class. NANP codes
#: (Telcordia; shared/reference/detection-anchors.md section 4): IC intercept and VC
#: vacant code precede "not in service" intercepts; NC no circuit and RO reorder are the
#: network's trouble. ITU-T E.180/Q.35 SIT carries no reason; carriers in China play it
#: before 空号 announcements, and the gateway's FXO controller already releases on it as
#: ``invalid_number``.
SIT_CLASSES: Mapping[str, str] = {
    "ITU": INVALID, "IC": INVALID, "VC": INVALID, "unknown": INVALID,
    "NC": UNKNOWN, "RO": UNKNOWN,
}

#: The gateway's final ``outcome`` of a call it cleared itself, when no cause, SIT or
#: announcement decided first (FXO lines give no causes: their controller decides from
#: tones). ``busy``: a busy tone or cause 17, the line exists. ``rejected`` alone (cause 21
#: or an FXO ``call_barred`` release whose announcement we did not see) is ambiguous.
OUTCOME_CLASSES: Mapping[str, str] = {
    "busy": LIVE, "human": LIVE, "machine": LIVE, "fax": LIVE, "abandoned": LIVE,
    "invalid_number": INVALID, "unreachable": UNREACHABLE,
    "congestion": UNKNOWN, "no_answer": UNKNOWN, "rejected": UNKNOWN, "error": UNKNOWN,
}

#: The gateway events a cleaning run needs (``tone``/``sit``: SIT before the announcement).
EVENTS = ["call.state", "announcement", "tone", "sit"]
#: At most this many lines by default (one E1's worth): the rest of the group is left to
#: the campaigns running beside the cleaning.
MAX_CONCURRENCY = 30
#: How long to wait for the gateway's ``hungup`` after we asked for the hang-up.
HANGUP_GRACE = 10.0
#: A refused originate (no free channel) puts the contact back for this long.
REFUSED_BACKOFF = 5.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one call says about its number: the class, the attempt outcome, and why."""

    cls: str
    outcome: str
    evidence: str
    cause: int | None = None

    def __post_init__(self) -> None:
        if self.cls not in CLASSES:
            raise ValueError(f"unknown class {self.cls!r}; classes: {', '.join(CLASSES)}")
        CallOutcome(self.outcome)  # raises ValueError for a word outside the vocabulary


def verdict_for_announcement(kind: str) -> Verdict:
    """The verdict of a network announcement heard before any answer."""
    cls, outcome = ANNOUNCEMENT_CLASSES.get(kind, (UNKNOWN, "unreachable"))
    what = "unrecognised announcement" if kind not in ANNOUNCEMENT_CLASSES else \
        f"announcement {kind}"
    return Verdict(cls, outcome, what)


def verdict_for_sit(code: str | None) -> Verdict:
    """The verdict of a special information tone with nothing more specific after it."""
    code = code or "ITU"
    cls = SIT_CLASSES.get(code, INVALID)
    return Verdict(cls, CLASS_OUTCOME.get(cls, "congestion"), f"SIT ({code})")


def verdict_for_cause(cause: int | None) -> Verdict | None:
    """The verdict of a Q.850 clearing cause before answer, or None if it says nothing."""
    if cause is None or cause not in CAUSE_CLASSES:
        return None
    cls = CAUSE_CLASSES[cause]
    outcome = CLASS_OUTCOME.get(cls) or outcome_for_cause(cause)
    return Verdict(cls, outcome, f"cause {cause} ({cause_name(cause)})", cause)


def verdict_for_clearing(outcome: str | None, cause: int | None, *, sit: str | None = None
                         ) -> Verdict:
    """The verdict of a call the network (or the gateway's controller) ended before we did.

    Order: a decisive Q.850 cause, then a SIT heard on the way, then the gateway's outcome
    (:data:`OUTCOME_CLASSES`); anything else is ``unknown`` (retried).
    """
    by_cause = verdict_for_cause(cause)
    if by_cause is not None:
        return by_cause
    said = str(outcome or "error")
    words = f"gateway outcome {said}" + (f", cause {cause}" if cause is not None else "")
    if sit is not None:  # SIT says more than the outcome a controller derived from it
        by_sit = verdict_for_sit(sit)
        return replace(by_sit, evidence=f"{by_sit.evidence}; {words}", cause=cause)
    recorded = said if said in _OUTCOMES else "error"
    return Verdict(OUTCOME_CLASSES.get(said, UNKNOWN), recorded, words, cause)


_OUTCOMES = frozenset(str(o) for o in CallOutcome)


# -- one call --------------------------------------------------------------------------------

@dataclass(slots=True)
class Probe:
    """One cleaning call, as a small sans-IO machine: gateway events and time in, "hang up
    now" out. All its rules are here::

        input (before a verdict)                  verdict                     then
        call.state ringing (ALERTING, ring-back)  live (no_answer: it rang)   hang up
        call.state answered                       live (abandoned)            hang up at once
        announcement KIND                         ANNOUNCEMENT_CLASSES[KIND]  hang up
        sit / tone sit                            (remembered)                wait for more
        sit_wait s after the SIT                  SIT_CLASSES[code]           hang up
        listen s after the originate              unknown                     hang up
        call.state hungup                         verdict_for_clearing(...)   record
        call.state hungup (verdict given)         the verdict                 record

    Events after the verdict change nothing, except an answer that beat our hang-up: it
    is remembered (the attempt is recorded as ``abandoned``: a person picked up to
    silence, which regulators count).
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

    def on_event(self, event: Mapping[str, Any], now: float) -> bool:
        """Feed one gateway event of this call; True: hang up now."""
        kind = event.get("event")
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
        is_sit = kind == "sit" or (kind == "tone" and event.get("tone") == "sit")
        if is_sit and self.sit is None:
            self.sit = str(event.get("code") or "ITU")
            self.sit_at = now
        return False

    def on_time(self, now: float, *, listen: float, sit_wait: float) -> bool:
        """Deadlines; True: hang up now."""
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
        return verdict

    def _decide(self, verdict: Verdict, now: float, *, live: bool = False) -> bool:
        if self.verdict is None:
            self.verdict = verdict
            self.decided_at = now
            if live:
                self.live_at = now
        return self.released_at is None


# -- settings --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CleaningSettings:
    """A cleaning campaign's settings (its config's ``cleaning`` table).

    ``concurrency``: lines kept busy (None: the group's channels, at most
    :data:`MAX_CONCURRENCY`); ``rate``: new calls per second at most; ``retries``: more
    tries for a number whose calls said nothing decisive; ``retry_after``: seconds before
    such a try; ``listen``: seconds a call may go on with nothing decisive; ``sit_wait``:
    seconds after a SIT to wait for the announcement or the cause that says more.
    """

    concurrency: int | None = None
    rate: float = 1.0
    retries: int = 2
    retry_after: float = 600.0
    listen: float = 30.0
    sit_wait: float = 8.0

    def __post_init__(self) -> None:
        c = self.concurrency
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise ValueError(f"concurrency must be a whole number >= 1, got {c!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) \
                or not 0 <= self.retries <= 10:
            raise ValueError(f"retries must be a whole number 0..10, got {self.retries!r}")
        for name, low, high in (("rate", 0.01, 100.0), ("retry_after", 0.0, 7 * 86_400.0),
                                ("listen", 5.0, 300.0), ("sit_wait", 0.0, 30.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not low <= value <= high:
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], "
                                 f"got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def is_cleaning(store: Store, campaign: str) -> bool:
    """Whether ``campaign`` (which must exist) is a list-cleaning campaign."""
    return store.campaign_config(campaign).get("type") == "cleaning"


def require_cleaning(store: Store, campaign: str) -> None:
    """Raise :class:`ConfigError` unless ``campaign`` is a cleaning campaign."""
    if not is_cleaning(store, campaign):
        raise ConfigError(f"campaign {campaign!r} is not a list-cleaning campaign; create "
                          f"one with `trunkline dialer clean create NAME --from-campaign "
                          f"{campaign}`")


def refuse_cleaning_campaign(store: Store, campaign: str) -> None:
    """For ``trunkline dialer run``: a cleaning campaign has no agents and its own runner."""
    if is_cleaning(store, campaign):
        raise ConfigError(f"campaign {campaign!r} is a list-cleaning campaign: run it with "
                          f"`trunkline dialer clean run --campaign {campaign}`")


def cleaning_settings(store: Store, campaign: str, **overrides: Any) -> CleaningSettings:
    """``campaign``'s stored settings, then ``overrides`` (None values ignored), checked."""
    require_cleaning(store, campaign)
    stored = dict(store.campaign_config(campaign).get("cleaning") or {})
    stored.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(CleaningSettings)}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ConfigError(f"campaign {campaign!r}: unknown cleaning settings "
                          f"{', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return CleaningSettings(**stored)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"campaign {campaign!r}: {err}") from err


def create_cleaning_campaign(store: Store, name: str, *, now: float,
                             source: str | None = None, strategy: Strategy | None = None,
                             settings: CleaningSettings | None = None) -> dict[str, int]:
    """Create (or update) cleaning campaign ``name``; copy ``source``'s contacts into it.

    The strategy (calling windows: a ringing phone at night wakes people, released or
    not) is ``strategy``, else the source's, else the default. Contacts already on a DNC
    list in the source (state ``dnc``) are not copied. Re-running merges: contacts keep
    their cleaning history. Returns ``{"added": n, "merged": m}``.
    """
    if source is not None:
        store.campaign_id(source)  # raises for an unknown campaign
        if source == name:
            raise ConfigError(f"a cleaning campaign cannot copy itself ({name!r})")
    if name in store.campaigns():
        if not is_cleaning(store, name):
            raise ConfigError(f"campaign {name!r} already exists and is not a list-cleaning "
                              "campaign; give the cleaning campaign another name")
        if settings is None:
            settings = cleaning_settings(store, name)
        if strategy is None:
            strategy = store.strategy(name)
    if strategy is None:
        strategy = store.strategy(source) if source is not None else Strategy()
    settings = settings or CleaningSettings()
    store.create_campaign(name, strategy, config={"type": "cleaning",
                                                  "cleaning": settings.to_dict()}, now=now)
    if source is None:
        return {"added": 0, "merged": 0}
    rows = store.copyable_contacts(source)
    counts = store.add_list(name, f"from campaign {source}", rows, now=now,
                            source=f"campaign:{source}")
    return {"added": counts["added"], "merged": counts["merged"]}


# -- recording -------------------------------------------------------------------------------

def record_verdict(store: Store, attempt: int, verdict: Verdict, now: float, *,
                   settings: CleaningSettings, answered_at: float | None = None) -> str:
    """Commit one call's verdict; returns the contact's class, or ``"retry"``.

    :meth:`Store.record_verdict <trunkline.dialer.store.cleaning.CleaningRecords.record_verdict>`
    in one transaction: the attempt's outcome, cause and note (JSON class and evidence),
    and the contact: ``done`` with ``last_outcome`` = the class, or, for an ``unknown``
    verdict with tries left, ``ready`` at ``retry_after`` (moved into the strategy's calling
    window). Idempotent for an attempt already recorded.
    """
    retry = (settings.retries, settings.retry_after) if verdict.cls == UNKNOWN else None
    return store.record_verdict(attempt, cls=verdict.cls, outcome=verdict.outcome,
                                evidence=verdict.evidence, now=now, cause=verdict.cause,
                                answered_at=answered_at, retry=retry)


# -- the runner ------------------------------------------------------------------------------

@dataclass
class CleaningSummary:
    """What one cleaning run did."""

    campaign: str
    started: float
    ended: float
    concurrency: int
    dials: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    answered: int = 0
    refused_dnc: int = 0
    not_dialled: int = 0
    max_release_s: float | None = None
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "seconds": round(self.ended - self.started, 1),
                "concurrency": self.concurrency, "dials": self.dials,
                "classes": {c: self.classes.get(c, 0) for c in CLASSES},
                "retries_scheduled": self.retries, "answered_before_release": self.answered,
                "refused_dnc": self.refused_dnc, "not_dialled": self.not_dialled,
                "max_live_to_release_s": None if self.max_release_s is None
                else round(self.max_release_s, 2),
                "list_finished": self.finished}

    def lines(self) -> list[str]:
        d = self.as_dict()
        classes = ", ".join(f"{k} {v}" for k, v in d["classes"].items())
        return [
            f"cleaning {self.campaign}: {d['seconds']} s, {self.concurrency} lines, "
            f"{self.dials} calls",
            f"classes: {classes}",
            f"retries scheduled {self.retries}, answered before release {self.answered}, "
            f"refused (DNC) {self.refused_dnc}, not dialled (gateway busy) {self.not_dialled}",
            f"live signal to release: at most {d['max_live_to_release_s']} s",
            "list finished" if self.finished else "list not finished",
        ]


class CleaningRunner:
    """Dial a cleaning campaign's list through a gateway, releasing before answer.

    ``gateway`` is a :class:`~trunkline.dialer.runner.gateway.GatewayPort` (``LiveGateway`` over
    the gateway socket, subscribed to :data:`EVENTS` by :func:`live_gateway`, or
    ``InProcessGateway`` on the emulated card in virtual time). ``group`` is the channel
    group calls go out on. ``settings`` default to the campaign's stored ones. Raises
    :class:`ConfigError` for a campaign that is not a cleaning campaign, or an unknown group.
    """

    def __init__(self, store: Store, campaign: str, gateway: Any, *,
                 group: str = "outbound", settings: CleaningSettings | None = None,
                 home_country: str = "86", progress: Callable[[str], None] | None = None,
                 progress_every: float = 60.0) -> None:
        self.store = store
        self.campaign = campaign
        self.gateway = gateway
        self.settings = settings or cleaning_settings(store, campaign)
        require_cleaning(store, campaign)
        channels = gateway.group(group)
        if not channels:
            raise ConfigError(f"channel group {group!r} has no channels")
        wanted = self.settings.concurrency or MAX_CONCURRENCY
        self.concurrency = min(wanted, len(channels))
        self.group = group
        self.home_country = home_country
        self.progress = progress
        self.progress_every = progress_every
        self.probes: dict[int, Probe] = {}
        self.classes: Counter[str] = Counter()
        self.dials = 0
        self.retries = 0
        self.answered = 0
        self.refused = 0
        self.not_dialled = 0
        self.release_delays: list[float] = []
        self.gateway_errors: list[str] = []
        #: ``(gateway call, number, placed at)`` of every originate (tests and audits).
        self.placed: list[tuple[int, str, float]] = []
        self._next_dial = -math.inf
        self._idle_until = -math.inf
        self._closed = False
        self._stop_requested = False
        self._started: float | None = None
        self._next_progress = math.inf

    # -- public ----------------------------------------------------------------------------

    def start(self) -> None:
        """Settle attempts a previous run left open (a crash), then begin."""
        now = self.gateway.now()
        self._started = now
        self._next_progress = now + self.progress_every
        counts = self._settle_previous(now)
        if any(counts.values()):
            log.info("cleaning_reconciled", campaign=self.campaign, **counts)

    def run(self, *, seconds: float | None = None) -> CleaningSummary:
        """Run until every number is classified or ``seconds`` have passed, then let the
        calls in flight end (they last at most ``listen`` seconds) and summarise."""
        if self._started is None:
            self.start()
        assert self._started is not None
        until = math.inf if seconds is None else self._started + seconds
        finished = False
        while not self._stop_requested:
            now = self.step(until)
            if self._list_finished():
                finished = True
                break
            if now >= until or self._nothing_due_before(until):
                break
        self._closed = True
        end = self.gateway.now() + self.settings.listen + HANGUP_GRACE + 5.0
        while self.probes and self.gateway.now() < end:
            self.step(end)
        for probe in list(self.probes.values()):  # the gateway never said: settle them
            self._finish(probe, Verdict(UNKNOWN, "error", "no end reported by the gateway"),
                         self.gateway.now())
        return self.summary(finished=finished or self._list_finished())

    def request_stop(self) -> None:
        """No new calls; the calls in flight end; then :meth:`run` returns."""
        self._stop_requested = True

    def step(self, until: float = math.inf) -> float:
        """One turn: place calls the limits allow, wait for events or the next deadline."""
        now = self.gateway.now()
        self._dial_more(now)
        deadline = min(until, now + 1.0, self._next_deadline(now))
        events = self.gateway.wait(deadline)
        now = self.gateway.now()
        for event in events:
            self._on_event(event, now)
        for probe in list(self.probes.values()):
            self._on_time(probe, now)
        if self.progress is not None and now >= self._next_progress:
            self._next_progress = now + self.progress_every
            self.progress(self.progress_line(now))
        return now

    def progress_line(self, now: float) -> str:
        started = self._started if self._started is not None else now
        classes = " ".join(f"{c} {self.classes.get(c, 0)}" for c in CLASSES)
        return (f"+{now - started:7.0f}s calls {self.dials} in flight {len(self.probes)} "
                f"{classes} retries {self.retries}")

    def summary(self, *, finished: bool = False) -> CleaningSummary:
        started = self._started if self._started is not None else self.gateway.now()
        return CleaningSummary(
            self.campaign, started, self.gateway.now(), self.concurrency, self.dials,
            dict(self.classes), self.retries, self.answered, self.refused, self.not_dialled,
            max(self.release_delays, default=None), finished)

    def dial_string(self, e164: str) -> str:
        """What to send to the gateway for a stored (E.164) number."""
        try:
            return normalise(e164).dial_string(self.home_country)
        except InvalidNumber:
            return e164.lstrip("+")

    # -- dialling --------------------------------------------------------------------------

    def _can_dial(self, now: float) -> bool:
        return (not self._closed and not self._stop_requested
                and len(self.probes) < self.concurrency
                and now >= self._next_dial and now >= self._idle_until)

    def _next_deadline(self, now: float) -> float:
        s = self.settings
        when = min((p.deadline(listen=s.listen, sit_wait=s.sit_wait)
                    for p in self.probes.values()), default=math.inf)
        if not self._closed and not self._stop_requested \
                and len(self.probes) < self.concurrency:
            when = min(when, max(self._next_dial, self._idle_until))
        return max(when, now)

    def _dial_more(self, now: float) -> None:
        while self._can_dial(now):
            claim = self.store.claim_next(self.campaign, now)         # committed: claimed
            if claim is None:
                self._idle_until = now + 1.0   # look at the list again in a second
                return
            if not self.store.mark_dialing(claim.attempt, now):       # committed: dialing
                self.refused += 1              # went on a DNC list since it was claimed
                continue
            number = self.dial_string(claim.number)
            try:
                gw = self.gateway.originate(number, group=self.group,
                                            ring_timeout=self.settings.listen)
            except RpcError as err:
                self._refused_originate(claim.attempt, number, err, now)
                return
            self.store.set_call_ref(claim.attempt, str(gw))
            self.probes[gw] = Probe(gw, claim.attempt, claim.contact, number, now)
            self.placed.append((gw, number, now))
            self.dials += 1
            self._next_dial = now + 1.0 / self.settings.rate

    def _refused_originate(self, attempt: int, number: str, err: RpcError,
                           now: float) -> None:
        if err.name == "conflict":  # no free channel, or the gateway is draining
            self.not_dialled += 1
            self.store.release_undialled(attempt, now, not_before=now + REFUSED_BACKOFF,
                                         reason=f"gateway refused: {err.message}")
            self._idle_until = now + REFUSED_BACKOFF / 2
            return
        self._gateway_error(f"cannot dial {number}: {err}")
        verdict = Verdict(UNKNOWN, "error", f"gateway refused the number: {err.message}")
        self._count(record_verdict(self.store, attempt, verdict, now,
                                   settings=self.settings))

    # -- gateway side ----------------------------------------------------------------------

    def _on_event(self, event: Mapping[str, Any], now: float) -> None:
        probe = self.probes.get(event.get("call"))  # type: ignore[arg-type]
        if probe is None:
            return
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            self._finish(probe, probe.on_hungup(event), now)
            return
        if probe.on_event(event, now):
            self._release(probe, now)

    def _on_time(self, probe: Probe, now: float) -> None:
        s = self.settings
        if probe.released_at is not None:
            if now - probe.released_at >= HANGUP_GRACE:
                self._gateway_error(f"call {probe.call} to {probe.number}: no hang-up "
                                    f"reported {HANGUP_GRACE:g} s after we asked")
                self._finish(probe, probe.on_hungup({"outcome": "error"}), now)
            return
        if probe.on_time(now, listen=s.listen, sit_wait=s.sit_wait):
            self._release(probe, now)

    def _release(self, probe: Probe, now: float) -> None:
        probe.released_at = now
        if probe.live_at is not None:
            self.release_delays.append(now - probe.live_at)
        try:
            self.gateway.hangup(probe.call)
        except RpcError as err:
            if err.name != "not_found":  # not_found: it ended meanwhile; hungup follows
                self._gateway_error(f"cannot hang up call {probe.call}: {err}")

    def _finish(self, probe: Probe, verdict: Verdict, now: float) -> None:
        del self.probes[probe.call]
        if probe.answered_at is not None:
            self.answered += 1
        self._count(record_verdict(self.store, probe.attempt, verdict, now,
                                   settings=self.settings, answered_at=probe.answered_at))

    def _count(self, result: str) -> None:
        if result == "retry":
            self.retries += 1
        elif result in CLASSES:
            self.classes[result] += 1

    # -- ending ----------------------------------------------------------------------------

    def _list_finished(self) -> bool:
        """Nothing in flight and no contact of the campaign left to call."""
        return not self.probes and self.store.open_contacts([self.campaign]) == 0

    def _nothing_due_before(self, until: float) -> bool:
        """Idle, and every waiting contact is due after ``until`` (retries, or the calling
        window opens later): waiting would only burn the run's time (virtual or not)."""
        if self.probes or math.isinf(until):
            return False
        due = self.store.next_due(self.campaign)
        return due is not None and due > until

    def _settle_previous(self, now: float) -> dict[str, int]:
        """Attempts of this campaign left open by a crash: ``claimed`` ones never left and
        are released; ``dialing`` ones are cleared on the gateway if still up (same id and
        number) and recorded as ``unknown`` (so retried, after ``retry_after``)."""
        from trunkline.dialer.runner.settling import settle_open_attempts

        return settle_open_attempts(
            self.store, self.gateway, {self.campaign}, self.dial_string,
            lambda attempt: record_verdict(
                self.store, attempt, Verdict(UNKNOWN, "error", "unknown after restart"), now,
                settings=self.settings), now)

    def _gateway_error(self, message: str) -> None:
        self.gateway_errors.append(message)
        log.warning("cleaning_gateway_error", campaign=self.campaign, error=message)


def live_gateway(address: str, *, token: str | None = None) -> Any:
    """A :class:`~trunkline.dialer.runner.gateway.LiveGateway` also subscribed to SIT and tones
    (the runner's subscription leaves them out; subscriptions add up)."""
    from trunkline.dialer.runner.gateway import EVENTS as RUNNER_EVENTS
    from trunkline.dialer.runner.gateway import LiveGateway

    gateway = LiveGateway(address, token=token)
    gateway.client.subscribe([e for e in EVENTS if e not in RUNNER_EVENTS])
    return gateway


def run_cleaning(store: Store, campaign: str, gateway: Any, *, seconds: float | None = None,
                 **options: Any) -> CleaningSummary:
    """Convenience: build a :class:`CleaningRunner`, run it, return its summary."""
    return CleaningRunner(store, campaign, gateway, **options).run(seconds=seconds)


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CleanedNumber:
    """One contact of a cleaning campaign and where it stands.

    ``status`` is a class (:data:`CLASSES`) once decided, else ``pending`` (not called
    yet), ``retrying`` (undetermined so far, due again), ``in_flight`` or ``blocked`` (on a
    DNC list: not called).
    """

    number: str
    status: str
    evidence: str | None
    tries: int
    cause: int | None
    last_at: float | None
    fields: Mapping[str, str]


#: Statuses of contacts not (yet) classified.
PENDING_STATUSES: tuple[str, ...] = ("pending", "retrying", "in_flight", "blocked")


def cleaned_numbers(store: Store, campaign: str, *,
                    statuses: Iterable[str] | None = None) -> list[CleanedNumber]:
    """Every contact of cleaning campaign ``campaign`` with its class and the evidence of
    its last call, optionally only those whose status is in ``statuses``."""
    require_cleaning(store, campaign)
    wanted = set(statuses) if statuses is not None else None
    out = []
    for r in store.cleaning_rows(campaign):
        status = _status(r["state"], r["last_outcome"], r["attempts"])
        if wanted is not None and status not in wanted:
            continue
        evidence = None
        if r["note"]:
            try:
                evidence = json.loads(r["note"]).get("evidence")
            except (ValueError, AttributeError):
                evidence = r["note"]
        if r["state"] == "dnc":
            evidence = f"on a {r['last_outcome'] or 'dnc'} list"
        out.append(CleanedNumber(r["number"], status, evidence, r["attempts"], r["cause"],
                                 r["last_at"], json.loads(r["fields"])))
    return out


def _status(state: str, last_outcome: str | None, attempts: int) -> str:
    if state == "done":
        return last_outcome if last_outcome in CLASSES else UNKNOWN
    if state == "dialing":
        return "in_flight"
    if state == "dnc":
        return "blocked"
    return "retrying" if attempts else "pending"


def class_counts(store: Store, campaign: str) -> dict[str, int]:
    """Contacts per class, then per pending status, of cleaning campaign ``campaign``."""
    counts = Counter(n.status for n in cleaned_numbers(store, campaign))
    return {s: counts.get(s, 0) for s in (*CLASSES, *PENDING_STATUSES)}


def parse_classes(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"invalid,barred"`` -> the classes; unknown or non-removable names raise
    :class:`ConfigError` naming them."""
    names = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)
             if p.strip()]
    if not names:
        raise ConfigError(f"give at least one class to remove: {', '.join(REMOVABLE)}")
    for name in names:
        if name == LIVE:
            raise ConfigError("'live' numbers cannot be removed: they are the ones to call "
                              f"(removable: {', '.join(REMOVABLE)})")
        if name not in REMOVABLE:
            raise ConfigError(f"unknown class {name!r}; removable classes: "
                              f"{', '.join(REMOVABLE)}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What :func:`apply_cleaning` did (or would do, ``dry_run``)."""

    cleaning: str
    target: str
    removed: dict[str, int]          # numbers per class put on the target's list
    dnc_added: int                   # new entries in the target's DNC list
    contacts_blocked: int            # target contacts set to 'dnc' now
    contacts_busy: int               # target contacts being dialled (barred at next claim)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"cleaning": self.cleaning, "target": self.target, "removed": self.removed,
                "dnc_added": self.dnc_added, "contacts_blocked": self.contacts_blocked,
                "contacts_being_dialled": self.contacts_busy, "dry_run": self.dry_run}


def apply_cleaning(store: Store, cleaning: str, target: str, *, now: float,
                   remove: Iterable[str] = DEFAULT_REMOVE,
                   dry_run: bool = False) -> ApplyResult:
    """Remove the numbers of cleaning campaign ``cleaning`` classed in ``remove`` from
    campaign ``target``, in one transaction.

    Each number goes on ``target``'s own DNC list (``kind`` = its class, ``source`` = the
    cleaning campaign): every claim checks it, so the number is never dialled by
    ``target``, including if it is imported again later. ``target``'s contacts with that
    number that are waiting (``ready``) become ``dnc`` with ``last_outcome`` = the class;
    one being dialled right now finishes its call and is barred at its next claim.
    """
    classes = parse_classes(list(remove))
    require_cleaning(store, cleaning)
    store.campaign_id(target)
    if target == cleaning:
        raise ConfigError(f"--to must be the campaign to be dialled, not the cleaning "
                          f"campaign {cleaning!r} itself")
    by_class: dict[str, list[str]] = {c: [] for c in classes}
    for n in cleaned_numbers(store, cleaning, statuses=classes):
        by_class[n.status].append(n.number)
    added, blocked, busy = store.block_numbers(target, by_class, source=cleaning, now=now,
                                               dry_run=dry_run)
    return ApplyResult(cleaning, target, {c: len(v) for c, v in by_class.items()}, added,
                       blocked, busy, dry_run)


def format_time(t: float | None, zone: str) -> str:
    """An epoch instant as local ISO text in ``zone`` ('' for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat(timespec="seconds")


__all__ = [
    "ANNOUNCEMENT_CLASSES", "CAUSE_CLASSES", "CLASSES", "DEFAULT_REMOVE", "EVENTS",
    "OUTCOME_CLASSES", "REMOVABLE", "SIT_CLASSES", "ApplyResult", "CleanedNumber",
    "CleaningRunner", "CleaningSettings", "CleaningSummary", "Probe", "Verdict",
    "apply_cleaning", "class_counts", "cleaned_numbers", "cleaning_settings",
    "create_cleaning_campaign", "is_cleaning", "live_gateway", "parse_classes",
    "record_verdict", "refuse_cleaning_campaign", "require_cleaning",
    "run_cleaning", "verdict_for_announcement", "verdict_for_cause", "verdict_for_clearing",
    "verdict_for_sit",
]
