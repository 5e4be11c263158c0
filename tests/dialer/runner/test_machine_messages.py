"""Messages left on answering machines (issue 7 item 5: "or a message left, per campaign").

A campaign with ``machine_message`` plays it to calls AMD classified as machines, after
the greeting and the beep: the gateway holds the play until the far end has been quiet
for ``machine_message_wait`` seconds. Each call is recorded in stereo (the machine on the
left, what we sent on the right), and the recording is measured independently of the
gateway's own bookkeeping: nothing was sent while the machine spoke or beeped, and the
message went out whole after it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from runner_kit import WatchedGateway, make_store, write_wav

from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner

BLOCK = 160            # 20 ms at 8 kHz
LOUD_RMS = 300.0       # speech, tones (the emulated greeting and beep are far above)


class MessageGateway(WatchedGateway):
    """Records every call a machine message is played to."""

    def __init__(self, db: Path, folder: Path) -> None:
        super().__init__(db)
        self.folder = folder
        self.recordings: dict[int, Path] = {}

    def play(self, call: int, *, file=None, tone=None, wait_silence=0.0,
             loop=False) -> None:
        if wait_silence:
            path = self.folder / f"call-{call}.wav"
            self.engine.record(call, "start", str(path), "pcm16")
            self.recordings[call] = path
        super().play(call, file=file, tone=tone, wait_silence=wait_silence)


def _blocks_rms(samples: np.ndarray) -> np.ndarray:
    n = samples.size // BLOCK
    blocks = samples[: n * BLOCK].astype(np.float64).reshape(n, BLOCK)
    return np.sqrt(np.mean(blocks ** 2, axis=1))


@pytest.mark.slow
def test_machines_get_the_message_after_the_beep(tmp_path: Path) -> None:
    message = write_wav(tmp_path / "message.wav", seconds=3.0)
    ranges = (("139", 4, "machine"), ("1381", 2, "human"))
    store = make_store(tmp_path, ranges=ranges, config={
        "mode": "progressive", "ring_timeout": 20.0, "machine_message": str(message),
        "machine_message_wait": 1.0})
    gateway = MessageGateway(tmp_path / "dialer.sqlite", tmp_path)
    runner = CampaignRunner(store, "sales", gateway, agents=[71, 72], group="pri",
                            engine_log=quiet_logger())
    try:
        summary = runner.run(seconds=1800)
    finally:
        gateway.close()
    assert summary.finished and gateway.watch.dial_violations == []
    assert summary.outcomes == {"machine": 4, "human": 2}
    assert summary.messages_left == 4
    notes = store.query("SELECT outcome, note FROM attempt ORDER BY id")
    assert sorted(r["note"] for r in notes if r["outcome"] == "machine") == \
        ["machine message left"] * 4
    assert all(r["note"] is None for r in notes if r["outcome"] == "human")
    assert len(gateway.recordings) == 4          # only machines got a message

    for path in gateway.recordings.values():
        audio, rate = soundfile.read(path, dtype="int16")
        assert rate == 8000 and audio.ndim == 2
        machine, sent = _blocks_rms(audio[:, 0]), _blocks_rms(audio[:, 1])
        loud_sent = np.flatnonzero(sent > LOUD_RMS)
        assert loud_sent.size, f"{path.name}: no message was sent"
        first = loud_sent[0]
        # the machine spoke (greeting, beep) before, and was quiet >= 1 s before the start
        assert np.count_nonzero(machine[:first] > LOUD_RMS) >= 25, path.name
        last_loud = np.flatnonzero(machine[:first] > LOUD_RMS)[-1]
        assert (first - last_loud - 1) * 0.02 >= 0.98, path.name
        # nothing went out while it spoke, and the whole 3 s message went out after
        assert np.all(sent[:first] < LOUD_RMS), path.name
        assert np.count_nonzero(sent[first:] > LOUD_RMS) * 0.02 >= 2.9, path.name
