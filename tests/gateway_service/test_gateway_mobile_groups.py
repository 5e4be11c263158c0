"""Mobile modules in channel groups: the ``mobile`` kind in ``[[group]]``, the default
``mobile`` group, and ``outbound`` reaching the modules after every line, so a gateway
on the sample mobile card places calls with no group configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.registry import open_card
from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig, config_from_string
from trunkline.gateway.media.channels import resolve_groups
from trunkline.gateway.testing import VirtualGateway


def test_the_mobile_kind_is_a_group_entry() -> None:
    config = config_from_string('[[group]]\nname = "gsm"\nchannels = ["mobile", "fxo"]\n')
    assert config.groups == {"gsm": ["mobile", "fxo"]}
    with pytest.raises(ConfigError, match="ss7, mobile or span:N"):
        config_from_string('[[group]]\nname = "gsm"\nchannels = ["gsm"]\n')


def test_outbound_lists_the_modules_after_the_lines() -> None:
    defaults = GatewayConfig().groups
    assert defaults["outbound"][-1] == "mobile" and defaults["mobile"] == ["mobile"]
    card = open_card("emulated", clock=VirtualClock())
    try:  # a card without modules: the same outbound as before, an empty mobile group
        groups = resolve_groups(card, defaults)
        assert groups["mobile"] == []
        assert groups["outbound"] == resolve_groups(card, {"o": ["fxo", "pri", "r2", "ss7"]}
                                                    )["o"]
    finally:
        card.close()


def test_entries_keep_their_order_on_the_mobile_card() -> None:
    card = open_card("mobile", clock=VirtualClock())
    try:
        one, two = (s.channels[0] for s in card.spans)
        assert resolve_groups(card, {"g": ["span:2", "mobile"], "m": ["mobile"]}) == {
            "g": [two, one], "m": [one, two]}
    finally:
        card.close()


def test_a_call_with_no_group_goes_out_on_a_module(tmp_path: Path) -> None:
    config = GatewayConfig(card_url="mobile", recordings_root=tmp_path / "rec",
                           fax_spool=tmp_path / "fax", prompts=Path("/"),
                           sms_store=tmp_path / "sms.sqlite")
    gw = VirtualGateway(config)
    try:
        modules = gw.service.sms.modules.values()
        gw.run_until(lambda: all(m.link.ready for m in modules), 120)
        groups = gw.call("groups.list")
        assert groups["outbound"] == groups["mobile"] == [
            s.channels[0] for s in gw.card.spans]
        # the channel group "mobile" is the SMS group of every module, named once
        assert [row["groups"] for row in gw.call("sms.limits")] == [
            ["mobile", "outbound"], ["mobile", "outbound"]]
        call = gw.call("call.originate", number="13800000001")
        assert call["span"] in (1, 2)
        gw.run_until(lambda: any(e.get("state") == "answered" for e in gw.events), 60)
    finally:
        gw.close()
