"""Gateway access for the runners: the port they need, over a socket or in process.

:class:`GatewayPort` is what a runner needs from a gateway; :class:`LiveGateway` talks to
a running gateway over its socket; :class:`InProcessGateway` runs a gateway service on
the emulated card inside this process and ticks it in virtual time (``trunkline dialer
run --virtual``, the demo and the tests), through the same method registry as the
socket. Both expose the same small API: originate, hangup, bridge, play, sms_send, and
the events that arrived up to a time; both answer requests after the gateway's next tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from trunkline.dialer.errors import DialerError
from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

#: A gateway request that did not succeed: refused (RpcError), or no reply in time from
#: a gateway too busy to answer (CallTimeout). Either fails that one request; a runner
#: catches both wherever a refusal is not told apart, so a slow gateway never ends a
#: shift.
REQUEST_FAILED = (RpcError, CallTimeout)

#: The gateway events the runner listens to (``sms.*``: the messages a disposition sent;
#: ``webrtc.state``: a browser position's audio lost or back, dialer/runner/softphone_faults.py).
EVENTS = ["call.state", "amd", "announcement", "play.started", "play.finished",
          "sms.sent", "sms.delivered", "sms.failed", "recording.finished",
          "webrtc.state"]


class GatewayPort(Protocol):
    """What the runner needs from a gateway; both implementations below provide it.

    Methods raise :class:`~trunkline.gateway.rpc.errors.RpcError` as the gateway answers.
    """

    #: The gateway's identity in the store (its address; ``in-process``): its ids (SMS)
    #: are its own, and the dialer service may run campaigns on several gateways.
    name: str

    def now(self) -> float:
        """The time events are stamped with (epoch seconds; virtual in-process)."""
        ...

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0,
                  tag: str | None = None) -> int:
        """Place a call; returns the gateway's call id. ``tag`` comes back on every
        event of the call and in :meth:`calls` (:mod:`~trunkline.dialer.runner.tags`)."""
        ...

    def hangup(self, call: int) -> None: ...

    def bridge(self, call: int, other: int) -> None: ...

    def unbridge(self, call: int) -> None: ...

    def send_dtmf(self, call: int, digits: str) -> None: ...

    def stop_play(self, call: int) -> None: ...

    def conference(self, calls: list[int]) -> int: ...

    def leave_conference(self, call: int) -> None: ...

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0, loop: bool = False) -> None:
        """Play into a call; with ``wait_silence`` the start waits for that much quiet;
        ``loop``: the file again from its start until stopped (hold music)."""
        ...

    def group(self, name: str) -> list[int]:
        """The channels of a channel group (``agents``: the FXS ports by default)."""
        ...

    def sms_send(self, to: str, text: str, *, group: str, ref: str | None = None
                 ) -> dict[str, Any]:
        """Queue an SMS on a module of ``group`` (``sms.send``): ``{"sms": id, "state":
        "queued", ...}``; the ``sms.*`` events follow. Refused with RpcError (no such
        group, every SIM over its limit)."""
        ...

    def sms_status(self, sms: int) -> dict[str, Any]:
        """One message as the gateway knows it (``sms.status``): its ``state`` (queued,
        sending, sent, delivered, failed) and ``reason``."""
        ...

    def record(self, call: int, **tags: str) -> dict[str, Any]:
        """Record ``call`` into the gateway's recording store (``recording.start``, reason
        ``policy``) tagged with ``campaign``, ``agent_id``, ``agent_name``, ``customer``:
        ``{"recording": path, ...}``; ``recording.finished`` follows at its end."""
        ...

    def webrtc_open(self, label: str, *, ring_timeout: float = 60.0) -> int:
        """A browser position (the softphone, ``webrtc.open``): a call ringing until the
        agent's page connects; returns the gateway's call id."""
        ...

    def webrtc(self, op: str, call: int, **params: Any) -> dict[str, Any]:
        """A softphone request on position ``call``: ``offer`` (``sdp``), ``candidate``,
        ``close`` (``hangup``), ``status``, ``test`` (``seconds``), ``ice`` (the STUN/TURN
        servers for its page) (``webrtc.<op>``)."""
        ...

    def calls(self) -> list[dict[str, Any]]:
        """The calls in progress (``calls.list``)."""
        ...

    def wait(self, until: float) -> list[dict[str, Any]]:
        """The events that arrive until ``until`` (returns at the first, or at ``until``)."""
        ...

    def close(self) -> None: ...


class _Requests:
    """The port's calls as gateway requests; a subclass says how a request is sent."""

    def _call(self, method: str, **params: Any) -> Any:
        raise NotImplementedError

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0,
                  tag: str | None = None) -> int:
        params: dict[str, Any] = {"number": number, "ring_timeout": ring_timeout}
        if tag is not None:
            params["tag"] = tag
        if channel is not None:
            params["channel"] = channel
        elif group is not None:
            params["group"] = group
        return int(self._call("call.originate", **params)["call"])

    def hangup(self, call: int) -> None:
        self._call("call.hangup", call=call)

    def bridge(self, call: int, other: int) -> None:
        self._call("call.bridge", call=call, other=other)

    def unbridge(self, call: int) -> None:
        self._call("call.unbridge", call=call)

    def send_dtmf(self, call: int, digits: str) -> None:
        """Send ``digits`` in band on ``call`` (the agent's keypad)."""
        self._call("call.send_dtmf", call=call, digits=digits)

    def stop_play(self, call: int) -> None:
        self._call("call.stop_play", call=call)

    def check_playback(self, file: str) -> dict[str, Any]:
        """Whether ``file`` is one :meth:`play` could play (``prompts.check``: confined to
        the gateway's prompts folder, readable audio): its resolved path and seconds.
        Raises the gateway's error otherwise; nothing is played or changed."""
        return dict(self._call("prompts.check", file=file))

    def conference(self, calls: list[int]) -> int:
        """Join ``calls`` in a new conference (each hears the others); its number."""
        return int(self._call("call.conference", calls=calls)["conference"])

    def leave_conference(self, call: int) -> None:
        self._call("call.leave_conference", call=call)

    def play(self, call: int, *, file: str | None = None, tone: str | None = None,
             wait_silence: float = 0.0, loop: bool = False) -> None:
        params: dict[str, Any] = {"call": call}
        if wait_silence:
            params["wait_silence"] = wait_silence
        if loop:
            params["loop"] = True
        if file is not None:
            params["file"] = file
        else:
            params["tone"] = tone
        self._call("call.play", **params)

    def group(self, name: str) -> list[int]:
        """The channels of group ``name`` (``agents``: the FXS ports by default)."""
        groups = self._call("groups.list")
        if name not in groups:
            raise ConfigError(f"the gateway has no channel group {name!r} "
                              f"(groups: {', '.join(groups)})")
        return list(groups[name])

    def calls(self) -> list[dict[str, Any]]:
        return list(self._call("calls.list"))

    def sms_send(self, to: str, text: str, *, group: str, ref: str | None = None
                 ) -> dict[str, Any]:
        params: dict[str, Any] = {"to": to, "text": text, "group": group}
        if ref is not None:
            params["ref"] = ref
        return dict(self._call("sms.send", **params))

    def sms_status(self, sms: int) -> dict[str, Any]:
        return dict(self._call("sms.status", sms=sms))

    def record(self, call: int, **tags: str) -> dict[str, Any]:
        return dict(self._call("recording.start", call=call, reason="policy", **tags))


    def webrtc_open(self, label: str, *, ring_timeout: float = 60.0) -> int:
        return int(self._call("webrtc.open", label=label, ring_timeout=ring_timeout)["call"])

    def webrtc(self, op: str, call: int, **params: Any) -> dict[str, Any]:
        if op not in ("offer", "candidate", "close", "status", "test", "ice"):
            raise ValueError(f"not a softphone request: {op!r}")
        return dict(self._call(f"webrtc.{op}", call=call, **params))


