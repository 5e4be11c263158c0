"""A ``[[span]]`` table for a span the card does not have (and a ``[[group]]`` or ``[[line]]``
naming a channel or span it lacks) fails naming the file, the line
and the span (issue 15, item 4: bad configuration fails with an error naming the file,
line and field). Before, ``span = 99`` on the six-span default card was ignored without
a word and the gateway served with the span's signalling silently not what was asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.errors import ConfigError
from trunkline.gateway.config import load_config
from trunkline.gateway.service import GatewayService


def test_a_span_the_card_lacks_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('[card]\nzone = "cn"\n[[span]]\nspan = 99\nsignalling = "pri"\n')
    with pytest.raises(ConfigError, match=r"gw.toml:4: \[\[span\]\] span = 99: card "
                                          r"\S+ has no span 99; its spans are 1, 2, ") as info:
        GatewayService(load_config(path), clock=VirtualClock())
    assert info.value.line == 4 and info.value.key == "span.span"



@pytest.mark.parametrize(("table", "line", "message"), [
    ('[[group]]\nname = "x"\nchannels = ["span:42"]\n', 3,
     r"\[\[group\]\] 'x' channels: card \S+ has no span 42"),
    ('[[line]]\nchannels = [999]\nanswer_on_polarity = true\n', 2,
     r"\[\[line\]\] 1 channels: card \S+ has no channel 999"),
])
def test_a_channel_the_card_lacks_is_named_with_file_and_line(
        tmp_path: Path, table: str, line: int, message: str) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(table)
    with pytest.raises(ConfigError, match=rf"gw.toml:{line}: {message}"):
        GatewayService(load_config(path), clock=VirtualClock())
