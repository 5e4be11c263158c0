"""``[webrtc]`` of the gateway configuration: the softphone's settings (docs/softphone.md).

Kept apart from the softphone itself so reading a configuration loads no WebRTC stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trunkline.tomlconf import TomlDocument, reject_unknown_keys

__all__ = ["SoftphoneSettings", "parse_webrtc"]

_ICE_KEYS = frozenset({"urls", "username", "credential"})


@dataclass(frozen=True)
class SoftphoneSettings:
    """``positions``: how many browsers at once (channels numbered after the card's);
    ``reconnect``: seconds a position whose page vanished waits for it to come back
    before its call ends; ``ring_timeout``: seconds a new position waits for its page;
    ``ice_servers``: STUN/TURN servers as RTCIceServer dicts (``urls``, ``username``,
    ``credential``), none by default (host candidates: the site's LAN, no internet);
    ``media_worker``: the peer connections run in a process of their own (the WebRTC
    media worker, ``worker.py``) rather than on a thread of the gateway's, so their
    Python work never holds up the 20 ms tick for the GIL. On by default: at 50 peers on
    this project's 2-core machine, quiet, the thread concealed 33 % of frames and added
    1.6 s at p95, the worker 1.6 % and 117 ms (docs/softphone.md, Limits); ``false``
    saves about 17 ms of latency where only a few browsers are positions.
    """

    positions: int = 64
    reconnect: float = 10.0
    ring_timeout: float = 60.0
    ice_servers: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    media_worker: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.positions <= 1000:
            raise ValueError(f"positions must be 1..1000, got {self.positions}")
        if not 0 <= self.reconnect <= 3600:
            raise ValueError(f"reconnect must be 0..3600 s, got {self.reconnect}")
        if not 1 <= self.ring_timeout <= 3600:
            raise ValueError(f"ring_timeout must be 1..3600 s, got {self.ring_timeout}")
        for server in self.ice_servers:
            if not isinstance(server, dict) or not isinstance(server.get("urls"), str | list):
                raise ValueError(f"an ice_servers entry needs urls: {server!r}")
            unknown = set(server) - _ICE_KEYS
            if unknown:
                raise ValueError(f"an ice_servers entry has unknown keys {sorted(unknown)}")


def parse_webrtc(doc: TomlDocument, table: Any) -> SoftphoneSettings:
    """The ``[webrtc]`` table (``[[webrtc.ice_server]]`` entries for TURN/STUN)."""
    where = ("webrtc",)
    if not isinstance(table, dict):
        raise doc.error(f"[webrtc] must be a table, not {table!r}", where)
    reject_unknown_keys(doc, table, {"positions", "reconnect", "ring_timeout", "ice_server",
                                       "media_worker"},
                        where)
    servers = table.get("ice_server", [])
    if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
        raise doc.error("ice_server must be [[webrtc.ice_server]] tables", (*where, "ice_server"))
    for key in ("positions",):
        if key in table and (not isinstance(table[key], int) or isinstance(table[key], bool)):
            raise doc.error(f"{key} must be a whole number, not {table[key]!r}", (*where, key))
    for key in ("reconnect", "ring_timeout"):
        if key in table and (not isinstance(table[key], int | float)
                             or isinstance(table[key], bool)):
            raise doc.error(f"{key} must be seconds, not {table[key]!r}", (*where, key))
    if "media_worker" in table and not isinstance(table["media_worker"], bool):
        raise doc.error(f"media_worker must be true or false, not {table['media_worker']!r}",
                        (*where, "media_worker"))
    try:
        return SoftphoneSettings(
            media_worker=table.get("media_worker", True),
            positions=table.get("positions", 64),
            reconnect=float(table.get("reconnect", 10.0)),
            ring_timeout=float(table.get("ring_timeout", 60.0)),
            ice_servers=tuple(dict(s) for s in servers))
    except ValueError as err:
        # Point at the key's own line, not the [webrtc] header's: the messages start with
        # the key they are about ("positions must be ..."), or are about an ice_server.
        key = str(err).split(" ", 1)[0]
        path: tuple[str | int, ...] = (*where, key)
        if key not in table:
            path = (*where, "ice_server", _first_bad_server(servers))
        raise doc.error(f"[webrtc] {err}", path) from None


def _first_bad_server(servers: list[dict[str, Any]]) -> int:
    """The index of the first ``[[webrtc.ice_server]]`` entry the settings refuse."""
    for i, server in enumerate(servers):
        try:
            SoftphoneSettings(ice_servers=(dict(server),))
        except ValueError:
            return i
    return 0
