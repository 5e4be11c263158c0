"""call.originate to a phone on an FXS port with caller ID: the number and name the
client gives reach the phone's display through the engine's tick (the line loop adds
the message to what the engine's mixer sends); bad text is refused at the boundary."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.callerid import CallerId
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import LineOptions, SpanKind
from trunkline.drivers.registry import open_card
from trunkline.errors import InvalidRequest
from trunkline.gateway.media.channels import resolve_groups
from trunkline.gateway.media.engine import MediaEngine


@pytest.fixture
def engine() -> Iterator[MediaEngine]:
    card = open_card("emulated", clock=VirtualClock())
    groups = resolve_groups(card, {"outbound": ["fxo"], "agents": ["fxs"]})
    engine = MediaEngine(card, card.clock, zone=load_zone("cn"), groups=groups)
    try:
        yield engine
    finally:
        engine.close()
        card.close()


def first_fxs(engine: MediaEngine) -> int:
    card = engine.loop.card
    return next(c for s in card.spans if s.kind is SpanKind.FXS for c in s.channels)


def test_the_agents_phone_shows_the_customer(engine: MediaEngine) -> None:
    card = engine.loop.card
    ch = first_fxs(engine)
    card.set_line_options(ch, LineOptions(caller_id="bell202"))
    phone = card.phone(ch)
    phone.settings = dataclasses.replace(phone.settings, auto_answer=False)
    engine.originate("position 1", channel=ch, caller_id="13800000001",
                     caller_name="LI SI")
    end = engine.clock.now() + 5.0
    while phone.caller_id is None and engine.clock.now() < end:
        engine.tick()
    assert phone.caller_id == CallerId(number="13800000001", name="LI SI")


@pytest.mark.parametrize(("field", "value"), [("caller_name", "张三"),
                                              ("caller_id", "138\n0000")])
def test_text_a_display_cannot_show_is_refused(engine: MediaEngine, field: str,
                                               value: str) -> None:
    with pytest.raises(InvalidRequest, match=f"{field} .* must be printable ASCII"):
        engine.originate("position 1", channel=first_fxs(engine), **{field: value})
    assert not engine.calls
