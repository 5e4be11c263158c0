"""A gateway without a card, for the runner's unit tests (a unique module name: never
import from conftest).

:class:`ScriptedGateway` offers the runner's ``GatewayPort`` with nothing behind it: time
moves only in :meth:`ScriptedGateway.wait`, to the next scripted event or to the
deadline, and every request is remembered. It is honest about what it does not do: no
call ever rings, answers or ends unless the test scripts it.
"""

from __future__ import annotations

from typing import Any

from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import RpcError


class ScriptedGateway:
    """Events at scripted times; requests recorded; ``fail`` makes a method raise."""

    name = "scripted"

    def __init__(self, start: float, events: list[tuple[float, dict[str, Any]]] = (),
                 *, up: list[dict[str, Any]] = (),
                 groups: dict[str, list[int]] | None = None) -> None:
        self.t = start
        self.script = sorted(events, key=lambda e: e[0])
        self.up = list(up)                      # what calls() reports
        self.groups = groups or {"agents": [71, 72], "outbound": [1, 2, 3]}
        self.waits: list[float] = []
        self.requests: list[tuple[str, Any, float]] = []   # (method, argument, at)
        self.fail: dict[str, RpcError] = {}
        self.next_call = 100
        self.tags: dict[int, str | None] = {}  # call id -> the originate's tag

    def now(self) -> float:
        return self.t

    def wait(self, until: float) -> list[dict[str, Any]]:
        self.waits.append(until)
        if self.script and self.script[0][0] <= until:
            at = self.script[0][0]
            self.t = max(self.t, at)
            out = []
            while self.script and self.script[0][0] == at:
                out.append(self.script.pop(0)[1])
            return out
        self.t = max(self.t, until)
        return []

    def _request(self, name: str, arg: Any) -> None:
        self.requests.append((name, arg, self.t))
        if name in self.fail:
            raise self.fail[name]

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0,
                  tag: str | None = None) -> int:
        self._request("originate", (number, group, channel))
        self.next_call += 1
        self.tags[self.next_call] = tag
        return self.next_call

    def hangup(self, call: int) -> None:
        self._request("hangup", call)

    def bridge(self, call: int, other: int) -> None:
        self._request("bridge", (call, other))

    def unbridge(self, call: int) -> None:
        self._request("unbridge", call)

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0, loop: bool = False) -> None:
        self._request("play", (call, file, tone, wait_silence))

    def group(self, name: str) -> list[int]:
        if name not in self.groups:   # as the real port says it
            raise ConfigError(f"the gateway has no channel group {name!r}")
        return list(self.groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return list(self.up)

    def close(self) -> None:
        self._request("close", None)
