"""Calls, recordings and dispositions written straight into a test database the way the
runner writes them, for the recordings, QA and reports API tests (fast: no gateway)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import wave
from pathlib import Path

import numpy as np
from web_kit import make_db

from trunkline.dialer.store import Store

_TEMPLATE: list[Path] = []


def seeded_db(folder: Path) -> Path:
    """The web kit's database (users with argon2id hashes, the sales campaign) copied into
    ``folder``: made once per test run, since hashing four passwords costs seconds."""
    if not _TEMPLATE:
        made = Path(tempfile.mkdtemp(prefix="trunkline-qa-template-"))
        atexit.register(shutil.rmtree, made, True)
        _TEMPLATE.append(make_db(made))
    target = folder / "dialer.sqlite"
    shutil.copyfile(_TEMPLATE[0], target)
    return target


def finished_call(store: Store, campaign: str, *, agent: str | None, at: float,
                  outcome: str = "human", talk: float = 30.0, code: str | None = "sale",
                  window: int | None = None) -> tuple[int, int, str]:
    """A dialled call of ``agent`` ended at ``at``: (attempt, contact, number); with
    ``window`` it counts in that abandon window as the runner counts it."""
    claim = store.claim_next(campaign, at - talk - 20)
    assert claim is not None, "no contact left to claim"
    assert store.mark_dialing(claim.attempt, at - talk - 20, call_ref="7", agent=agent)
    store.record_outcome(claim.attempt, outcome, at, agent=agent, window=window,
                         talk=talk if outcome == "human" else None,
                         wrap=5.0 if outcome == "human" else None)
    if code is not None and agent is not None:
        store.record_disposition(campaign=campaign, contact=claim.contact, agent=agent,
                                 code=code, fields={}, notes="", at=at + 5,
                                 attempt=claim.attempt)
    return claim.attempt, claim.contact, claim.number


def stereo_wav(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(8000 * seconds))
    left = (np.sin(2 * np.pi * 300 * t / 8000) * 12000).astype(np.int16)
    right = (np.sin(2 * np.pi * 500 * t / 8000) * 6000).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.column_stack([left, right]).astype("<i2").tobytes())
    return path


def recorded_call(store: Store, folder: Path, campaign: str, *, agent: str, at: float,
                  seconds: float = 2.0, code: str | None = "sale") -> int:
    """A finished call with its recording; returns the recording's id."""
    attempt, _, number = finished_call(store, campaign, agent=agent, at=at, talk=seconds,
                                       code=code)
    path = stereo_wav(folder / f"rec-{attempt}.wav", seconds)
    rec = store.add_call_recording(campaign=campaign, call_ref=str(attempt), path=str(path),
                                   started_at=at - seconds, attempt=attempt, agent=agent,
                                   number=number, gateway="virtual")
    assert store.finish_call_recording(gateway="virtual", call_ref=str(attempt),
                                       path=str(path), duration=seconds)
    return rec
