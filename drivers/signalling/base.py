"""Signalling modules: one per span, chosen by what the span speaks.

As FreeTDM configures a span's signalling as a module, the line loop
(:mod:`trunkline.drivers.lineloop`) gives each span of a card the module its signalling
names (:data:`MODULES`, by :func:`module_name`). A module builds the call legs of its
span (outbound on request, inbound when the line offers a call), carries out their
signalling actions (hook and dial on analog ports, Q.931 on a D-channel), and feeds
them what its line says. Adding a signalling (MFC/R2, SS7) is a new module and a row
in :data:`MODULES`; nothing else changes.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import CardEvent, EventKind, SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import ConfigError

__all__ = ["MODULES", "InboundPolicy", "ModuleSpec", "Signalling", "SignallingContext",
           "module_name", "module_spec", "open_module"]

#: Signalling modules by name: (module, class). Imported when a span needs them.
MODULES: dict[str, tuple[str, str]] = {
    "fxo": ("trunkline.drivers.signalling.fxo", "FxoSignalling"),
    "fxs": ("trunkline.drivers.signalling.fxs", "FxsSignalling"),
    "pri": ("trunkline.drivers.signalling.pri.signalling", "PriSignalling"),
    "ss7": ("trunkline.drivers.signalling.ss7.signalling", "Ss7Signalling"),
    "mfcr2": ("trunkline.drivers.signalling.r2.signalling", "R2Signalling"),
    "mobile": ("trunkline.drivers.signalling.mobile", "MobileSignalling"),
}


def module_name(span: SpanInfo) -> str | None:
    """The signalling module a span needs by default (None: nothing drives it yet)."""
    spec = module_spec(span)
    return None if spec is None else spec.name


@dataclass(frozen=True)
class ModuleSpec:
    """Which module drives a span, with what options.

    Spans with the same ``name`` and ``group`` share one module (the spans whose
    circuits one SS7 linkset controls); without a group each span has its own.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    group: str | None = None

    def __post_init__(self) -> None:
        if self.name not in MODULES:
            raise ValueError(f"no signalling module {self.name!r}; known: "
                             f"{', '.join(sorted(MODULES))}")


def module_spec(span: SpanInfo) -> ModuleSpec | None:
    """The module a span needs by default, from what the card says it speaks.

    A CAS span's ``protocol`` ``mfcr2:VARIANT`` (or, on E1, nothing: China No.1, the CAS
    Chinese trunks speak) selects MFC/R2; an SS7 span's protocol names its linkset.
    A span with no channels (a DAHDI span that dahdi_cfg has not configured) needs none:
    there is nothing to signal on.
    """
    if not span.channels:
        return None
    if span.signalling is SpanSignalling.PRI:
        return ModuleSpec("pri")
    if span.kind in (SpanKind.FXO, SpanKind.FXS):
        return ModuleSpec(span.kind.value)
    if span.signalling is SpanSignalling.CAS and "mfcr2" in MODULES:
        # MFC/R2 runs on E1 (Q.421's bits ride timeslot 16); a T1 CAS span without a
        # protocol is robbed-bit E&M, which nothing drives yet.
        default = "mfcr2:cn" if span.kind is SpanKind.E1 else ""
        name, _, variant = (span.protocol or default).partition(":")
        if name == "mfcr2":
            return ModuleSpec("mfcr2", {"variant": variant or "cn", **dict(span.options)})
        return None
    if span.signalling is SpanSignalling.MOBILE:
        return ModuleSpec("mobile")
    if span.signalling is SpanSignalling.SS7 and "ss7" in MODULES:
        return ModuleSpec("ss7", dict(span.options), group=span.protocol or "linkset")
    return None


@dataclass
class InboundPolicy:
    """What happens to calls the line offers (the gateway may change it on reload)."""

    timeout: float = 10.0
    """Seconds an offered call waits to be answered before it is refused."""
    reject_cause: int = 21
    """The Q.850 cause a refused digital call gets (21: call rejected)."""


@dataclass
class SignallingContext:
    """What every module of a line loop shares."""

    clock: Clock
    zone: Zone
    new_id: Callable[[], int]
    inbound: InboundPolicy = field(default_factory=InboundPolicy)
    options: dict[str, Any] = field(default_factory=dict)
    """Module options by key (``pri_switchtype``, ``pri_trace``)."""


