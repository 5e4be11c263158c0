"""A bad option in a gateway ``[[span]]`` table is refused naming the file and its line.

The signalling module checks its options when the gateway builds it; its refusal named
only the span (``span 5: no MFC/R2 variant 'xx'``), where every other mistake in the
gateway's file is said with ``FILE:LINE:`` (docs/gateway.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.errors import ConfigError
from trunkline.gateway.config import load_config
from trunkline.gateway.service import GatewayService

CARD = 'spec = "1.0"\nzone = "cn"\n[[span]]\nkind = "e1"\nsignalling = "cas"\nvariant = "cn"\n'


def _config(tmp_path: Path, spans: str) -> Path:
    card = tmp_path / "card.toml"
    card.write_text(CARD, encoding="utf-8")
    gw = tmp_path / "gw.toml"
    gw.write_text(f'[card]\nurl = "emulated:{card}"\n{spans}', encoding="utf-8")
    return gw


@pytest.mark.parametrize(("spans", "line", "words"), [
    ('[[span]]\nspan = 1\nsignalling = "mfcr2"\nvariant = "xx"\n', 4,
     "[[span]] span 1: no MFC/R2 variant 'xx'"),
    ('\n[[span]]\nspan = 1\nsignalling = "mfcr2"\nmax_dnis = 4\nmax_dnys = 4\n', 5,
     "[[span]] span 1: unknown MFC/R2 option max_dnys"),
])
def test_a_module_option_error_names_the_file_and_line(tmp_path: Path, spans: str,
                                                         line: int, words: str) -> None:
    path = _config(tmp_path, spans)
    with pytest.raises(ConfigError) as caught:
        GatewayService(load_config(path))
    assert str(caught.value).startswith(f"{path}:{line}: {words}")


def test_the_same_module_options_from_the_card_are_left_as_they_were(tmp_path: Path) -> None:
    card = tmp_path / "card.toml"
    card.write_text(CARD.replace('variant = "cn"', 'variant = "xx"'), encoding="utf-8")
    with pytest.raises((ConfigError, ValueError)) as caught:
        GatewayService(load_config(None).__class__(card_url=f"emulated:{card}"))
    assert "[[span]]" not in str(caught.value)
