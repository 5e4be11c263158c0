"""Quality-review benchmark: the waveform summary of a long recording, and searching the
dialer's recordings.

1. ``wavfile.peaks`` (a chunk at a time, runs of frames reduced at once) on a stereo
   PCM16 recording of ``--minutes`` minutes, against a baseline measured in the same run:
   the whole file read into memory and each bucket reduced with a Python loop over the
   buckets (what one writes first). Both give the same peaks (checked).
2. ``Store.search_recordings`` over ``--rows`` recordings: by agent, by part of a
   number, by disposition, and a supervisor's page of everything, each as an agent and as
   a supervisor; median of 5.

    .venv/bin/python benchmarks/bench_recordings.py                  # 60 min, 100,000 rows
    .venv/bin/python benchmarks/bench_recordings.py --minutes 10 --rows 20000
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.review import wavfile
from trunkline.dialer.store import NewContact, Store, Viewer


def write_recording(path: Path, minutes: float) -> None:
    rng = np.random.default_rng(7)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        for _ in range(int(minutes)):
            w.writeframes((rng.standard_normal((8000 * 60, 2)) * 3000).astype("<i2").tobytes())


def baseline_peaks(path: Path, buckets: int) -> list[list[float]]:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    edges = (np.arange(buckets + 1) * len(data)) // buckets
    return [[float(data[edges[i]:edges[i + 1], ch].max()) / 32768.0 for i in range(buckets)]
            for ch in range(2)]


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_peaks(folder: Path, minutes: float, buckets: int) -> None:
    path = folder / "long.wav"
    write_recording(path, minutes)
    base_s, base = timed(lambda: baseline_peaks(path, buckets))
    ours_s, ours = timed(lambda: wavfile.peaks(path, buckets))
    assert isinstance(ours, dict) and isinstance(base, list)
    for ch in range(2):
        assert np.allclose(ours["peaks"][ch]["max"], base[ch], atol=1e-4)  # type: ignore[index]
    size = path.stat().st_size / 1e6
    print(f"\nwaveform of {minutes:g} min stereo PCM16 ({size:.1f} MB), {buckets} buckets")
    print(f"{'method':<40}{'seconds':>10}{'ratio':>8}")
    print(f"{'baseline: whole file, loop per bucket':<40}{base_s:>10.3f}{1.0:>8.2f}")
    print(f"{'wavfile.peaks: chunks, reduceat':<40}{ours_s:>10.3f}{base_s / ours_s:>8.2f}")


def bench_search(folder: Path, rows: int) -> None:
    store = Store(folder / "d.sqlite")
    store.create_campaign("c", Strategy(), now=0.0)
    store.add_list("c", "l", [NewContact(f"+86138{i:08d}", {}, line=i + 2)
                              for i in range(rows)], now=0.0)
    rng = np.random.default_rng(3)
    agents = [f"a{n:03d}" for n in range(200)]
    with store.transaction() as db:
        attempts = []
        for i in range(rows):
            attempts.append(db.execute(
                "INSERT INTO attempt (contact_id, campaign_id, number, state, claimed_at, "
                "ended_at, outcome, agent) VALUES (?,?,?,'done',?,?,'human',?)",
                (i + 1, 1, f"+86138{i:08d}", float(i), float(i + 60),
                 agents[i % 200])).lastrowid)
        db.executemany(
            "INSERT INTO disposition (attempt_id, contact_id, campaign_id, agent, code, at) "
            "VALUES (?,?,?,?,?,?)", [(a, i + 1, 1, agents[i % 200],
                                      ("sale", "no_deal", "callback")[i % 3], float(i + 70))
                                     for i, a in enumerate(attempts)])
        db.executemany(
            "INSERT INTO call_recording (attempt_id, campaign_id, contact_id, agent, number, "
            "gateway, call_ref, path, started_at, duration, state) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,'complete')",
            [(a, 1, i + 1, agents[i % 200], f"+86138{i:08d}", "g", str(i), f"/r/{i}.wav",
              float(i), float(rng.integers(5, 600))) for i, a in enumerate(attempts)])
    boss, agent = Viewer("boss", "supervisor"), Viewer("a007", "agent")
    cases = [("a page of everything (supervisor)", boss, {}),
             ("by agent (supervisor)", boss, {"agent": "a042"}),
             ("by part of a number (supervisor)", boss, {"number": "4321"}),
             ("by disposition, 5+ min (supervisor)", boss,
              {"disposition": "callback", "min_duration": 300.0}),
             ("own, by number (agent)", agent, {"number": "07"})]
    print(f"\nsearch over {rows} recordings, median of 5")
    print(f"{'query':<40}{'ms':>10}{'matches':>10}")
    for name, who, filters in cases:
        seconds, result = timed(functools.partial(store.search_recordings, who, **filters),
                                repeat=5)
        total = result[0]  # type: ignore[index]
        print(f"{name:<40}{seconds * 1000:>10.1f}{total:>10}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--buckets", type=int, default=800)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_peaks(Path(tmp), args.minutes, args.buckets)
        bench_search(Path(tmp), args.rows)


if __name__ == "__main__":
    main()