class Signalling(ABC):
    """The signalling of one span: builds its legs and carries out their actions."""

    #: What the wire calls calls on this signalling (``fxo``, ``fxs``, ``pri``).
    kind: ClassVar[str] = ""
    #: True when the span's channels move frames all the time (analog ports: their ring
    #: and hook events must be seen, and a line must be read to hear dial tone).
    always_open: ClassVar[bool] = False

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext,
                 options: Mapping[str, Any] | None = None) -> None:
        self.card = card
        self.span = span
        self.spans: list[SpanInfo] = [span]
        self.context = context
        self.options: dict[str, Any] = dict(options or {})

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(c for span in self.spans for c in span.channels)

    def add_span(self, span: SpanInfo, options: Mapping[str, Any] | None = None) -> None:
        """Drive ``span`` too, with its own ``options`` (a module shared by several spans:
        an SS7 linkset's circuits); modules of one span refuse."""
        raise ConfigError(f"the {type(self).__name__} of span {self.span.number} drives one "
                          f"span only; span {span.number} needs its own")

    @abstractmethod
    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        """A new outbound leg (not started). ``channel`` None: the module hunts one.

        Raises NumberFormatError for a number the line cannot dial.
        """

    def can_place(self, channel: int | None) -> bool:
        """Whether a call can be placed now (on ``channel``, or on any when None)."""
        return channel is not None

    def hunts(self) -> bool:
        """True when the module chooses the channel itself (a D-channel's hunting)."""
        return False

    @property
    def link_up(self) -> bool | None:
        """Whether the span's signalling link (a D-channel) is up; None: it has none."""
        return None

    def unclaimed(self, now: float, event: CardEvent) -> Leg | ev.SpanEvent | None:
        """A card event on a channel no leg holds: a new inbound leg, a span event,
        or None."""
        if event.kind in (EventKind.OFFHOOK, EventKind.ONHOOK):
            return ev.IdleHook(event.span, event.channel, event.kind.value)
        return None

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        """Signalling that does not arrive as card events (a D-channel): pairs of
        (leg or None, what happened). A new inbound leg comes as ``(leg, None)``; span
        events as ``(None, event)``; signals for a leg as ``(leg, signal)``."""
        return iter(())

    def state(self) -> dict[str, Any] | None:
        """What the signalling knows of its circuits and links, for ``gw spans`` and
        ``spans.list`` (MFC/R2 line states; an SS7 linkset's links and circuits); None
        where the card's own channel states say it all."""
        return None

    def block_circuit(self, now: float, channel: int, blocked: bool) -> bool:
        """Tell the far end that ``channel`` is (or is no longer) out of service for new
        calls, where the signalling can say so (MFC/R2 line blocking, an ISUP BLO);
        False where it cannot (analog lines, PRI: the near end only stops using it)."""
        return False

    def span_alarm(self, now: float, alarm: ev.SpanAlarm) -> Iterator[tuple[Leg, Any]]:
        """A span of the module changed alarms: pairs of (leg, signal) for the legs that
        must hear it (an R2 circuit has no line signalling while its span is in alarm;
        a D-channel reports its own loss instead)."""
        return iter(())

    @abstractmethod
    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        """Carry out a signalling action of ``leg``; returns what the leg reports next."""

    def forget(self, leg: Leg) -> None:  # noqa: B027 - optional hook
        """``leg`` is over."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the module holds (a D-channel)."""


def open_module(spec: ModuleSpec | str, card: CardABC, span: SpanInfo,
                context: SignallingContext) -> Signalling:
    """Build the module ``spec`` names (with its options) for ``span``."""
    if isinstance(spec, str):
        spec = ModuleSpec(spec)
    if not span.channels:
        raise ConfigError(f"span {span.number} has no channels configured, so {spec.name} "
                          "cannot run on it: configure the span first (trunkline config "
                          "apply, or dahdi_cfg)")
    module_path, class_name = MODULES[spec.name]
    cls: type[Signalling] = getattr(importlib.import_module(module_path), class_name)
    return cls(card, span, context, spec.options)
