"""The bundled crossed system (firmware-profiles/systems/crossed.toml): its spans say
what they speak from the machine's configuration next to it, and are up."""

from __future__ import annotations

from trunkline.clock import VirtualClock
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.registry import open_card


def test_the_bundled_crossed_system_reads_its_configuration():
    with open_card("dahdi:sim=crossed", clock=VirtualClock()) as card:
        assert [(s.signalling, s.protocol) for s in card.spans] == [
            (SpanSignalling.CAS, "mfcr2:cn"), (SpanSignalling.CAS, "mfcr2:cn"),
            (SpanSignalling.SS7, "east"), (SpanSignalling.SS7, "west")]
        assert dict(card.span(3).options)["opc"] == 2
        assert dict(card.span(4).options)["opc"] == 1
        assert all(card.span_status(s.number).alarms == 0 for s in card.spans)


