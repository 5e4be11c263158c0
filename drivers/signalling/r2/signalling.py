"""The MFC/R2 signalling module: the circuits of one CAS span and the calls on them.

The line loop gives a CAS span whose protocol is ``mfcr2:VARIANT`` this module (see
:func:`~trunkline.drivers.signalling.base.module_spec`). It keeps one
:class:`~.span.R2Span`: the ABCD bits go out through the card model
(``card.set_cas_bits``, DAHDI_SETTXBITS on a board) and come back as ``BITS_CHANGED``
card events (DAHDI_EVENT_BITSCHANGED, then DAHDI_GETRXBITS); the MF tones of the register
signalling are played and detected by the line loop (``PlayTone``, ``DetectMf``), so a
module here never touches audio.

CAS channels are open all the time (``always_open``): the far end can seize any circuit
at any moment, and a circuit's bits are its state.

Options (the gateway's ``[[span]]`` table, as ``config import`` writes them from
chan_dahdi.conf's ``mfcr2_*`` keys; docs/r2.md):

``variant``
    ``cn`` (China No.1, the default), ``itu``, ``br``, ``ar``, ``mx`` (mfcr2_variant).
``max_dnis`` / ``max_ani``
    The most called / calling digits the incoming register takes (mfcr2_max_dnis,
    mfcr2_max_ani).
``get_ani_first``
    Ask for the calling number after the first called digit rather than when the
    variant asks for it (mfcr2_get_ani_first).
``category`` / ``calling_category``
    What our outgoing calls send (group II, China's KD; and the calling party's category,
    China's KA): a signal number of the variant, or openr2's names
    (``national_subscriber``, ``national_priority_subscriber``,
    ``international_subscriber``, ``international_priority_subscriber``,
    ``collect_call``, ``pay_phone``); in China the names set KA, as openr2's
    mfcr2_category does there.
``immediate_accept``
    Send group B "free" as soon as a call is offered (mfcr2_immediate_accept).
``mfback_timeout`` / ``metering_pulse_timeout`` / ``seize_timeout`` / ``answer_timeout``
    Timers in milliseconds, over the variant's (openr2's names).
``hunt``
    ``descending`` (default) or ``ascending``: the two ends of both-way circuits should
    hunt from opposite ends (Q.422 3.2.7) so that they seldom seize one circuit at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from trunkline.drivers.card import CardABC
from trunkline.drivers.model import CardEvent, EventKind, SpanInfo
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action, SetBits
from trunkline.drivers.signalling.base import Signalling, SignallingContext
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import ConfigError

from .line import LineState
from .span import R2Span
from .variants import Group, R2Variant, variant

__all__ = ["OPTIONS", "R2Signalling", "r2_settings"]

#: Every option the module takes, with what it means (for the error naming an unknown one).
OPTIONS: Mapping[str, str] = {
    "variant": "cn, itu, br, ar or mx",
    "max_dnis": "most called digits taken, 1..32",
    "max_ani": "most calling digits taken, 0..32",
    "get_ani_first": "true: ask for the calling number after the first called digit",
    "category": "the category our calls send (a signal number or an openr2 name)",
    "calling_category": "the calling party's category our calls send",
    "immediate_accept": "true: accept (group B free) as soon as a call is offered",
    "mfback_timeout": "ms, the incoming register's wait for the next forward signal",
    "metering_pulse_timeout": "ms, a clear-back shorter than this is a metering pulse",
    "seize_timeout": "ms, the wait for the seizure acknowledgement",
    "answer_timeout": "ms, the wait for the answer after group B free",
    "hunt": "descending or ascending",
}

#: openr2's category names (openr2 r2proto.c, ``openr2_proto_get_category``) and the
#: Q.441 group II signal each is in the ITU-derived variants.
CATEGORY_NAMES: Mapping[str, int] = {
    "national_subscriber": 1, "national_priority_subscriber": 2,
    "international_subscriber": 7, "international_priority_subscriber": 9,
    "collect_call": 8, "pay_phone": 4,
}
#: China: openr2 sends its category in answer to A6, which is KA (主叫用户类别): an
#: ordinary subscriber is KA=1, a priority one KA=4 (China No.1 KA table).
CHINA_KA_NAMES: Mapping[str, int] = {"national_subscriber": 1,
                                     "national_priority_subscriber": 4}

_TIMERS = {"mfback_timeout": "mf_back_cycle", "metering_pulse_timeout": "metering_pulse",
           "seize_timeout": "seize_ack", "answer_timeout": "answer"}


@dataclasses.dataclass(frozen=True)
class R2Settings:
    """A span's options, checked (see the module docstring)."""

    variant: R2Variant
    max_called: int | None = None
    max_calling: int | None = None
    request_calling: str | None = None
    category: int | None = None
    calling_category: int | None = None
    accept_on_offer: bool = False
    hunt_descending: bool = True


