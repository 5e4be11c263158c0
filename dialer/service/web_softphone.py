"""The softphone's signalling between the agent's page and the gateway (issue 19).

The page speaks over the WebSocket it already has (``/api/ws``: the session's cookie,
same origin): it sends ``softphone.*`` messages and gets a reply each; this module hands
them to the gateway that runs the agent's desk (``webrtc.*`` methods), on that gateway's
worker thread, as the desk's own requests go. An agent can only reach its own position:
the position is looked up by the session's user, never taken from the message.

Page -> service (``id``: anything the page wants echoed)::

    {"type": "softphone.config", "id": 0}       # before the peer connection is made
        -> {"type": "softphone.config", "id": 0, "ice_servers": [{"urls": "turn:...",
            "username": "...", "credential": "..."}]}   # the gateway's [[webrtc.ice_server]]
    {"type": "softphone.offer", "id": 1, "sdp": "v=0..."}
        -> {"type": "softphone.answer", "id": 1, "sdp": "...", "call": 17, "law": "ulaw"}
    {"type": "softphone.candidate", "id": 2, "candidate": "candidate:...", "mid": "0"}
    {"type": "softphone.hangup", "id": 3}       # the agent puts the phone down
    {"type": "softphone.status", "id": 4}       # packets, loss, jitter buffer delay
    {"type": "softphone.test", "id": 5, "seconds": 3}   # beep, record, play back
        -> {"type": "softphone.error", "id": n, "error": "...", "retry": bool} on failure

``retry`` is true while the position is not open yet (the login is still being carried
out): the page asks again shortly. One page has the audio at a time: a second tab's (or
a reloaded page's) offer takes it over, and the page that had it is sent
``{"type": "softphone.replaced"}``. When the web session ends (logout, idle timeout, the
user disabled) the position's audio is closed and its call ends: the phone goes with the
session. A page that merely goes away (closed, reloaded, network lost) leaves the
position waiting ``[webrtc] reconnect`` seconds for it on the gateway.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from trunkline.dialer.service.host import HostError, ServiceHost
from trunkline.gateway.rpc.errors import RpcError

log = structlog.get_logger("trunkline.dialer.softphone")

__all__ = ["SoftphoneRelay", "read_messages", "relay_for"]

#: The longest SDP relayed (a browser's offer is 2-6 kB).
MAX_SDP = 65536
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _NotYet(Exception):
    """The agent's position is not open yet: the page should ask again."""


