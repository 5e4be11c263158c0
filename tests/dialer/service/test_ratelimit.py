"""The login limiter (sans-IO) and the session table, with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.dialer.service.ratelimit import Limits, LoginLimiter
from trunkline.dialer.service.websessions import SessionTable

USERS = st.sampled_from(["li", "wang", "boss"])
ADDRESSES = st.sampled_from(["10.0.0.1", "10.0.0.2"])
#: (user, address, seconds since the previous attempt, whether the password is right)
ATTEMPTS = st.lists(st.tuples(USERS, ADDRESSES, st.floats(0, 120), st.booleans()),
                    max_size=200)


@given(ATTEMPTS, st.integers(1, 6), st.integers(1, 12))
@settings(max_examples=200, deadline=None)
def test_no_window_ever_holds_more_failed_guesses_than_the_limit(
        attempts: list[tuple[str, str, float, bool]], per_user: int, per_address: int
) -> None:
    window = 300.0
    limiter = LoginLimiter(Limits(per_user=per_user, per_address=per_address,
                                  window=window))
    now = 0.0
    guesses: list[tuple[str, str, float]] = []  # failed logins the limiter let through
    last_success: dict[str, float] = {}
    for user, address, gap, right in attempts:
        now += gap
        wait = limiter.retry_after(user, address, now)
        assert 0 <= wait <= window
        if wait > 0:
            continue
        if right:
            limiter.succeeded(user)
            last_success[user] = now
            continue
        limiter.failed(user, address, now)
        guesses.append((user, address, now))
        by_address = [g for g in guesses if g[1] == address and g[2] > now - window]
        assert len(by_address) <= per_address
        # a success forgets the name's failures (not the address's)
        since = max(now - window, last_success.get(user, -1.0))
        by_user = [g for g in guesses if g[0] == user and g[2] > since]
        assert len(by_user) <= per_user


def test_a_user_locked_out_can_log_in_again_when_the_window_has_passed() -> None:
    limiter = LoginLimiter(Limits(per_user=3, per_address=100, window=60.0))
    for t in (0.0, 10.0, 20.0):
        assert limiter.retry_after("li", "a", t) == 0
        limiter.failed("li", "a", t)
    assert limiter.retry_after("li", "a", 30.0) == pytest.approx(30.0)
    assert limiter.retry_after("li", "b", 30.0) == pytest.approx(30.0)  # any address
    assert limiter.retry_after("wang", "a", 30.0) == 0                  # another name
    assert limiter.retry_after("li", "a", 60.0 + 1e-9) == 0


def test_memory_is_bounded() -> None:
    limiter = LoginLimiter(Limits(max_keys=50))
    for i in range(1000):
        limiter.failed(f"user{i}", f"10.0.{i // 256}.{i % 256}", float(i))
    assert len(limiter._failures) <= 50


@pytest.mark.parametrize("bad", [{"per_user": 0}, {"window": 0}, {"max_keys": 0}])
def test_bad_limits_are_refused_by_name(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Limits(**bad)


@given(st.lists(st.floats(0, 4000), min_size=1, max_size=50))
def test_a_session_lives_while_used_within_the_idle_time(gaps: list[float]) -> None:
    table = SessionTable(idle=1800.0, lifetime=12 * 3600.0)
    session = table.open("li", "agent", 0.0)
    now, alive = 0.0, True
    for gap in gaps:
        now += gap
        found = table.use(session.id, now)
        expected = alive and gap <= 1800.0 and now <= 12 * 3600.0
        assert (found is not None) == expected
        alive = expected
    assert len(table.close_user("li")) == (1 if alive else 0)
