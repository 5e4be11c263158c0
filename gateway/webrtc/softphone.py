"""The gateway's softphone: WebRTC positions wired into the media engine.

:class:`Softphone` adds a virtual span of position channels to the engine's line loop
(numbered after the card's last channel), opens positions as gateway calls
(``webrtc.open``), answers the pages' offers on the WebRTC thread (``webrtc.offer``), and
publishes what the peers do (``webrtc.state``). A position's call is a call like any
other: ``call.bridge``, ``call.listen``, ``call.record``, ``call.play``,
``call.send_dtmf``, ``call.hangup`` and detection take it as they take an FXS port's.

A second offer for the same call (the page reloaded, or a second tab) replaces the first
peer: the newest page has the audio, and ``webrtc.state`` ``replaced`` tells the old one.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from trunkline.drivers.signalling.leg import CallOptions
from trunkline.errors import CallStateError, InvalidRequest, NotFound, StateConflict
from trunkline.gateway.media.calls import Call
from trunkline.gateway.webrtc.leg import PeerSignal, WebRtcLeg, WebRtcSignalling, virtual_span
from trunkline.gateway.webrtc.looptest import LoopTest
from trunkline.gateway.webrtc.positions import Position, Positions
from trunkline.gateway.webrtc.settings import SoftphoneSettings

if TYPE_CHECKING:
    from trunkline.gateway.media.engine import MediaEngine
    from trunkline.gateway.webrtc.peer import WebRtcPeer, WebRtcThread

log = structlog.get_logger("trunkline.gateway.webrtc")

__all__ = ["Softphone", "SoftphoneSettings"]


class Softphone:
    """WebRTC positions of one gateway (see the module docstring)."""

    def __init__(self, engine: MediaEngine, settings: SoftphoneSettings | None = None
                 ) -> None:
        self.engine = engine
        self.settings = settings or SoftphoneSettings()
        loop = engine.loop
        first = max(engine.card.channels) + 1
        channels = tuple(range(first, first + self.settings.positions))
        self.span = max(s.number for s in engine.card.spans) + 1
        self.module = WebRtcSignalling(engine.card, virtual_span(self.span, channels),
                                       loop.context, reconnect=self.settings.reconnect,
                                       on_end=self._ended)
        self.positions = Positions(channels, self.module)
        self.positions.on_media = self.report   # packets stopped: lost (no_media), back
        loop.add_virtual_span(self.span, self.module, self.positions, channels)
        self._thread: WebRtcThread | None = None

    @property
    def thread(self) -> WebRtcThread:
        if self._thread is None:
            from trunkline.gateway.webrtc.peer import WebRtcThread

            self._thread = WebRtcThread()
        return self._thread

    # -- engine thread -----------------------------------------------------------------
    def open(self, label: str, ring_timeout: float | None = None) -> dict[str, Any]:
        """A new position call, ringing until its page connects."""
        engine = self.engine
        if engine.draining:
            raise StateConflict("the gateway is shutting down: no new calls")
        channel = self.positions.free_channel()
        if channel is None:
            raise StateConflict(f"all {len(self.positions.channels)} WebRTC positions are "
                                "in use ([webrtc] positions)")
        options = CallOptions(label or "browser",
                              ring_timeout=ring_timeout or self.settings.ring_timeout,
                              max_duration=24 * 3600.0)
        leg = self.module.outbound(engine.loop.next_id(), channel, options)
        engine.calls[leg.id] = Call(leg, created=engine.clock.now())
        self.positions.open(channel, leg.id)
        try:
            engine.loop.place(leg)
        except BaseException:
            engine.calls.pop(leg.id, None)
            self.positions.close(channel)
            raise
        return engine.calls[leg.id].info() if leg.id in engine.calls else \
            {"call": leg.id, "channel": channel, "state": "hungup"}

    def test(self, call: int, seconds: float) -> dict[str, Any]:
        """Engine thread: start the position's test call (a beep, ``seconds`` of the agent
        recorded, played back; gateway/webrtc/looptest.py)."""
        position = self.position(call)
        current = self.engine.call(call)
        if current.state != "answered" or current.bridged_to is not None \
                or current.conference is not None:
            raise CallStateError(f"a test call needs the position answered and on no "
                                 f"call; it is {current.state}")
        try:
            test = LoopTest(seconds)
        except ValueError as err:
            raise InvalidRequest(str(err)) from None
        self.engine.attach_processor(call, test)
        position.test = test
        return {"call": call, **test.result()}

    def position(self, call: int) -> Position:
        position = self.positions.by_call(call)
        if position is None:
            if call in self.engine.calls:
                raise InvalidRequest(f"call {call} is not a WebRTC position")
            raise NotFound(f"no call {call} (it may have ended)")
        return position

    def _ended(self, leg: WebRtcLeg) -> None:
        """The position's call is over: its channel is free, its peer closed."""
        assert leg.channel is not None
        position = self.positions.close(leg.channel)
        if position is not None and position.peer is not None:
            peer, position.peer = position.peer, None
            self.thread.submit(peer.close())  # type: ignore[attr-defined]

    def report(self, position: Position, kind: str, reason: str = "") -> None:
        """Any thread: what ``position``'s peer did (``connected``, ``lost``, ``bye``):
        to its leg (from the next tick) and to clients (``webrtc.state``)."""
        self.module.signal(position.channel, PeerSignal(kind, reason=reason))
        self._publish(position, kind, **({"reason": reason} if reason else {}))

    def _publish(self, position: Position, state: str, **extra: Any) -> None:
        event = {"event": "webrtc.state", "call": position.call, "span": self.span,
                 "channel": position.channel, "state": state, **extra}
        self.engine.submit(lambda: self.engine.publish(event))

    # -- any thread (the RPC loop) -----------------------------------------------------
    async def offer(self, call: int, sdp: str) -> dict[str, Any]:
        """Answer the page's offer for position ``call`` (a new page replaces the old)."""
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        from trunkline.gateway.webrtc.peer import WebRtcPeer

        settings = self.settings

        def on_state(kind: str, reason: str) -> None:
            if peer.closed and kind != "connected":
                return
            self.report(position, kind, reason)

        peer = WebRtcPeer(position, ice_servers=list(settings.ice_servers), on_state=on_state)

        async def replace() -> str:
            old = position.peer
            if old is not None:
                old.closed = True  # type: ignore[attr-defined]
                self._publish(position, "replaced")
                await old.close()  # type: ignore[attr-defined]
            position.peer = peer
            position.peers += 1
            try:
                return await peer.answer(sdp)
            except BaseException:
                position.peer = None
                raise

        try:
            answer = await asyncio.wrap_future(self.thread.submit(replace()))
        except ValueError as err:
            raise InvalidRequest(f"webrtc.offer: {err}") from None
        return {"call": call, "channel": position.channel, "sdp": answer,
                "law": position.law, "dtmf": position.dtmf_pt is not None}

    async def candidate(self, call: int, candidate: str, mid: str | None,
                        index: int | None) -> dict[str, Any]:
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        peer: WebRtcPeer | None = position.peer  # type: ignore[assignment]
        if peer is None:
            raise StateConflict(f"position {call} has no peer: send webrtc.offer first")
        try:
            await asyncio.wrap_future(self.thread.submit(peer.add_candidate(candidate, mid,
                                                                            index)))
        except ValueError as err:
            raise InvalidRequest(f"webrtc.candidate: {err}") from None
        return {"call": call}

    async def close(self, call: int, hangup: bool) -> dict[str, Any]:
        """Close the page's peer: the position waits ``reconnect`` s for a new one, or,
        with ``hangup``, its call ends (the page said goodbye)."""
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        peer, position.peer = position.peer, None
        if peer is not None:
            peer.closed = True  # type: ignore[attr-defined]
            await asyncio.wrap_future(self.thread.submit(peer.close()))  # type: ignore[attr-defined]
        self.module.signal(position.channel, PeerSignal("bye" if hangup else "lost",
                                                        reason="closed"))
        self._publish(position, "closed")
        return {"call": call, "closed": peer is not None}

    async def status(self, call: int) -> dict[str, Any]:
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        peer = position.peer
        state = "new" if peer is None else (
            await asyncio.wrap_future(self.thread.submit(peer.stats())))["state"]  # type: ignore[attr-defined]
        return {"call": call, "channel": position.channel, "peer": state,
                **position.stats()}

    def stop(self) -> None:
        if self._thread is not None:
            for position in list(self.positions.active.values()):
                if position.peer is not None:
                    self._thread.submit(position.peer.close())  # type: ignore[attr-defined]
            self._thread.stop()