class SoftphoneRelay:
    """The signalling relay of one service host (see the module docstring)."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self._pages: dict[str, Send] = {}      # agent -> the page that has the audio

    async def on_message(self, user: str, send: Send, message: Any) -> dict[str, Any] | None:
        """The reply to a page's ``softphone.*`` message; None for other messages."""
        if not isinstance(message, dict):
            return None
        kind = message.get("type")
        if not isinstance(kind, str) or not kind.startswith("softphone."):
            return None
        rid = message.get("id")
        try:
            reply = await self._handle(user, send, kind.removeprefix("softphone."), message)
        except _NotYet as err:
            return {"type": "softphone.error", "id": rid, "error": str(err), "retry": True}
        except (HostError, RpcError, ValueError) as err:
            return {"type": "softphone.error", "id": rid, "error": str(err), "retry": False}
        return {**reply, "id": rid}

    async def _handle(self, user: str, send: Send, op: str, message: dict[str, Any]
                      ) -> dict[str, Any]:
        if op == "config":
            # The page's STUN/TURN servers come from the gateway's configuration, the one
            # place a site sets them (the page's CSP allows no inline script to set them).
            reply = await self._gateway(user, "ice")
            return {"type": "softphone.config", "ice_servers": list(reply["ice_servers"])}
        if op == "offer":
            sdp = message.get("sdp")
            if not isinstance(sdp, str) or not sdp or len(sdp) > MAX_SDP:
                raise ValueError(f"softphone.offer needs its sdp (a string of at most "
                                 f"{MAX_SDP} characters)")
            reply = await self._gateway(user, "offer", sdp=sdp)
            old = self._pages.get(user)
            self._pages[user] = send
            if old is not None and old is not send:
                with contextlib.suppress(Exception):   # that page may be gone already
                    await old({"type": "softphone.replaced"})
            return {"type": "softphone.answer", "sdp": reply["sdp"], "call": reply["call"],
                    "law": reply.get("law"), "dtmf": reply.get("dtmf")}
        if op == "candidate":
            candidate = message.get("candidate", "")
            if not isinstance(candidate, str) or len(candidate) > 1024:
                raise ValueError("softphone.candidate: candidate is a string")
            params: dict[str, Any] = {"candidate": candidate}
            if isinstance(message.get("mid"), str):
                params["mid"] = message["mid"]
            if isinstance(message.get("index"), int):
                params["index"] = message["index"]
            await self._gateway(user, "candidate", **params)
            return {"type": "softphone.ok"}
        if op == "hangup":
            await self._gateway(user, "close", hangup=True)
            self._pages.pop(user, None)
            return {"type": "softphone.ok"}
        if op == "status":
            return {"type": "softphone.status", **await self._gateway(user, "status")}
        if op == "test":
            seconds = message.get("seconds", 3.0)
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise ValueError("softphone.test: seconds is a number")
            return {"type": "softphone.test",
                    **await self._gateway(user, "test", seconds=float(seconds))}
        raise ValueError(f"unknown softphone message {op!r} (config, offer, candidate, "
                         "hangup, status, test)")

    async def _gateway(self, user: str, op: str, **params: Any) -> dict[str, Any]:
        """``webrtc.<op>`` on ``user``'s browser position, on its gateway's worker."""
        gateway = self.host.gateway_of(agent=user)
        if gateway is None:
            raise _NotYet(f"{user} is not at a desk: log in with position browser first")

        def call(runner: Any, port: Any, store: Any) -> dict[str, Any]:
            seat = runner.desk.seats.get(user) if runner is not None else None
            position = runner.agent_legs.get(user) if runner is not None else None
            if seat is None:
                raise _NotYet(f"{user} is not at a desk: log in with position browser first")
            if seat.position != "browser":
                raise ValueError(f"{user} is at position {seat.position} "
                                 f"{seat.address}, not browser")
            if position is None or position.gone:
                raise _NotYet("the browser position is being opened")
            return dict(port.webrtc(op, position.gw, **params))

        return await self.host.on_worker(gateway, call)

    async def page_gone(self, user: str, send: Send) -> None:
        """A page's socket closed: it no longer has the audio (its position waits for a
        new page on the gateway)."""
        if self._pages.get(user) is send:
            del self._pages[user]

    async def session_ended(self, user: str) -> None:
        """The web session ended: close the position's audio and end its call."""
        self._pages.pop(user, None)
        with contextlib.suppress(HostError, RpcError, ValueError, _NotYet):
            await self._gateway(user, "close", hangup=True)
            log.info("softphone_closed_with_session", agent=user)


_relays: weakref.WeakKeyDictionary[ServiceHost, SoftphoneRelay] = weakref.WeakKeyDictionary()


def relay_for(host: ServiceHost) -> SoftphoneRelay:
    """The host's relay (one per host, made on first use)."""
    relay = _relays.get(host)
    if relay is None:
        relay = _relays[host] = SoftphoneRelay(host)
    return relay


async def read_messages(receive: Callable[[], Awaitable[dict[str, Any]]], user: str,
                        relay: SoftphoneRelay, send: Send) -> None:
    """Read a WebSocket until it disconnects: ``softphone.*`` JSON messages are answered
    through ``send``; anything else is ignored, as before."""
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if not text:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        reply = await relay.on_message(user, send, data)
        if reply is not None:
            await send(reply)