def _flag(span: int, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false", "1", "0"):
        return value.lower() in ("yes", "true", "1")
    raise ConfigError(f"span {span}: MFC/R2 option {key} must be true or false, not {value!r}")


def _count(span: int, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 32:
        raise ConfigError(f"span {span}: MFC/R2 option {key} must be a whole number "
                          f"{low}..32, not {value!r}")
    return value


def _category(span: int, key: str, value: Any, table: Mapping[int, str]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value in table:
        return value
    raise ConfigError(f"span {span}: MFC/R2 option {key}={value!r} is not one of this "
                      f"variant's signals: "
                      + "; ".join(f"{k} ({v})" for k, v in sorted(table.items())))


def r2_settings(span: int, options: Mapping[str, Any]) -> R2Settings:
    """Check a span's options; ConfigError names the span and what is wrong."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"span {span}: unknown MFC/R2 option{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)}; known: "
                          + "; ".join(f"{k} ({v})" for k, v in OPTIONS.items()))
    try:
        r2 = variant(str(options.get("variant", "cn")))
    except ValueError as err:
        raise ConfigError(f"span {span}: {err}") from None
    changes: dict[str, float] = {}
    for key, timer in _TIMERS.items():
        if key in options:
            ms = options[key]
            if isinstance(ms, bool) or not isinstance(ms, int | float) \
                    or not math.isfinite(ms) or ms < 0:
                raise ConfigError(f"span {span}: MFC/R2 option {key} is milliseconds, not "
                                  f"{ms!r}")
            changes[timer] = ms / 1000.0
    if changes:
        try:
            r2 = dataclasses.replace(r2, timers=dataclasses.replace(r2.timers, **changes))
        except ValueError as err:
            raise ConfigError(f"span {span}: {err}") from None
    category = calling_category = None
    china = r2.calling_category_group is Group.I
    for key in ("category", "calling_category"):
        if key not in options:
            continue
        value = options[key]
        if isinstance(value, str) and not value.isdigit():
            name = value.lower()
            if china and name in CHINA_KA_NAMES:
                calling_category = CHINA_KA_NAMES[name]
                continue
            if china or name not in CATEGORY_NAMES:
                known = CHINA_KA_NAMES if china else CATEGORY_NAMES
                raise ConfigError(f"span {span}: MFC/R2 option {key}={value!r}: the names "
                                  f"variant {r2.name} knows are {', '.join(known)}; or give "
                                  "the signal's number")
            value = CATEGORY_NAMES[name]
        elif isinstance(value, str):
            value = int(value)
        table = r2.categories if key == "category" else r2.calling_categories
        number = _category(span, key, value, table)
        if key == "category":
            category = number
        else:
            calling_category = number
    hunt = str(options.get("hunt", "descending"))
    if hunt not in ("descending", "ascending"):
        raise ConfigError(f"span {span}: MFC/R2 option hunt must be descending or ascending, "
                          f"not {hunt!r}")
    return R2Settings(
        r2,
        max_called=_count(span, "max_dnis", options["max_dnis"], 1)
        if "max_dnis" in options else None,
        max_calling=_count(span, "max_ani", options["max_ani"], 0)
        if "max_ani" in options else None,
        request_calling="after_first_digit"
        if _flag(span, "get_ani_first", options.get("get_ani_first", False)) else None,
        category=category, calling_category=calling_category,
        accept_on_offer=_flag(span, "immediate_accept", options.get("immediate_accept", False)),
        hunt_descending=hunt == "descending")


class R2Signalling(Signalling):
    """MFC/R2 on one CAS span (see the module docstring)."""

    kind: ClassVar[str] = "r2"
    always_open: ClassVar[bool] = True

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext,
                 options: Mapping[str, Any] | None = None) -> None:
        super().__init__(card, span, context, options)
        self.settings = r2_settings(span.number, self.options)
        s = self.settings
        try:
            self.r2 = R2Span(span.number, span.channels, s.variant,
                             hunt_descending=s.hunt_descending, max_called=s.max_called,
                             max_calling=s.max_calling, request_calling=s.request_calling)
        except ValueError as err:
            raise ConfigError(f"span {span.number}: {err}") from None
        self.legs: dict[int, Leg] = {}  # channel -> the leg holding it
        #: Circuits to block (True) or unblock (False) once their line is idle.
        self.wanted: dict[int, bool] = {}
        self._started = False

    def _start(self, now: float) -> None:
        if not self._started:
            self._started = True
            rx = {ch: self.card.cas_bits(ch) for ch in self.r2.lines}
            self._send(self.r2.start(now, rx))

    def _send(self, bits: list[tuple[int, SetBits]]) -> None:
        for channel, action in bits:
            self.card.set_cas_bits(channel, action.bits)

    # -- calls --------------------------------------------------------------------------
    def hunts(self) -> bool:
        return True

    def can_place(self, channel: int | None) -> bool:
        if channel is not None:
            return self.r2.free(channel)
        return self.r2.hunt() is not None

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        self._start(self.context.clock.now())
        leg = self.r2.outbound(call_id, channel, options, category=self.settings.category,
                               calling_category=self.settings.calling_category)
        assert leg.channel is not None  # an R2 call is on its circuit from the start
        self.legs[leg.channel] = leg
        return leg

    def unclaimed(self, now: float, event: CardEvent) -> Leg | ev.SpanEvent | None:
        if event.kind is not EventKind.BITS_CHANGED or event.channel not in self.r2.lines:
            return None
        self._start(now)
        self._send(self.r2.receive(now, event.channel, int(event.value or 0)))
        if not self.r2.seized(event.channel):
            return None
        inbound = self.context.inbound
        leg = self.r2.inbound(self.context.new_id(), event.channel, offer_for=inbound.timeout,
                              reject_cause=inbound.reject_cause,
                              accept_on_offer=self.settings.accept_on_offer)
        self.legs[event.channel] = leg
        return leg

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        self._start(now)
        due = self.r2.next_deadline()
        if due is not None and now >= due:
            self._send(self.r2.on_time(now))
        if self.wanted:
            self._apply_blocking(now)
        return iter(())

    def block_circuit(self, now: float, channel: int, blocked: bool) -> bool:
        """Q.421 blocking: the far end sees the circuit blocked and seizes it no more. A
        circuit in a call is blocked when the call is over."""
        self.r2.line(channel)
        self._start(now)
        self.wanted[channel] = blocked
        self._apply_blocking(now)
        return True

    def _apply_blocking(self, now: float) -> None:
        for channel, blocked in list(self.wanted.items()):
            line = self.r2.line(channel)
            if line.held_by is not None:
                continue
            done = line.state is LineState.LOCAL_BLOCKED if blocked \
                else line.state is not LineState.LOCAL_BLOCKED
            if done:
                del self.wanted[channel]
            elif blocked and line.state is LineState.IDLE:
                del self.wanted[channel]
                self._send(self.r2.block(now, channel))
            elif not blocked:
                del self.wanted[channel]
                self._send(self.r2.unblock(now, channel))

    def span_alarm(self, now: float, alarm: ev.SpanAlarm) -> Iterator[tuple[Leg, Any]]:
        for leg in list(self.legs.values()):
            yield leg, alarm

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        if isinstance(action, SetBits) and leg.channel is not None:
            self.card.set_cas_bits(leg.channel, action.bits)
        return []

    def forget(self, leg: Leg) -> None:
        if leg.channel is not None and self.legs.get(leg.channel) is leg:
            del self.legs[leg.channel]


    # -- state, for status and scan -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Each timeslot's line state, as ``trunkline status`` shows it."""
        out: dict[int, dict[str, Any]] = {}
        for channel, line in sorted(self.r2.lines.items()):
            info = self.card.channel(channel)
            held = self.legs.get(channel)
            state = line.state.value
            if held is not None:
                state = f"{state} (call {held.id}, {held.direction})"
            out[info.timeslot] = {"channel": channel, "state": state,
                                  "tx": f"{line.tx_bits:04b}"}
        return {"variant": self.settings.variant.name, "timeslots": out}

