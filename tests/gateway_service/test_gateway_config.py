"""The gateway's configuration file: what each table means, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.drivers.model import LineOptions
from trunkline.drivers.signalling.base import ModuleSpec
from trunkline.errors import ConfigError
from trunkline.gateway.config import config_from_string, load_config


def test_no_file_means_the_emulated_card_and_default_groups() -> None:
    config = load_config(None)
    assert config.card_url == "emulated" and config.zone is None
    assert config.groups["outbound"] == ["fxo", "pri", "r2", "ss7", "mobile"]
    assert config.spans == {}
    assert config.groups["r2"] == ["r2"] and config.groups["ss7"] == ["ss7"]


def test_card_zone_lines_and_spans() -> None:
    config = config_from_string('''
[card]
url = "dahdi"
zone = "us"
[[line]]
channels = ["span:3", 70]
answer_on_polarity = true
[[span]]
span = 5
signalling = "pri"
switchtype = "ni2"
[[span]]
span = 6
signalling = "pri"
linkset = "carrier"
''')
    assert config.card_url == "dahdi" and config.zone == "us"
    assert config.lines == [(["span:3", 70], {"answer_on_polarity": True})]
    assert config.spans == {
        5: ModuleSpec("pri", {"switchtype": "ni2"}),
        6: ModuleSpec("pri", {}, group="carrier"),
    }


@pytest.mark.parametrize(("text", "message", "line"), [
    ('[card]\nzone = "mars"\n', "card.zone must be a tone zone", 2),
    ('[[line]]\nchannels = []\n', "channels must be a non-empty list", 2),
    ('[[line]]\nchannels = ["fxo"]\nanswer_on_polarity = "yes"\n',
     "answer_on_polarity must be true or false", 3),
    ('[[line]]\nchannels = ["fxo"]\ngain = 3\n', "unknown key 'gain'", 3),
    ('[[line]]\nchannels = ["fxo"]\ncaller_id = "fsk"\n', "caller_id must be", 3),
    ('[[span]]\nsignalling = "mfcr2"\n', "needs 'span'", 1),
    ('[[span]]\nspan = 5\nsignalling = "e&m"\n', "signalling must be one of", 3),
    ('[[span]]\nspan = 5\nsignalling = "pri"\n[[span]]\nspan = 5\nsignalling = "pri"\n',
     r"span 5 has two \[\[span\]\] tables", 5),
    ('[[group]]\nname = "x"\nchannels = ["fxq"]\n', "bad channel entry 'fxq'", 3),
])
def test_errors_name_what_is_wrong_and_where(text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        config_from_string(text)
    assert info.value.line == line, str(info.value)


def test_line_options_and_zone_reach_the_card_and_the_engine(tmp_path: Path) -> None:
    from trunkline.gateway.service import GatewayService

    (tmp_path / "gw.toml").write_text(
        '[card]\nzone = "us"\n[[line]]\nchannels = [69]\nanswer_on_polarity = true\n'
        '[[line]]\nchannels = [70]\ncaller_id = "v23"\n'
        f'[recordings]\nroot = "{tmp_path / "rec"}"\n[fax]\nspool = "{tmp_path / "fax"}"\n')
    from trunkline.clock import VirtualClock

    service = GatewayService(load_config(tmp_path / "gw.toml"), clock=VirtualClock())
    try:
        assert service.zone.zone == "us"
        # Port 7 (channel 69) of the default card has no reversal; the installer says it has.
        assert service.card.line_options(69) == LineOptions(answer_on_polarity=True)
        assert service.card.line_options(68) == LineOptions(answer_on_polarity=True)
        # A [[line]] changes only what it says: port 8 keeps its polarity setting.
        assert service.card.line_options(70) == LineOptions(answer_on_polarity=False,
                                                            caller_id="v23")
    finally:
        service.engine.close()
        service.card.close()


def test_group_order_round_robin_and_bad_orders() -> None:
    config = config_from_string('''
[[group]]
name = "trunks"
channels = ["pri", "r2", "ss7"]
order = "round_robin"
''')
    assert config.groups == {"trunks": ["pri", "r2", "ss7"]}
    assert config.group_order == {"trunks": "round_robin"}
    with pytest.raises(ConfigError, match=r"order must be one of first, round_robin, not "
                                          r"'random'"):
        config_from_string('[[group]]\nname = "x"\nchannels = ["pri"]\norder = "random"\n')


@pytest.mark.parametrize(("text", "match"), [
    ("[server]\nsocket = 5\n", r":2: socket must be a path \(a string\), not 5"),
    ("[card]\nnetwork = 5\n", r":2: network must be a path"),
    ("[fax]\nspool = 5\n", r":2: spool must be a path"),       # was accepted as "5"
    ("[recordings]\nroot = 5\n", r":2: root must be a path"),  # was accepted as "5"
    ('[pri]\ntrace = "no"\n', r":2: trace must be true or false, not 'no'"),  # was on
    ("[pri]\nswitchtype = 5\n", r":2: switchtype must be a string, not 5"),
    ("server = 5\n", r"\[server\] must be a table, not 5"),
    ("line = 5\n", r"line must be \[\[line\]\] tables"),
    ("[calls]\nshutdown_grace = nan\n", r"shutdown_grace must be seconds in"),
])
def test_wrong_types_name_file_line_and_key(text: str, match: str) -> None:
    """Issue 15, red-team 12: wrong types crashed with a TypeError or were taken silently
    (``trace = "no"`` turned tracing on)."""
    with pytest.raises(ConfigError, match=match):
        config_from_string(text)
