from __future__ import annotations

import pytest

from trunkline.drivers.backends.emulated.config import card_config_from_string, default_card_config
from trunkline.drivers.model import SpanKind
from trunkline.errors import ConfigError
from trunkline.tomlconf import LineIndex


def test_default_card_is_two_pri_spans_eight_fxo_twelve_fxs_one_r2_one_ss7():
    config = default_card_config()
    kinds = [(s.kind, s.signalling.value, s.ports) for s in config.spans]
    assert kinds == [(SpanKind.E1, "pri", 0), (SpanKind.E1, "pri", 0),
                     (SpanKind.FXO, "analog", 8), (SpanKind.FXS, "analog", 12),
                     (SpanKind.E1, "cas", 0), (SpanKind.E1, "ss7", 0)]
    assert config.spans[4].protocol == "mfcr2:cn"
    assert dict(config.spans[5].options)["variant"] == "china"
    fxo = config.spans[2]
    assert fxo.lines[0].polarity_reversal and not fxo.lines[6].polarity_reversal
    assert fxo.lines[7].disconnect == "tone"


@pytest.mark.parametrize(("text", "match"), [
    ('[[span]]\nkind = "e2"\n', r":2: kind must be one of e1, t1, fxo, fxs"),
    ('[[span]]\nkind = "fxo"\nports = 0\n', r":3: ports must be a whole number in 1..96"),
    ('[[span]]\nkind = "fxo"\ndisconnect = "maybe"\n', r":3: disconnect must be one of"),
    ('[[span]]\nkind = "e1"\nports = 4\n', r":3: unknown key 'ports'"),
    ('[[span]]\nkind = "fxs"\npolarity_reversal = true\n', r":3: unknown key"),
    ('spec = "9.0"\n[[span]]\nkind = "e1"\n', r"spec '9.0'.*please update trunkline"),
    ("", r"a card needs at least one \[\[span\]\]"),
    ('[[span]]\nkind = "e1"\n[[fault]]\nat = 1\nkind = "fire"\n', r":5: kind must be one of"),
    ('[[span]]\nkind = "e1"\n[[fault]]\nat = 1\nkind = "alarm"\nspan = 3\n',
     r":6: span must be a whole number in 1..1"),
    ('[[span]]\nkind = "fxo"\n[[span.port]]\nport = 9\n', r":4: port must be a whole number"),
])
def test_bad_card_configs_name_key_and_line(text, match):
    with pytest.raises(ConfigError, match=match):
        card_config_from_string(text, "card.toml")


def test_line_index_handles_arrays_of_tables_and_dotted_keys():
    index = LineIndex.of('a = 1\n[[span]]\nkind = "e1"\n[[span]]\nkind = "fxo"\n'
                         '[[span.port]]\nport = 2\n[x.y]\n"q.r" = 1\n')
    assert index.lines[("span", 1, "kind")] == 5
    assert index.lines[("span", 1, "port", 0, "port")] == 7
    assert index.lines[("x", "y", "q.r")] == 9
    assert index.line_of(("span", 1, "nothing")) == 4
