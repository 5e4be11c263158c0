"""The limiter behind the gateway's refusal/cut warnings (gateway/rpc/log_limit.py).

A made-up clock drives it: events of a few keys at random times, ``due`` asked at
random times as the server's timer would, then a last ``due`` after everything."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trunkline.gateway.rpc.log_limit import OVERFLOW_KEY, LogLimiter

KEYS = st.sampled_from([("p1", "overloaded"), ("p1", "auth_failed"), ("p2", "overloaded")])
# (gap before it in s, key or None for a call of due())
STEPS = st.lists(st.tuples(st.floats(0, 7, allow_nan=False), st.one_of(st.none(), KEYS)),
                 max_size=300)


def run(limiter: LogLimiter, steps: list) -> tuple[list, Counter]:
    """Lines as (time, key, count, is_summary) in order, and the events per key."""
    lines: list[tuple[float, object, int, bool]] = []
    events: Counter = Counter()
    now = 0.0
    for gap, key in steps:
        now += gap
        for summary in limiter.due(now):
            lines.append((now, summary.key, summary.count, True))
        if key is not None:
            events[key] += 1
            if limiter.hit(key, now):
                lines.append((now, key, 1, False))
    end = now + 3 * limiter.interval
    for summary in limiter.due(end):
        lines.append((end, summary.key, summary.count, True))
    assert limiter.due(end + limiter.interval) == []
    return lines, events


@settings(max_examples=300, deadline=None)
@given(steps=STEPS, burst=st.integers(0, 4), interval=st.sampled_from([1.0, 5.0, 10.0]))
# Found in CI: two summaries exactly one interval apart, whose difference rounds under it.
@example(steps=[(1.0, ("p1", "auth_failed")), (6.212564260870477, ("p1", "auth_failed")),
                (1.0, None)], burst=0, interval=1.0)
def test_lines_are_bounded_and_summaries_add_up(steps, burst, interval) -> None:
    limiter = LogLimiter(burst, interval)
    lines, events = run(limiter, steps)
    # Nothing lost: logged events plus summary counts are every event, per key.
    shown: Counter = Counter()
    for _, key, count, _ in lines:
        shown[key] += count
    assert shown == events
    # Per key, any span of `interval` s holds at most 2 * burst + 1 lines (a window's
    # burst and summary, and the next fresh window's burst), and summaries of one key
    # are at least `interval` apart.
    for key in events:
        times = [t for t, k, _, _ in lines if k == key]
        for i, t in enumerate(times):
            assert sum(1 for u in times[i:] if u < t + interval) <= 2 * burst + 1
        summaries = [t for t, k, _, summary in lines if k == key and summary]
        # (b >= a + interval, the limiter's own arithmetic: b - a can round under it)
        assert all(b >= a + interval for a, b in pairwise(summaries))
    assert len(limiter) == 0  # every key forgotten once all is quiet


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 2000), burst=st.integers(0, 6))
def test_a_flood_writes_its_burst_then_one_summary_per_interval(n: int, burst: int) -> None:
    """``n`` events of one key, 1 ms apart, due() asked every second as the timer does:
    the first ``burst`` at once, then one summary per 10 s window, counts adding up."""
    limiter = LogLimiter(burst, 10.0)
    logged = [i for i in range(n) if limiter.hit("k", i / 1000)]
    assert logged == list(range(min(burst, n)))
    summaries = []
    for second in range(1, 40):
        summaries += limiter.due(float(second))
    assert len(summaries) <= n // 10_000 + 1
    assert sum(s.count for s in summaries) == n - len(logged)
    assert all(s.seconds >= 10.0 for s in summaries)


def test_a_quiet_key_gets_its_burst_again_and_a_flooded_key_stays_quiet() -> None:
    limiter = LogLimiter(2, 10.0)
    assert [limiter.hit("k", t) for t in (0, 1, 2, 3)] == [True, True, False, False]
    assert [(s.key, s.count) for s in limiter.due(10.0)] == [("k", 2)]
    # Still flooding: the next window is quiet, summed up at its end.
    assert limiter.hit("k", 11.0) is False
    assert [(s.key, s.count, s.seconds) for s in limiter.due(20.5)] == [("k", 1, 10.5)]
    # A window with no event: the key is forgotten and gets its burst again.
    assert limiter.due(31.0) == [] and len(limiter) == 0
    assert limiter.hit("k", 40.0) is True


def test_keys_beyond_max_keys_share_one_key() -> None:
    limiter = LogLimiter(1, 10.0, max_keys=3)
    assert all(limiter.hit(f"peer{i}", 0.0) for i in range(2))
    # The last place is the overflow key's: peer2 and every later peer share it.
    assert limiter.hit("peer2", 0.0) is True
    assert [limiter.hit(f"peer{i}", 0.0) for i in range(3, 50)] == [False] * 47
    assert len(limiter) == 3
    summaries = limiter.due(10.0)
    assert [(s.key, s.count) for s in summaries] == [(OVERFLOW_KEY, 47)]


@pytest.mark.parametrize("args, message", [
    ((-1, 1.0), "burst must be 0 or more"),
    ((1, 0.0), "interval must be more than 0 s"),
    ((1, 1.0, 0), "max_keys must be 1 or more"),
])
def test_bad_settings_are_refused_by_name(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        LogLimiter(*args)
