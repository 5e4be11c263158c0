"""Signalling modules: the registry, the module each kind of span needs, the defaults."""

from __future__ import annotations

import importlib

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import CardEvent, EventKind, SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import (
    MODULES,
    InboundPolicy,
    Signalling,
    SignallingContext,
    module_name,
    open_module,
)
from trunkline.drivers.signalling.fxo import FxoSignalling
from trunkline.drivers.signalling.fxs import FxsSignalling
from trunkline.drivers.signalling.leg import CallOptions, Leg


def span(kind: SpanKind, signalling: SpanSignalling) -> SpanInfo:
    return SpanInfo(4, kind, signalling, (90, 91, 92))


def context() -> SignallingContext:
    ids = iter(range(1, 100))
    return SignallingContext(VirtualClock(), load_zone("cn"), lambda: next(ids))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_registered_module_can_be_imported_and_is_named_by_its_kind(name: str) -> None:
    module_path, class_name = MODULES[name]
    cls = getattr(importlib.import_module(module_path), class_name)
    # The module is named as chan_dahdi names the signalling (mfcr2); its calls are
    # named on the wire as `trunkline call --line` names them (r2).
    assert issubclass(cls, Signalling) and cls.kind == {"mfcr2": "r2"}.get(name, name)


@pytest.mark.parametrize(("kind", "signalling", "name"), [
    (SpanKind.E1, SpanSignalling.PRI, "pri"),
    (SpanKind.T1, SpanSignalling.PRI, "pri"),
    (SpanKind.E1, SpanSignalling.CAS, "mfcr2"),
    (SpanKind.T1, SpanSignalling.CAS, None),
    (SpanKind.FXO, SpanSignalling.ANALOG, "fxo"),
    (SpanKind.FXS, SpanSignalling.ANALOG, "fxs"),
])
def test_module_name_per_span_kind(kind: SpanKind, signalling: SpanSignalling,
                                   name: str | None) -> None:
    assert module_name(span(kind, signalling)) == name
    assert name is None or name in MODULES


@pytest.mark.parametrize(("name", "cls", "kind"), [
    ("fxo", FxoSignalling, SpanKind.FXO), ("fxs", FxsSignalling, SpanKind.FXS)])
def test_open_module_builds_the_module_for_a_span(name: str, cls: type, kind: SpanKind) -> None:
    the_span = span(kind, SpanSignalling.ANALOG)
    card = object()
    module = open_module(name, card, the_span, context())
    assert type(module) is cls
    assert module.card is card and module.span is the_span and module.channels == (90, 91, 92)


def test_open_module_names_the_modules_it_knows() -> None:
    with pytest.raises(ValueError,
                       match="no signalling module 'r2'; known: fxo, fxs, mfcr2, mobile, pri, ss7"):
        open_module("r2", object(), span(SpanKind.E1, SpanSignalling.CAS),
                    context())


def test_inbound_policy_defaults() -> None:
    policy = InboundPolicy()
    assert (policy.timeout, policy.reject_cause) == (10.0, 21)
    assert context().inbound == policy and context().options == {}


class Bare(Signalling):
    """A module implementing only what it must."""

    kind = "bare"

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        raise NotImplementedError

    def perform(self, leg, action, now):
        return []


def test_what_a_module_does_by_default() -> None:
    module = Bare(object(), span(SpanKind.E1, SpanSignalling.CAS), context())
    assert not module.always_open and not module.hunts() and module.link_up is None
    assert module.can_place(90) and not module.can_place(None)
    assert list(module.poll(1.0)) == []
    module.forget(object())
    module.close()


@pytest.mark.parametrize("kind", [EventKind.OFFHOOK, EventKind.ONHOOK])
def test_hook_changes_on_idle_channels_are_span_events(kind: EventKind) -> None:
    module = Bare(object(), span(SpanKind.FXS, SpanSignalling.ANALOG), context())
    event = CardEvent(1.0, kind, channel=91, span=4)
    assert module.unclaimed(1.0, event) == ev.IdleHook(4, 91, kind.value)


@pytest.mark.parametrize("kind", [EventKind.RING_BEGIN, EventKind.POLARITY,
                                  EventKind.DIAL_COMPLETE, EventKind.BITS_CHANGED])
def test_other_events_on_idle_channels_are_nothing_by_default(kind: EventKind) -> None:
    module = Bare(object(), span(SpanKind.FXS, SpanSignalling.ANALOG), context())
    assert module.unclaimed(1.0, CardEvent(1.0, kind, channel=91, span=4)) is None


def test_a_span_without_channels_has_no_module_and_refuses_one() -> None:
    from trunkline.drivers.signalling.base import module_spec
    from trunkline.errors import ConfigError

    # A DAHDI span dahdi_cfg has not configured: reported, with no channels.
    span = SpanInfo(3, SpanKind.E1, SpanSignalling.PRI, ())
    assert module_spec(span) is None
    context = SignallingContext(VirtualClock(), load_zone("cn"), lambda: 1)
    with pytest.raises(ConfigError, match="span 3 has no channels configured"):
        open_module("pri", object(), span, context)  # type: ignore[arg-type]