class LiveGateway(_Requests):
    """A running gateway over its socket (the blocking :class:`GatewayClient`)."""

    def __init__(self, address: str, *, token: str | None = None, client: Any = None) -> None:
        self.name = address
        if client is None:
            from trunkline.gateway.rpc.client import GatewayClient

            try:
                client = GatewayClient(address, token=token).connect()
            except (OSError, OverflowError, ValueError) as err:
                # No socket there, nobody listening, a port out of range: said in one
                # line, not a traceback (issue 15, item 4).
                why = err.strerror if isinstance(err, OSError) and err.strerror else err
                raise DialerError(f"cannot reach the gateway at {address}: {why} (is "
                                  "`trunkline gateway serve` running? --gateway names "
                                  "another)") from err
        self.client = client
        self.client.subscribe(EVENTS)

    def now(self) -> float:
        return time.time()

    def _call(self, method: str, **params: Any) -> Any:
        return self.client.call(method, **params)

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


class InProcessGateway(_Requests):
    """A gateway service on the emulated card in this process, in virtual time: the
    runner's port onto a :class:`~trunkline.gateway.testing.VirtualGateway`.

    Requests go through the gateway's method registry, exactly as over the socket, and
    run at the end of the next 20 ms tick; :meth:`wait` ticks until events come (or
    ``until``). ``start`` is the epoch instant the virtual clock starts at; ``on_tick``
    callables run after every tick (tests use them to watch the card).
    """

    def __init__(self, *, start: float | None = None, network: str | Path | None = None,
                 config: Any = None) -> None:
        from trunkline.gateway.testing import VirtualGateway

        self.name = "in-process"
        self.virtual = VirtualGateway(config, start=start, network=network)
        self.clock = self.virtual.clock
        self.engine = self.virtual.engine
        self.card = self.virtual.card
        self.on_tick: list[Callable[[], None]] = self.virtual.on_tick

    @property
    def ticks(self) -> int:
        return self.virtual.ticks

    def now(self) -> float:
        return self.virtual.now()

    def _call(self, method: str, **params: Any) -> Any:
        return self.virtual.call(method, **params)

    def wait(self, until: float) -> list[dict[str, Any]]:
        events = self.virtual.take_events()
        if not events:
            self.virtual.tick()  # always move on: a caller at its deadline gets a frame
            events = self.virtual.take_events()
        while not events and self.virtual.now() < until:
            self.virtual.tick()
            events = self.virtual.take_events()
        return events

    def close(self) -> None:
        self.virtual.close()
