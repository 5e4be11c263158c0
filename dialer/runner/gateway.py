"""Gateway access for the runners: the port they need, over a socket or in process.

Moved here unchanged from the campaign runner's module (``dialer/runner.py``):
:class:`GatewayPort` is what a runner needs from a gateway; :class:`LiveGateway` talks to
a running gateway over its socket; :class:`InProcessGateway` runs a gateway service on
the emulated card inside this process and ticks it in virtual time (``trunkline dialer
run --virtual`` and the tests). Both expose the same small API: originate, hangup,
bridge, play, and the events that arrived up to a time.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from trunkline.errors import ConfigError, TrunklineError
from trunkline.gateway.rpc.errors import RpcError

#: The gateway events the runner listens to.
EVENTS = ["call.state", "amd", "announcement", "play.started", "play.finished"]


class GatewayPort(Protocol):
    """What the runner needs from a gateway; both implementations below provide it.

    Methods raise :class:`~trunkline.gateway.rpc.errors.RpcError` as the gateway answers.
    """

    def now(self) -> float:
        """The time events are stamped with (epoch seconds; virtual in-process)."""
        ...

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        """Place a call; returns the gateway's call id."""
        ...

    def hangup(self, call: int) -> None: ...

    def bridge(self, call: int, other: int) -> None: ...

    def unbridge(self, call: int) -> None: ...

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        """Play into a call; with ``wait_silence`` the start waits for that much quiet."""
        ...

    def group(self, name: str) -> list[int]:
        """The channels of a channel group (``agents``: the FXS ports by default)."""
        ...

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress (``calls.list``)."""
        ...

    def wait(self, until: float) -> list[dict[str, Any]]:
        """The events that arrive until ``until`` (returns at the first, or at ``until``)."""
        ...

    def close(self) -> None: ...


class LiveGateway:
    """A running gateway over its socket (the blocking :class:`GatewayClient`)."""

    def __init__(self, address: str, *, token: str | None = None, client: Any = None) -> None:
        if client is None:
            from trunkline.gateway.rpc.client import GatewayClient

            client = GatewayClient(address, token=token).connect()
        self.client = client
        self.client.subscribe(EVENTS)

    def now(self) -> float:
        return time.time()

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        params: dict[str, Any] = {"number": number, "ring_timeout": ring_timeout}
        if channel is not None:
            params["channel"] = channel
        elif group is not None:
            params["group"] = group
        return int(self.client.call("call.originate", **params)["call"])

    def hangup(self, call: int) -> None:
        self.client.call("call.hangup", call=call)

    def bridge(self, call: int, other: int) -> None:
        self.client.call("call.bridge", call=call, other=other)

    def unbridge(self, call: int) -> None:
        self.client.call("call.unbridge", call=call)

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        params: dict[str, Any] = {"call": call}
        if wait_silence:
            params["wait_silence"] = wait_silence
        if file is not None:
            params["file"] = file
        else:
            params["tone"] = tone
        self.client.call("call.play", **params)

    def group(self, name: str) -> list[int]:
        groups = self.client.call("groups.list")
        if name not in groups:
            raise ConfigError(f"the gateway has no channel group {name!r} "
                              f"(groups: {', '.join(groups)})")
        return list(groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return list(self.client.call("calls.list"))

    def wait(self, until: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        try:
            out.append(self.client.next_event(timeout=max(0.0, until - time.time())))
            while True:
                out.append(self.client.next_event(timeout=0))
        except TimeoutError:
            pass
        return out

    def close(self) -> None:
        self.client.close()


def _as_rpc(fn: Callable[[], Any]) -> Any:
    """Run an engine method, raising what a client of the service would see (the
    service's registry maps these exceptions the same way)."""
    try:
        return fn()
    except RpcError:
        raise
    except ConfigError as err:
        raise RpcError("invalid_params", str(err)) from err
    except TrunklineError as err:
        raise RpcError("conflict", str(err)) from err


class InProcessGateway:
    """A gateway service on the emulated card in this process, in virtual time.

    The media engine is ticked by :meth:`wait` (20 ms of card time per tick, as fast as
    the CPU allows), and engine methods are called directly between ticks, on the same
    thread, as the service's request queue would. ``start`` is the epoch instant the
    virtual clock starts at. ``on_tick`` callables run after every tick (tests use them
    to watch the card).
    """

    def __init__(self, *, start: float | None = None, network: str | Path | None = None,
                 config: Any = None) -> None:
        from trunkline.clock import VirtualClock
        from trunkline.gateway.config import GatewayConfig
        from trunkline.gateway.service import GatewayService

        self.clock = VirtualClock(time.time() if start is None else start)
        self._scratch: tempfile.TemporaryDirectory | None = None
        if config is None:  # a virtual gateway keeps its recordings and fax spool aside
            self._scratch = tempfile.TemporaryDirectory(prefix="trunkline-virtual-gw-")
            scratch = Path(self._scratch.name)
            config = GatewayConfig(recordings_root=scratch / "recordings",
                                   fax_spool=scratch / "fax")
        if network is not None:
            config.network = Path(network)
        self.service = GatewayService(config, clock=self.clock)
        self.engine = self.service.engine
        self.card = self.service.card
        self._events: list[dict[str, Any]] = []
        self.engine.publish = self._events.append
        self.on_tick: list[Callable[[], None]] = []
        self.ticks = 0
        end = self.clock.now() + 0.3  # the PRI D-channels come up
        while self.clock.now() < end:
            self._tick()
        self._events.clear()

    def _tick(self) -> None:
        self.engine.tick()
        self.ticks += 1
        for fn in self.on_tick:
            fn()

    def now(self) -> float:
        return self.clock.now()

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0) -> int:
        info = _as_rpc(lambda: self.engine.originate(
            number, group=None if channel is not None else group, channel=channel,
            ring_timeout=ring_timeout))
        return int(info["call"])

    def hangup(self, call: int) -> None:
        _as_rpc(lambda: self.engine.hangup(call))

    def bridge(self, call: int, other: int) -> None:
        _as_rpc(lambda: self.engine.bridge(call, other))

    def unbridge(self, call: int) -> None:
        _as_rpc(lambda: self.engine.unbridge(call))

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0) -> None:
        spec = {"file": file, "tone": tone, "digits": None, "loop": False,
                "wait_silence": wait_silence}
        _as_rpc(lambda: self.engine.play(call, spec))

    def group(self, name: str) -> list[int]:
        if name not in self.engine.groups:
            raise ConfigError(f"the gateway has no channel group {name!r} "
                              f"(groups: {', '.join(self.engine.groups)})")
        return list(self.engine.groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return [c.info() for c in self.engine.calls.values()]

    def wait(self, until: float) -> list[dict[str, Any]]:
        if not self._events:
            self._tick()  # always move on: a caller at its deadline gets the next frame
        while not self._events and self.clock.now() < until:
            self._tick()
        out = self._events[:]
        self._events.clear()  # the engine publishes into this very list
        return out

    def close(self) -> None:
        self.card.close()
        if self._scratch is not None:
            self._scratch.cleanup()

