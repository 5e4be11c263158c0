"""A T1 PRI span as DAHDI lays it out: B-channels on timeslots 1..23, the D-channel on 24
(ITU-T I.431), through discovery, config generate and the PRI module's channel map."""

from __future__ import annotations

from dahdi_helpers import sim_card

from trunkline.drivers.model import SpanKind

T1_PRI = """\
spec = "1.0"
zone = "us"

[[span]]
type = "T1"
name = "SIM/1"
configured = "pri"
timing = 1
far_end = "loop"
"""


def test_t1_pri_span_maps_timeslots_1_to_23_and_the_dchannel_to_24():
    from trunkline.drivers.commissioning.config import generate_config

    card, _ = sim_card(T1_PRI)
    with card:
        span = card.span(1)
        assert span.kind is SpanKind.T1 and span.law == "ulaw"
        assert span.channels == tuple(range(1, 24)) and span.dchannel == 24
        assert card.channel(16).timeslot == 16  # a B-channel on T1
        config = generate_config(card, zone="us")
    groups = {g.signalling: g.channels for g in config.groups}
    assert groups["dchan"] == (24,) and groups["bchan"] == tuple(range(1, 24))


def test_the_pri_module_takes_the_t1_map(monkeypatch):
    from trunkline.clock import VirtualClock
    from trunkline.drivers.dsp.zones import load_zone
    from trunkline.drivers.signalling.base import InboundPolicy, SignallingContext
    from trunkline.drivers.signalling.pri import span as span_module
    from trunkline.drivers.signalling.pri.signalling import PriSignalling

    taken = {}

    def fake_span(link, **options):
        taken.update(options)
        return object()

    monkeypatch.setattr(span_module, "PriSpan", fake_span)
    card, _ = sim_card(T1_PRI)
    with card:
        context = SignallingContext(VirtualClock(), load_zone("us"), lambda: 1,
                                    InboundPolicy(timeout=4.0, reject_cause=34), {})
        module = PriSignalling(card, card.span(1), context)
        assert taken["channels"] == tuple(range(1, 24))
        assert module.bearer(16) == 16 and module.bearer(23) == 23
