"""The WebRTC media worker: every browser's peer connection, in a process of its own.

Started by the gateway (``worker_link.MediaWorker``) as
``python -m trunkline.gateway.webrtc.worker CONTROL_FD MEDIA_FD``; it runs one asyncio
loop with the same peers as the in-process softphone (``peer.py``'s
:class:`~trunkline.gateway.webrtc.peer.WebRtcPeer`: G.711 only, host candidates, RFC 4733
keys accepted), so the gateway's process keeps the tick, the jitter buffers, the
telephone-event decoder and the loss watch (``positions.py``) exactly as they were: only
where the packets come from changed.

- packets a peer receives are gathered for 2 ms and sent to the gateway in one datagram
  (``worker_batch.py``: what the gateway's socket cannot take waits for the next
  flush);
- frames from the gateway's tick (one datagram a tick) go to each peer's outbound queue,
  and its track sends them at once (``peer._OutboundTrack``: the tick's clock paces);
- control requests are answered on the control socket; peers' states are sent unasked.

The worker exits when its control socket ends (the gateway stopped or died), so it never
outlives the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import sys
from typing import Any

import structlog

from trunkline.gateway.webrtc.peer import WebRtcPeer
from trunkline.gateway.webrtc.positions import MAX_OUTBOUND, Position
from trunkline.gateway.webrtc.worker_batch import FLUSH_INTERVAL, InboundBatcher
from trunkline.gateway.webrtc.worker_wire import (
    Rtp,
    WireError,
    decode_frames,
    pack_control,
    unpack_control,
)

log = structlog.get_logger("trunkline.gateway.webrtc.worker")

__all__ = ["MediaWorkerProcess", "main"]

_RECV = 1 << 18


class _Forward(queue.SimpleQueue):  # type: ignore[type-arg]
    """A position's inbound "queue" that hands each packet to the batch for the gateway."""

    def __init__(self, worker: MediaWorkerProcess, peer: int) -> None:
        self.worker, self.peer = worker, peer

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.worker.queue_packet(self.peer, item)


class MediaWorkerProcess:
    """The worker's loop (see the module docstring)."""

    def __init__(self, control: socket.socket, media: socket.socket) -> None:
        self.control = control
        self.media = media
        self.peers: dict[int, WebRtcPeer] = {}
        self.positions: dict[int, Position] = {}
        self.inbound = InboundBatcher()    # packets on their way to the gateway
        self._flush_due = False
        self._done: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self.media.setblocking(False)
        self.control.setblocking(False)
        loop.add_reader(self.media.fileno(), self._on_media)
        loop.add_reader(self.control.fileno(), self._on_control)
        try:
            await self._done
        finally:
            loop.remove_reader(self.media.fileno())
            loop.remove_reader(self.control.fileno())
            for peer in list(self.peers.values()):
                with contextlib.suppress(Exception):
                    await peer.close()

    # -- media --------------------------------------------------------------------------
    def _on_media(self) -> None:
        while True:
            try:
                datagram = self.media.recv(_RECV)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._finish()
                return
            try:
                for peer, payload in decode_frames(datagram):
                    position = self.positions.get(peer)
                    if position is None:
                        continue
                    if len(position.outbound) == MAX_OUTBOUND:
                        position.dropped_out += 1
                    position.outbound.append(payload)
                    if position.wake is not None:
                        position.wake()     # sent now, as the tick made it
            except WireError as err:
                log.warning("webrtc_worker_bad_frames", error=str(err))

    def queue_packet(self, peer: int, rtp: Rtp) -> None:
        self.inbound.add(peer, rtp)
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        if self.inbound.flush(self.media.send):
            # The gateway's socket is full (its tick stalled): the rest goes next time.
            self._flush_due = True
            asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    # -- control ------------------------------------------------------------------------
    def _on_control(self) -> None:
        try:
            data = self.control.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._finish()
            return
        try:
            message = unpack_control(data)
        except WireError as err:
            log.warning("webrtc_worker_bad_request", error=str(err))
            return
        task = asyncio.get_running_loop().create_task(self._handle(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"op": "reply", "id": message.get("id")}
        try:
            reply.update(await self._do(message))
        except (ValueError, TypeError, KeyError) as err:
            reply["error"] = str(err) or type(err).__name__
        self._send(reply)

    async def _do(self, message: dict[str, Any]) -> dict[str, Any]:
        op, peer_id = message["op"], int(message["peer"])
        if op == "answer":
            return await self._answer(peer_id, message)
        peer = self.peers.get(peer_id)
        if op == "candidate":
            if peer is None:
                raise ValueError("no offer yet: send the offer first")
            await peer.add_candidate(str(message.get("candidate", "")), message.get("mid"),
                                     message.get("index"))
            return {}
        if op == "close":
            self.positions.pop(peer_id, None)
            if self.peers.pop(peer_id, None) is not None and peer is not None:
                peer.closed = True
                await peer.close()
            return {}
        if op == "stats":
            if peer is None:
                return {"state": "closed", "dropped_out": 0}
            position = self.positions.get(peer_id)
            return {**await peer.stats(),
                    "dropped_out": position.dropped_out if position is not None else 0}
        raise ValueError(f"the worker does not do {op!r}")

    async def _answer(self, peer_id: int, message: dict[str, Any]) -> dict[str, Any]:
        position = Position(int(message["channel"]), int(message["call"]),
                            inbound=_Forward(self, peer_id))

        def on_state(kind: str, reason: str) -> None:
            self._send({"op": "state", "peer": peer_id, "kind": kind, "reason": reason})

        peer = WebRtcPeer(position, ice_servers=list(message.get("ice_servers") or []),
                          on_state=on_state)
        self.peers[peer_id] = peer
        self.positions[peer_id] = position
        try:
            answer = await peer.answer(str(message["sdp"]))
        except BaseException:
            self.peers.pop(peer_id, None)
            self.positions.pop(peer_id, None)
            raise
        return {"sdp": answer, "law": position.law, "dtmf_pt": position.dtmf_pt}

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.control.send(pack_control(message))
        except BlockingIOError:
            # Control messages are few and small; a full socket means the gateway is not
            # reading: wait for it rather than lose a reply.
            self.control.setblocking(True)
            try:
                self.control.send(pack_control(message))
            finally:
                self.control.setblocking(False)
        except OSError:
            self._finish()

    def _finish(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not all(a.isdigit() for a in args):
        print("usage: python -m trunkline.gateway.webrtc.worker CONTROL_FD MEDIA_FD "
              "(started by the gateway)", file=sys.stderr)
        return 2
    control = socket.socket(fileno=int(args[0]))
    media = socket.socket(fileno=int(args[1]))
    asyncio.run(MediaWorkerProcess(control, media).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
