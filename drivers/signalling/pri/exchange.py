"""A network-side PRI "exchange": the far end of an emulated E1.

:class:`Exchange` owns a ``PriSpan(role="network")``. For every SETUP from the CPE it
asks a router ``route(called_number, calling_number) -> PriScript`` what the network
does, then executes that script on the span's clock: CALL PROCEEDING, PROGRESS with
in-band information (SIT, announcements), ALERTING, CONNECT, DISCONNECT with a cause,
or an immediate rejection. All script times count from the SETUP.

Per-call state (:meth:`Exchange.calls`) and :class:`ExchangeCallChanged` events tell
the emulated card what the B-channel must carry now (``audio``: ``None``,
``"ringback"``, ``"inband"`` (the script's announcement/SIT/busy tone), ``"connected"``
(the far party's speech)), with the script's ``label`` (``busy``, ``invalid_number``,
``human``...) to choose the sound.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from trunkline.causes import validate_cause
from trunkline.clock import Clock

from . import events as ev
from .config import E1_CHANNELS
from .errors import PriCallStateError, PriError
from .link import HdlcLink
from .span import PriSpan

__all__ = ["Exchange", "ExchangeCallChanged", "ExchangeCallInfo", "PriScript", "Router"]


def _check_time(name: str, value: float | None) -> None:
    if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)
                              or not math.isfinite(value) or value < 0):
        raise ValueError(f"PriScript {name} must be seconds >= 0 or None, got {value!r}")


@dataclass(frozen=True, slots=True)
class PriScript:
    """What the network does with one call, in time (seconds from the SETUP).

    ``release_cause`` rejects the call at once with that cause (no alerting).
    Otherwise: ``proceeding`` sends CALL PROCEEDING at once; ``progress_after`` sends
    PROGRESS "in-band information available" (``progress_inband``) for early media;
    ``alerting_after`` sends ALERTING (ringback in band); ``connect_after`` answers;
    ``disconnect_after`` clears with ``cause``. None means never: a script with only
    alerting rings until the caller gives up.
    """

    label: str = "custom"
    release_cause: int | None = None
    proceeding: bool = True
    progress_after: float | None = None
    progress_inband: bool = True
    alerting_after: float | None = None
    connect_after: float | None = None
    disconnect_after: float | None = None
    cause: int = 16

    def __post_init__(self) -> None:
        for name in ("progress_after", "alerting_after", "connect_after", "disconnect_after"):
            _check_time(name, getattr(self, name))
        if self.release_cause is not None:
            validate_cause(self.release_cause)
        validate_cause(self.cause)

    # ---- presets (the simulated network's usual answers)
    @classmethod
    def busy(cls) -> PriScript:
        """CALL PROCEEDING, then DISCONNECT cause 17 at once."""
        return cls("busy", disconnect_after=0.0, cause=17)

    @classmethod
    def invalid_number(cls, announcement: float = 4.0) -> PriScript:
        """PROGRESS with in-band SIT + announcement, then DISCONNECT cause 1."""
        return cls("invalid_number", progress_after=0.0, disconnect_after=announcement,
                   cause=1)

    @classmethod
    def unreachable(cls, announcement: float = 4.0) -> PriScript:
        """PROGRESS with an in-band announcement, then DISCONNECT cause 20."""
        return cls("unreachable", progress_after=0.0, disconnect_after=announcement,
                   cause=20)

    @classmethod
    def human(cls, ring: float = 6.0, talk: float | None = None) -> PriScript:
        """ALERTING, CONNECT after ``ring`` s, optionally cleared after ``talk`` s more."""
        return cls("human", alerting_after=0.0, connect_after=ring,
                   disconnect_after=None if talk is None else ring + talk)

    @classmethod
    def machine(cls, ring: float = 12.0, talk: float | None = None) -> PriScript:
        """Like :meth:`human` (the B-channel carries a greeting instead)."""
        return cls("machine", alerting_after=0.0, connect_after=ring,
                   disconnect_after=None if talk is None else ring + talk)

    @classmethod
    def no_answer(cls, give_up: float | None = None) -> PriScript:
        """ALERTING for ever (or DISCONNECT 19 after ``give_up`` s)."""
        return cls("no_answer", alerting_after=0.0, disconnect_after=give_up, cause=19)

    @classmethod
    def congestion(cls) -> PriScript:
        """Immediate rejection with cause 34 (no circuit/channel available)."""
        return cls("congestion", release_cause=34)

    @classmethod
    def rejected(cls) -> PriScript:
        """Immediate rejection with cause 21."""
        return cls("rejected", release_cause=21)


Router = Callable[[str, str], PriScript]


@dataclass(frozen=True, slots=True)
class ExchangeCallInfo:
    """The network's view of one call."""

    call: int
    channel: int | None
    called: str
    calling: str
    script: PriScript | None
    phase: str
    audio: str | None
    since: float
    direction: str = "incoming"


