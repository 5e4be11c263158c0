"""The cleaning runner: a cleaning campaign's list dialled through a gateway, every call
released before it is answered, every verdict committed as it comes.

It keeps up to ``concurrency`` lines busy and places at most ``rate`` calls a second, and
at most ``trunk_per_minute`` a minute, ``trunk_min_gap`` apart, on its trunk; one
:class:`~trunkline.dialer.cleaning.probe.Probe` per call reads what the network says.
The turn, the timers (each probe's next deadline), the shift, the start after a crash
and the gateway errors are the campaign runner's too
(:class:`~trunkline.dialer.runner.base.GatewayRunner`).

A call answered before its release (on FXO lines a song heard from a silent intro is
named too late) is an abandoned call: it gets the abandon message a campaign's
abandoned calls get, with the same settings (``abandon_file``, else ``abandon_tone``
for ``abandon_seconds``), the same gateway call (``call.play``) and the same check at
start (``prompts.check``, :mod:`~trunkline.dialer.runner.sound_files`), then it is
released: no answered cleaning call is silent (Ofcom's persistent-misuse statement: an
abandoned call gets a brief recorded information message naming the caller; US TSR 16
CFR 310.4(b)(4)(iii) likewise; ../shared/reference/dialer-anchors.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog

from trunkline.dialer.cleaning.probe import HANGUP_GRACE, Probe
from trunkline.dialer.cleaning.results import record_verdict
from trunkline.dialer.cleaning.settings import (
    MAX_CONCURRENCY,
    CleaningSettings,
    cleaning_settings,
    require_cleaning,
)
from trunkline.dialer.cleaning.trunk_limit import TrunkLimiter
from trunkline.dialer.cleaning.verdicts import CLASSES, UNKNOWN, Verdict
from trunkline.dialer.runner.base import GatewayRunner
from trunkline.dialer.runner.gateway import REQUEST_FAILED, GatewayPort
from trunkline.dialer.runner.sound_files import check_sound_files
from trunkline.dialer.runner.tags import attempt_tag
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import RpcError

#: The gateway events a cleaning run needs (``tone``/``sit``: SIT before the announcement;
#: ``play.finished``: the abandon message of a call answered before its release is over).
EVENTS = ("call.state", "announcement", "tone", "sit", "play.finished")
#: A refused originate (no free channel) puts the contact back for this long.
REFUSED_BACKOFF = 5.0
#: An abandon message file is cut after this long if the gateway never says it ended
#: (the campaign runner's cap on the same message).
MESSAGE_CAP = 60.0


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


class CleaningRunner(GatewayRunner[CleaningSummary]):
    """Dial a cleaning campaign's list through a gateway, releasing before answer.

    ``gateway`` is a :class:`~trunkline.dialer.runner.gateway.GatewayPort`
    (``LiveGateway`` over the gateway socket, subscribed to :data:`EVENTS` by
    :meth:`live_gateway`, or ``InProcessGateway`` on the emulated card in virtual time).
    ``group`` is the channel group calls go out on. ``settings`` default to the campaign's
    stored ones. ``abandon_file`` (a WAV on the gateway host), else ``abandon_tone`` for
    ``abandon_seconds``, is played to a call answered before its release, as a
    campaign's abandoned calls (the module docstring). Raises :class:`ConfigError` for a
    campaign that is not a cleaning campaign, or an unknown group.
    """

    EVENTS: ClassVar[tuple[str, ...]] = EVENTS
    log: ClassVar[Any] = structlog.get_logger("trunkline.dialer.cleaning")
    log_prefix: ClassVar[str] = "cleaning"

    def __init__(self, store: Store, campaign: str, gateway: GatewayPort, *,
                 group: str = "outbound", settings: CleaningSettings | None = None,
                 abandon_file: str | None = None, abandon_tone: str = "info",
                 abandon_seconds: float = 3.0,
                 home_country: str = "86", progress: Callable[[str], None] | None = None,
                 progress_every: float = 60.0) -> None:
        super().__init__(store, gateway, home_country=home_country, progress=progress,
                         progress_every=progress_every)
        self.campaign = campaign
        self.settings = settings or cleaning_settings(store, campaign)
        require_cleaning(store, campaign)
        channels = gateway.group(group)
        if not channels:
            raise ConfigError(f"channel group {group!r} has no channels")
        wanted = self.settings.concurrency or MAX_CONCURRENCY
        self.concurrency = min(wanted, len(channels))
        self.group = group
        self.abandon_file = abandon_file
        self.abandon_tone = abandon_tone
        self.abandon_seconds = abandon_seconds
        #: ``(gateway call, what was played)`` of every abandon message (tests and audits)
        self.messages: list[tuple[int, str]] = []
        self.probes: dict[int, Probe] = {}
        self.classes: Counter[str] = Counter()
        self.dials = 0
        self.retries = 0
        self.answered = 0
        self.refused = 0
        self.not_dialled = 0
        self.release_delays: list[float] = []
        #: ``(gateway call, number, placed at)`` of every originate (tests and audits).
        self.placed: list[tuple[int, str, float]] = []
        self._next_dial = -math.inf
        self._idle_until = -math.inf
        #: per-trunk pacing (carriers flag bursts of ring-and-release calls on a trunk)
        self.trunks = TrunkLimiter(per_minute=self.settings.trunk_per_minute,
                                   min_gap=self.settings.trunk_min_gap)
        self._closed = False

    @property
    def drain(self) -> float:  # type: ignore[override]
        """The calls in flight last at most ``listen`` seconds, an abandon message its
        cap, and the hang-up's grace."""
        message = MESSAGE_CAP if self.abandon_file else self.abandon_seconds
        return self.settings.listen + message + HANGUP_GRACE + 5.0

    def start(self) -> None:
        """Check the abandon message on the gateway (one it could not play stops the
        start, naming it: sound_files.py), then settle and begin as every runner."""
        check_sound_files(self.gateway, {"abandon_file": self.abandon_file})
        super().start()

    # -- public ----------------------------------------------------------------------------

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

    # -- the shift (GatewayRunner's hooks) -------------------------------------------------

    def _own_campaigns(self) -> Collection[str]:
        return {self.campaign}

    def _log_context(self) -> Mapping[str, Any]:
        return {"campaign": self.campaign}

    def _record_unknown(self, attempt: int, now: float) -> None:
        """A call of a crashed run: cleared on the gateway if still up (same id and
        number), recorded as ``unknown`` (so retried, after ``retry_after``)."""
        record_verdict(self.store, attempt, Verdict(UNKNOWN, "error", "unknown after restart"),
                       now, settings=self.settings)

    def _before_wait(self, now: float) -> None:
        self._dial_more(now)

    def _next_deadline(self, now: float) -> float:
        """When dialling may go on (the probes' deadlines are timers)."""
        if not self._closed and not self._stop_requested \
                and len(self.probes) < self.concurrency:
            return max(self._next_dial, self._idle_until,
                       self.trunks.next_allowed(self.group, now), now)
        return math.inf

    def _in_flight(self) -> bool:
        return bool(self.probes)

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

    def _close(self) -> None:
        self._closed = True

    def _end(self) -> None:
        for probe in list(self.probes.values()):  # the gateway never said: settle them
            self._finish(probe, Verdict(UNKNOWN, "error", "no end reported by the gateway"),
                         self.gateway.now())

    # -- dialling --------------------------------------------------------------------------

    def _can_dial(self, now: float) -> bool:
        return (not self._closed and not self._stop_requested
                and len(self.probes) < self.concurrency
                and now >= self._next_dial and now >= self._idle_until
                and now >= self.trunks.next_allowed(self.group, now))

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
                # Tagged with the attempt, as the campaign runner's calls are: a run started
                # after a kill -9 between this reply and set_call_ref still finds and
                # clears the probe (settle_open_attempts; issue 15, red-team 5).
                gw = self.gateway.originate(number, group=self.group,
                                            ring_timeout=self.settings.listen,
                                            tag=attempt_tag(self.store.identity, claim.attempt))
            except RpcError as err:
                self._refused_originate(claim.attempt, number, err, now)
                return
            self.store.set_call_ref(claim.attempt, str(gw))
            probe = self.probes[gw] = Probe(gw, claim.attempt, claim.contact, number, now)
            self._wake(probe)
            self.placed.append((gw, number, now))
            self.trunks.record(self.group, now)
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
            if probe.answered_at is not None and probe.message is None:
                self._play_abandon_message(probe, now)
            else:
                self._release(probe, now)
        self._wake(probe)

    def _play_abandon_message(self, probe: Probe, now: float) -> None:
        """A person answered before the release: the abandon message, then the hang-up
        (at the play's end, or the probe's deadline), as a campaign's abandoned call."""
        try:
            if self.abandon_file:
                self.gateway.play(probe.call, file=self.abandon_file)
                probe.message_started(repr(self.abandon_file), until=now + MESSAGE_CAP)
            else:
                self.gateway.play(probe.call, tone=self.abandon_tone)
                probe.message_started(
                    f"(tone {self.abandon_tone!r}, {self.abandon_seconds:g} s)",
                    until=now + self.abandon_seconds, timed=True)
        except REQUEST_FAILED as err:  # the person hung up meanwhile, or a bad file
            self._gateway_error(f"cannot play the abandon message to call {probe.call} "
                                f"({probe.number}): {err}")
            self._release(probe, now)
            return
        self.messages.append((probe.call, str(probe.message)))
        if probe.live_at is not None:  # the answer: silent for no time
            self.release_delays.append(now - probe.live_at)

    def _wake(self, probe: Probe) -> None:
        """A timer at the probe's next deadline (it moves with a SIT, a release...)."""
        s = self.settings
        when = probe.deadline(listen=s.listen, sit_wait=s.sit_wait)
        if not math.isinf(when):
            self._schedule(when, "probe", probe.call)

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        probe = self.probes.get(key)
        if probe is None:  # finished meanwhile
            return
        s = self.settings
        if probe.released_at is not None:
            if now - probe.released_at >= HANGUP_GRACE:
                self._gateway_error(f"call {probe.call} to {probe.number}: no hang-up "
                                    f"reported {HANGUP_GRACE:g} s after we asked")
                self._finish(probe, probe.on_hungup({"outcome": "error"}), now)
            return
        if probe.on_time(now, listen=s.listen, sit_wait=s.sit_wait):
            self._release(probe, now)
        self._wake(probe)

    def _release(self, probe: Probe, now: float) -> None:
        probe.released_at = now
        if probe.live_at is not None and probe.message is None:
            self.release_delays.append(now - probe.live_at)
        self._hang_up(probe.call)

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


#: ``live_gateway(address, token=...)``: a ``LiveGateway`` also subscribed to SIT and
#: tones (the campaign runner's subscription leaves them out; subscriptions add up).
live_gateway = CleaningRunner.live_gateway


def run_cleaning(store: Store, campaign: str, gateway: GatewayPort, *,
                 seconds: float | None = None, **options: Any) -> CleaningSummary:
    """Convenience: build a :class:`CleaningRunner`, run it, return its summary."""
    return CleaningRunner(store, campaign, gateway, **options).run(seconds=seconds)
