"""The outbound track sends each frame as the tick delivers it (paced by the tick's
clock, not one of its own): it waits for a wake, returns queued frames at once, keeps at
most two when the tick ran ahead, and the in-process positions hand every peer's wake to
the WebRTC loop once a tick."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from trunkline.gateway.webrtc.peer import KEEP_OUTBOUND, _OutboundTrack, wake_all
from trunkline.gateway.webrtc.positions import MAX_OUTBOUND, Position, Positions


def frame(n: int) -> bytes:
    return bytes([n]) * 160


def test_a_frame_goes_out_when_the_tick_delivers_it_not_before() -> None:
    async def run() -> None:
        position = Position(channel=1, call=9)
        track = _OutboundTrack(position)
        assert position.wake == track.wake
        pending = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0.05)
        assert not pending.done()                 # nothing from the tick: no packet
        position.outbound.append(frame(1))
        loop = asyncio.get_running_loop()
        delivered = loop.time()
        assert position.wake is not None
        position.wake()
        packet = await pending
        assert loop.time() - delivered < 0.01     # at once, not at a clock's next turn
        assert bytes(packet) == frame(1) and packet.pts == 0
        position.outbound.append(frame(2))        # already waiting: no wait at all
        assert bytes(await track.recv()) == frame(2)
    asyncio.run(run())


def test_frames_piling_up_keep_the_newest_two_with_pts_counting_frames_sent() -> None:
    async def run() -> None:
        position = Position(channel=1, call=9)
        track = _OutboundTrack(position)
        for n in range(1, MAX_OUTBOUND + 1):      # a tick catching up after a stall
            position.outbound.append(frame(n))
        first = await track.recv()
        second = await track.recv()
        assert [bytes(first), bytes(second)] == [frame(MAX_OUTBOUND - 1),
                                                 frame(MAX_OUTBOUND)]
        assert [first.pts, second.pts] == [0, 160]
        assert position.dropped_out == MAX_OUTBOUND - KEEP_OUTBOUND
    asyncio.run(run())


def test_in_process_positions_hand_the_wakes_over_once_a_tick() -> None:
    positions = Positions((1, 2, 3), module=None)  # type: ignore[arg-type]
    calls: list[list[Callable[[], None]]] = []
    positions.on_frames = calls.append
    woken: list[int] = []
    for ch in (1, 2, 3):
        p = positions.open(ch, 10 + ch)
        if ch != 3:                               # 3 has no peer yet: no frame
            p.peer = object()
            p.wake = (lambda c=ch: woken.append(c))
    positions.write_frames((1, 2, 3), np.zeros((3, 160), np.int16))
    assert len(calls) == 1 and len(calls[0]) == 2
    wake_all(calls[0])
    assert woken == [1, 2]
    assert [len(positions.active[ch].outbound) for ch in (1, 2, 3)] == [1, 1, 0]