@dataclass(frozen=True, slots=True)
class ExchangeCallChanged(ev.CallEvent):
    """A call at the exchange changed phase: attach ``audio`` to ``channel``.

    ``phase``: ``proceeding``, ``progress``, ``alerting``, ``connected``,
    ``disconnecting`` or ``ended``; ``label`` is the script's label."""

    phase: str = "proceeding"
    audio: str | None = None
    label: str = ""


@dataclass(slots=True)
class _ExCall:
    call: int
    channel: int | None
    called: str
    calling: str
    script: PriScript | None
    since: float
    phase: str = "setup"
    audio: str | None = None
    direction: str = "incoming"
    actions: list[tuple[float, int, str]] = field(default_factory=list)


_ORDER = {"progress": 0, "alerting": 1, "connect": 2, "disconnect": 3}


class Exchange:
    """The network side of a PRI, scripted per call by ``route``.

    ``link`` is the network end of the D-channel; other keyword arguments go to the
    underlying :class:`PriSpan` (``switchtype``, ``channels``, ``span_id``, ``trace``,
    ``timers``...). Call :meth:`poll` every tick; it returns the span's events plus
    :class:`ExchangeCallChanged`.
    """

    def __init__(self, link: HdlcLink, route: Router, *, clock: Clock,
                 switchtype: str = "euroisdn_e1", channels: Iterable[int] = E1_CHANNELS,
                 span_id: int = 0, logger: Any | None = None, **span_options: Any) -> None:
        if not callable(route):
            raise TypeError(f"route must be callable(called, calling) -> PriScript, got "
                            f"{route!r}")
        self.route = route
        self.clock = clock
        self.span = PriSpan(link, role="network", switchtype=switchtype, clock=clock,
                            channels=channels, span_id=span_id, logger=logger,
                            **span_options)
        self.log = (logger if logger is not None
                    else structlog.get_logger("trunkline.pri.exchange")).bind(span=span_id)
        self._calls: dict[int, _ExCall] = {}
        self._out: list[ev.PriEvent] = []
        #: Router failures (the call was rejected with cause 41).
        self.errors: list[str] = []

    @property
    def calls(self) -> Mapping[int, ExchangeCallInfo]:
        """The calls the exchange holds now, by call id."""
        return {cid: ExchangeCallInfo(c.call, c.channel, c.called, c.calling, c.script,
                                      c.phase, c.audio, c.since, c.direction)
                for cid, c in self._calls.items()}

    def originate(self, called: str, calling: str = "", **kwargs: Any) -> int:
        """Offer a call from the network to the CPE (an inbound call for the dialer)."""
        cid = self.span.setup(called, calling=calling or None, **kwargs)
        info = self.span.call(cid)
        self._calls[cid] = _ExCall(cid, info.channel, called, calling, None,
                                   self.clock.now(), phase="setup", direction="outgoing")
        return cid

    def hangup(self, call_id: int, cause: int = 16) -> None:
        """Clear a call from the network side."""
        self.span.hangup(call_id, cause)

    def next_deadline(self) -> float | None:
        times = [c.actions[0][0] for c in self._calls.values() if c.actions]
        span_due = self.span.next_deadline()
        if span_due is not None:
            times.append(span_due)
        return min(times) if times else None

    def poll(self, now: float | None = None) -> list[ev.PriEvent]:
        if now is None:
            now = self.clock.now()
        for event in self.span.poll(now):
            self._out.append(event)
            self._handle(event, now)
        self._run_scripts(now)
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ internals
    def _set_phase(self, c: _ExCall, phase: str, audio: str | None) -> None:
        c.phase, c.audio = phase, audio
        self._out.append(ExchangeCallChanged(
            self.span.span_id, c.call, c.channel, phase=phase, audio=audio,
            label=c.script.label if c.script else ""))

    def _handle(self, event: ev.PriEvent, now: float) -> None:
        if isinstance(event, ev.IncomingCall):
            self._on_setup(event, now)
            return
        if not isinstance(event, ev.CallEvent):
            return
        c = self._calls.get(event.call)
        if c is None:
            return
        if isinstance(event, ev.CallChannelChanged):
            c.channel = event.channel
        elif isinstance(event, ev.CallAlerting):
            self._set_phase(c, "alerting", "ringback")
        elif isinstance(event, ev.CallAnswered):
            self._set_phase(c, "connected", "connected")
        elif isinstance(event, ev.CallDisconnecting):
            self._set_phase(c, "disconnecting", None)
        elif isinstance(event, ev.CallEnded):
            del self._calls[event.call]
            self._set_phase(c, "ended", None)

    def _on_setup(self, event: ev.IncomingCall, now: float) -> None:
        if event.channel is None:
            return  # the span already rejected it (no channel)
        try:
            script = self.route(event.called, event.calling)
            if not isinstance(script, PriScript):
                raise TypeError(f"route returned {script!r}, not a PriScript")
        except Exception as err:  # a router bug must not stop the exchange
            message = f"router failed for {event.called!r}: {err!r}"
            self.errors.append(message)
            self.log.error("pri_exchange_route_failed", called=event.called, error=repr(err))
            self.span.hangup(event.call, 41)
            return
        c = _ExCall(event.call, event.channel, event.called, event.calling, script, now)
        self._calls[event.call] = c
        self.log.debug("pri_exchange_setup", call=c.call, called=c.called, label=script.label)
        if script.release_cause is not None:
            self.span.hangup(c.call, script.release_cause)
            self._set_phase(c, "disconnecting", None)
            return
        if script.proceeding:
            self.span.proceeding(c.call)
            self._set_phase(c, "proceeding", None)
        for name, after in (("progress", script.progress_after),
                            ("alerting", script.alerting_after),
                            ("connect", script.connect_after),
                            ("disconnect", script.disconnect_after)):
            if after is not None:
                c.actions.append((now + after, _ORDER[name], name))
        c.actions.sort()

    def _run_scripts(self, now: float) -> None:
        for c in list(self._calls.values()):
            while c.actions and c.actions[0][0] <= now and c.call in self._calls:
                _, _, action = c.actions.pop(0)
                try:
                    self._do(c, action)
                except PriCallStateError:
                    # e.g. the caller hung up while the step was due
                    self.log.debug("pri_exchange_step_skipped", call=c.call, step=action)
                except PriError as err:
                    self.log.warning("pri_exchange_step_failed", call=c.call, step=action,
                                     error=str(err))

    def _do(self, c: _ExCall, action: str) -> None:
        script = c.script
        assert script is not None
        state = self.span.call(c.call).state
        if state in ("RELEASING", "DISCONNECT_INDICATION", "ENDED"):
            c.actions.clear()
            return
        if action == "progress":
            self.span.progress(c.call, inband=script.progress_inband)
            self._set_phase(c, "progress", "inband" if script.progress_inband else None)
        elif action == "alerting":
            if state == "ACTIVE":
                return
            self.span.alerting(c.call, inband=True)
            self._set_phase(c, "alerting", "ringback")
        elif action == "connect":
            self.span.answer(c.call)
            self._set_phase(c, "connected", "connected")
        elif action == "disconnect":
            c.actions.clear()
            self.span.hangup(c.call, script.cause)
            self._set_phase(c, "disconnecting", None)
