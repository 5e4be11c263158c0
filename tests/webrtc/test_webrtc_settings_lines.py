"""A value out of range in ``[webrtc]`` is reported at its own line and names the table.

It used to be reported at the ``[webrtc]`` header's line without the table's name
(``gw.toml:1: positions must be 1..1000``), sending the installer to the wrong line.
"""

from __future__ import annotations

import pytest

from trunkline.errors import ConfigError
from trunkline.gateway.config import config_from_string


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[webrtc]\nmedia_worker = true\npositions = 0\n", 3, "[webrtc] positions must be 1..1000"),
    ("[webrtc]\nreconnect = 4000\n", 2, "[webrtc] reconnect must be 0..3600 s"),
    ("[card]\nurl = 'emulated'\n[webrtc]\npositions = 4\nring_timeout = 0.5\n", 5,
     "[webrtc] ring_timeout must be 1..3600 s"),
    ("[webrtc]\npositions = 4\n[[webrtc.ice_server]]\nusername = 'x'\n", 3,
     "[webrtc] an ice_servers entry needs urls"),
])
def test_a_value_out_of_range_is_reported_at_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_string(text)
    assert caught.value.line == line
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"<string>:{line}: ")
