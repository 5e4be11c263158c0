"""What a DAHDI span speaks beyond the kernel's word: the MFC/R2 variant and the SS7
linkset come from trunkline's DAHDI configuration (drivers/backends/dahdi/spansignalling.py),
and the line loop picks the module from them."""

from __future__ import annotations

from typing import Any

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel
from trunkline.drivers.backends.dahdi.sysconf import DahdiConfig, SpanConf
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling.base import ModuleSpec, module_spec
from trunkline.errors import ConfigError

SYSTEM = """\
spec = "1.0"

[[span]]
type = "E1"
configured = "cas"
far_end = "span 2"

[[span]]
type = "E1"
configured = "cas"

[[span]]
type = "E1"
configured = "ss7"
far_end = "span 4"

[[span]]
type = "E1"
configured = "ss7"
"""


def table(span: int, framing: str, signalling: str = "", linkset: str = "",
          **options: Any) -> SpanConf:
    """A ``[[span]]`` table as the configuration reads it."""
    conf = SpanConf(span, span, 0, framing, "hdb3")
    conf.signalling, conf.linkset, conf.options = signalling, linkset, dict(options)
    return conf


def card_with(*tables: SpanConf) -> DahdiCard:
    kernel = SimulatedKernel(SYSTEM, clock=VirtualClock())
    return DahdiCard(kernel, config=DahdiConfig(spans=list(tables)))


def test_an_mfcr2_span_says_its_variant_and_options():
    card = card_with(table(1, "cas", "mfcr2", variant="cn", max_dnis=11),
                     table(2, "cas", "mfcr2"))
    with card:
        one, two = card.span(1), card.span(2)
        assert one.signalling is SpanSignalling.CAS and one.protocol == "mfcr2:cn"
        assert dict(one.options) == {"variant": "cn", "max_dnis": 11}
        assert "mfcr2:cn" in one.description
        assert two.protocol == "mfcr2:itu"  # chan_dahdi's default variant
        assert module_spec(one) == ModuleSpec("mfcr2", {"variant": "cn", "max_dnis": 11})


def test_an_ss7_span_says_its_linkset_and_point_codes():
    card = card_with(table(3, "ccs", "ss7", "east", variant="itu", opc=2, apc=1, cic_start=1),
                     table(4, "ccs", "ss7", variant="itu", opc=1, apc=2, cic_start=33))
    with card:
        east, other = card.span(3), card.span(4)
        assert east.signalling is SpanSignalling.SS7 and east.protocol == "east"
        assert dict(east.options) == {"variant": "itu", "opc": 2, "apc": 1, "cic_start": 1}
        assert other.protocol == "ss7"  # no linkset named: the emulated card's default
        spec = module_spec(east)
        assert spec is not None and (spec.name, spec.group) == ("ss7", "east")


def test_without_a_configuration_the_kernel_word_stands():
    kernel = SimulatedKernel(SYSTEM, clock=VirtualClock())
    with DahdiCard(kernel) as card:
        assert [(s.signalling, s.protocol, s.options) for s in card.spans] == [
            (SpanSignalling.CAS, "", ()), (SpanSignalling.CAS, "", ()),
            (SpanSignalling.SS7, "", ()), (SpanSignalling.SS7, "", ())]


def test_a_table_that_contradicts_the_kernel_changes_nothing():
    card = card_with(table(1, "cas", "ss7", "east", opc=2, apc=1),
                     table(3, "ccs", "mfcr2", variant="cn"))
    with card:
        assert (card.span(1).signalling, card.span(1).protocol) == (SpanSignalling.CAS, "")
        assert (card.span(3).signalling, card.span(3).protocol) == (SpanSignalling.SS7, "")


def test_url_names_a_configuration(tmp_path):
    config = tmp_path / "card.toml"
    config.write_text('spec = "1.0"\nbackend = "dahdi"\n')
    system = tmp_path / "sys.toml"
    system.write_text(SYSTEM)
    with open_card(f"dahdi:sim={system},config={config}", clock=VirtualClock()) as card:
        assert card.config is not None and card.config.spans == []
    with pytest.raises(ConfigError, match="unknown dahdi card argument"):
        open_card("dahdi:sim,bogus=1")
