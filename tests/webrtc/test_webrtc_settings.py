"""``[webrtc]`` in the gateway configuration."""

from __future__ import annotations

import pytest

from trunkline.errors import ConfigError
from trunkline.gateway.config import config_from_string
from trunkline.gateway.webrtc.settings import SoftphoneSettings


def test_defaults_have_no_ice_servers_so_no_internet_is_needed() -> None:
    assert config_from_string("").webrtc is None
    assert SoftphoneSettings().ice_servers == ()


def test_positions_reconnect_and_a_turn_server() -> None:
    cfg = config_from_string("""
[webrtc]
positions = 120
reconnect = 5
[[webrtc.ice_server]]
urls = "turn:turn.example.net:3478?transport=udp"
username = "site"
credential = "secret"
""")
    assert cfg.webrtc == SoftphoneSettings(
        positions=120, reconnect=5.0,
        ice_servers=({"urls": "turn:turn.example.net:3478?transport=udp",
                      "username": "site", "credential": "secret"},))


def test_the_media_worker_is_on_by_default_and_can_be_turned_off() -> None:
    assert SoftphoneSettings().media_worker is True
    assert config_from_string("[webrtc]\npositions = 2").webrtc.media_worker is True
    assert config_from_string("[webrtc]\nmedia_worker = false").webrtc.media_worker is False


@pytest.mark.parametrize(("text", "message"), [
    ("[webrtc]\nmedia_worker = 'yes'", "media_worker must be true or false"),
    ("[webrtc]\npositions = 0", "positions must be 1..1000"),
    ("[webrtc]\npositions = true", "positions must be a whole number"),
    ("[webrtc]\nreconnect = 'soon'", "reconnect must be seconds"),
    ("[webrtc]\nstun = 'x'", "stun"),
    ("[webrtc]\n[[webrtc.ice_server]]\nusername = 'x'", "needs urls"),
    ("[webrtc]\n[[webrtc.ice_server]]\nurls = 'turn:x'\npassword = 'x'", "password"),
])
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_string(text)
