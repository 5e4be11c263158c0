"""The gateway's softphone: WebRTC positions wired into the media engine.

:class:`Softphone` adds a virtual span of position channels to the engine's line loop
(numbered after the card's last channel), opens positions as gateway calls
(``webrtc.open``), answers the pages' offers on the WebRTC thread (``webrtc.offer``), and
publishes what the peers do (``webrtc.state``). A position's call is a call like any
other: ``call.bridge``, ``call.listen``, ``call.record``, ``call.play``,
``call.send_dtmf``, ``call.hangup`` and detection take it as they take an FXS port's.

A second offer for the same call (the page reloaded, or a second tab) replaces the first
peer: the newest page has the audio, and ``webrtc.state`` ``replaced`` tells the old one.

Where the peers run (``[webrtc] media_worker``): on a thread of this process
(``peer.WebRtcThread``, where aiortc shares the GIL with the tick; the default, and the
benchmark's baseline), or in the WebRTC media worker, a process of their own
(``worker.py``, ``worker_link.py``). The methods below
take either way; the positions (jitter buffers, keys, loss watch) are the same.
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
    from trunkline.gateway.webrtc.worker_link import MediaWorker

#: How long a request to the media worker may take (an answer gathers candidates: about
#: 0.3 s; a worker that does not answer in this time is treated as one that refused).
WORKER_TIMEOUT = 30.0


class RemotePeer:
    """A position's peer connection when it runs in the media worker: its number there."""

    __slots__ = ("closed", "id")

    def __init__(self, peer_id: int) -> None:
        self.id = peer_id
        self.closed = False

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
        self._worker: MediaWorker | None = None
        #: How the media worker is started (None: ``python -m
        #: trunkline.gateway.webrtc.worker``); set before the first offer (a test's
        #: worker with aiortc's timers shortened).
        self.worker_command: list[str] | None = None

    @property
    def worker(self) -> MediaWorker | None:
        """The media worker (started at the first offer), or None: peers run in-process."""
        if not self.settings.media_worker:
            return None
        if self._worker is None:
            from trunkline.gateway.webrtc.worker_link import MediaWorker

            self._worker = MediaWorker(command=self.worker_command).start()
            self.positions.link = self._worker
        return self._worker

    @property
    def thread(self) -> WebRtcThread:
        if self._thread is None:
            from trunkline.gateway.webrtc.peer import WebRtcThread, wake_all

            thread = self._thread = WebRtcThread()
            # The tick's frames reach the tracks in one hand-over a tick (peer.py).
            self.positions.on_frames = (
                lambda wakes: thread.loop.call_soon_threadsafe(wake_all, wakes))
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

    def ice(self, call: int) -> dict[str, Any]:
        """The STUN/TURN servers the page of position ``call`` should give its peer
        connection (``[[webrtc.ice_server]]``, the ones the gateway's own side uses; none
        by default: host candidates on the site's LAN). The page cannot be configured any
        other way: its CSP allows no inline script."""
        self.position(call)
        return {"call": call, "ice_servers": [dict(s) for s in self.settings.ice_servers]}

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
            if isinstance(peer, RemotePeer):
                self._close_remote(position, peer)
            else:
                self.thread.submit(peer.close())  # type: ignore[attr-defined]

    def _close_remote(self, position: Position, peer: RemotePeer) -> None:
        """Any thread: ``peer`` closed in the worker (not waited for) and unrouted."""
        peer.closed = True
        if position.route == peer.id:
            position.route = 0
        worker = self._worker
        if worker is not None:
            worker.unroute(peer.id)
            worker.request("close", peer=peer.id)

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
        if self.worker is not None:
            return await self._offer_remote(position, sdp)
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

    async def _offer_remote(self, position: Position, sdp: str) -> dict[str, Any]:
        """:meth:`offer` when the peers run in the media worker."""
        from trunkline.gateway.webrtc.worker_link import WORKER_LOST

        worker = self.worker
        assert worker is not None
        peer = RemotePeer(worker.new_peer())

        def on_state(kind: str, reason: str) -> None:   # the worker link's reader thread
            if reason == WORKER_LOST:
                self.engine.submit(lambda: self._worker_lost(position, peer))
            if peer.closed and kind != "connected":
                return
            self.report(position, kind, reason)

        old = position.peer
        if isinstance(old, RemotePeer):
            self._publish(position, "replaced")
            self._close_remote(position, old)
        position.peer = peer
        position.peers += 1
        worker.route(peer.id, position, on_state)
        try:
            reply = await self._ask(worker.request(
                "answer", peer=peer.id, call=position.call, channel=position.channel,
                sdp=sdp, ice_servers=list(self.settings.ice_servers)), "webrtc.offer")
        except BaseException:
            if position.peer is peer:
                position.peer = None
            worker.unroute(peer.id)
            raise
        position.law = "alaw" if reply.get("law") == "alaw" else "ulaw"
        dtmf = reply.get("dtmf_pt")
        position.dtmf_pt = int(dtmf) if isinstance(dtmf, int) else None
        position.route = peer.id
        return {"call": position.call, "channel": position.channel, "sdp": reply["sdp"],
                "law": position.law, "dtmf": position.dtmf_pt is not None}

    def _worker_lost(self, position: Position, peer: RemotePeer) -> None:
        """Engine thread: ``peer`` died with its worker; its position sends it nothing."""
        peer.closed = True
        if position.route == peer.id:
            position.route = 0

    @staticmethod
    async def _ask(future: Any, method: str) -> dict[str, Any]:
        """A worker request's reply; its refusal as InvalidRequest, its death as
        StateConflict (the page offers again and the new worker answers)."""
        from trunkline.gateway.webrtc.worker_link import WorkerLost

        try:
            return dict(await asyncio.wait_for(asyncio.wrap_future(future), WORKER_TIMEOUT))
        except WorkerLost as err:
            raise StateConflict(f"{method}: {err}; send it again") from None
        except TimeoutError:
            raise StateConflict(f"{method}: the WebRTC media worker did not answer in "
                                f"{WORKER_TIMEOUT:.0f} s") from None
        except ValueError as err:
            raise InvalidRequest(f"{method}: {err}") from None

    async def candidate(self, call: int, candidate: str, mid: str | None,
                        index: int | None) -> dict[str, Any]:
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        if isinstance(position.peer, RemotePeer) and self._worker is not None:
            await self._ask(self._worker.request(
                "candidate", peer=position.peer.id, candidate=candidate, mid=mid,
                index=index), "webrtc.candidate")
            return {"call": call}
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
        if isinstance(peer, RemotePeer):
            self._close_remote(position, peer)
        elif peer is not None:
            peer.closed = True  # type: ignore[attr-defined]
            await asyncio.wrap_future(self.thread.submit(peer.close()))  # type: ignore[attr-defined]
        self.module.signal(position.channel, PeerSignal("bye" if hangup else "lost",
                                                        reason="closed"))
        self._publish(position, "closed")
        return {"call": call, "closed": peer is not None}

    async def status(self, call: int) -> dict[str, Any]:
        position = await asyncio.wrap_future(self.engine.submit(lambda: self.position(call)))
        peer = position.peer
        stats = position.stats()
        if isinstance(peer, RemotePeer):
            if peer.closed or self._worker is None:
                state = "closed"
            else:
                remote = await self._ask(self._worker.request("stats", peer=peer.id),
                                         "webrtc.status")
                state = str(remote.get("state", "closed"))
                stats["dropped_out"] = int(remote.get("dropped_out", 0))
        else:
            state = "new" if peer is None else (
                await asyncio.wrap_future(self.thread.submit(peer.stats())))["state"]  # type: ignore[attr-defined]
        return {"call": call, "channel": position.channel, "peer": state, **stats}

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()     # its peers close with it
        if self._thread is not None:
            for position in list(self.positions.active.values()):
                if position.peer is not None:
                    self._thread.submit(position.peer.close())  # type: ignore[attr-defined]
            self._thread.stop()
