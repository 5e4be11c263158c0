"""The request rate limit, sans-IO (gateway/rpc/request_rate.py): a bucket per peer,
strikes per connection.

Property tests with made-up times: what is admitted never exceeds the burst plus the
rate times the time, however many connections share the bucket; a client within its
limit is never refused; one that waits as told is never cut, on probation or not; one
that ignores refusals is cut, and what an uncut one costs is bounded; a flooder that
connects again is cut at its third refusal.
"""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.errors import ConfigError
from trunkline.gateway.rpc.request_rate import (
    ConnectionRate,
    PeerRates,
    RateLimit,
    RequestRate,
    Verdict,
)

rates = st.floats(1.0, 5000.0)
bursts = st.integers(1, 2000)
gaps = st.lists(st.floats(0.0, 0.05), min_size=1, max_size=400)


def connection(rate: float, burst: int, now: float = 0.0) -> ConnectionRate:
    """A connection with a bucket of its own (a peer with one connection)."""
    return ConnectionRate(RequestRate(RateLimit(rate, burst), now), now)


@settings(max_examples=200, deadline=None)
@given(rates, bursts, st.lists(st.tuples(st.floats(0.0, 0.05), st.integers(0, 4)),
                               min_size=1, max_size=400))
def test_admitted_requests_never_exceed_the_burst_plus_the_rate(rate, burst, steps) -> None:
    """Whichever of a peer's connections send (new ones opened as it goes: a flooder
    connecting again), together they are admitted at most burst + rate * t."""
    bucket = RequestRate(RateLimit(rate, burst), now=0.0)
    conns: list[ConnectionRate] = []
    now, admitted = 0.0, 0
    for gap, which in steps:
        now += gap
        if which >= len(conns) or conns[which].cut:
            conns.append(ConnectionRate(bucket, now))
            which = len(conns) - 1
        if conns[which].take(now) is Verdict.ADMIT:
            admitted += 1
        assert admitted <= burst + rate * now + 1e-6


@settings(max_examples=200, deadline=None)
@given(rates, bursts, st.lists(st.floats(0.0, 1.0), min_size=1, max_size=300))
def test_a_client_within_its_rate_is_never_refused(rate, burst, slack) -> None:
    """Requests spaced at least 1/rate apart (after any pause) are all admitted."""
    bucket = connection(rate, burst)
    now = 0.0
    for extra in slack:
        assert bucket.take(now) is Verdict.ADMIT
        now += 1.0 / rate + extra / rate


@settings(max_examples=200, deadline=None)
@given(rates, bursts, st.integers(1, 5000), gaps, st.booleans())
def test_a_client_that_waits_as_told_is_never_cut(rate, burst, batch, steps,
                                                  probation) -> None:
    """It may send any batch at once; after a refusal it waits ``retry_after`` before
    its next request. Also when it connects on probation: after another connection of
    its peer was cut."""
    shared = RequestRate(RateLimit(rate, burst), now=0.0)
    if probation:  # another connection of its peer flooded and was cut
        other = ConnectionRate(shared, 0.0)
        while other.take(0.0) is not Verdict.CUT:
            pass
    bucket = ConnectionRate(shared, 0.0)
    assert bucket.strikes == (burst - 1 if probation else 0)
    now = 0.0
    for _ in range(0 if probation else min(batch, burst)):  # at most the burst at once
        assert bucket.take(now) is Verdict.ADMIT
    for gap in steps:
        verdict = bucket.take(now)
        assert verdict is not Verdict.CUT
        now += bucket.retry_after if verdict is Verdict.REFUSE else gap


@settings(max_examples=100, deadline=None)
@given(rates, bursts, st.floats(2.5, 50.0), st.integers(0, 1000))
def test_a_client_ignoring_refusals_is_cut_and_costs_at_most_twice_its_rate(
        rate, burst, times, seed) -> None:
    """Sending at ``times`` the rate (more than twice it), the client spends its burst
    in burst / (sent - rate) s, then is cut within (burst + 2) / (sent - 2 rate) s (plus
    a request's spacing or three), and until then it was answered
    (admitted or refused) at most 2 (burst + rate t) + 1 times."""
    bucket = connection(rate, burst)
    spacing = 1.0 / (rate * times)
    sent = rate * times
    bound = burst / (sent - rate) + (burst + 2) / (sent - 2 * rate) + 3 * spacing + 1e-6
    n = 0
    while True:
        now = n * spacing
        verdict = bucket.take(now)
        if verdict is Verdict.CUT:
            break
        n += 1
        assert n <= 2 * (burst + rate * now) + 1
        assert now <= bound, (now, bound)
    assert bucket.take(now + 3600.0) is Verdict.CUT  # for good


def test_more_than_twice_the_burst_pipelined_at_once_is_cut() -> None:
    bucket = connection(10.0, 100)
    verdicts = [bucket.take(0.0) for _ in range(203)]
    assert verdicts[:100] == [Verdict.ADMIT] * 100
    assert verdicts[100:201] == [Verdict.REFUSE] * 101
    assert verdicts[201:] == [Verdict.CUT] * 2
    assert bucket.refused == 102


def test_a_flooder_connecting_again_is_cut_at_its_third_refusal() -> None:
    """Its peer's bucket is still empty: no fresh burst, and probation."""
    bucket = RequestRate(RateLimit(10.0, 100), now=0.0)
    first = ConnectionRate(bucket, 0.0)
    while first.take(0.0) is not Verdict.CUT:
        pass
    again = ConnectionRate(bucket, 0.01)
    assert [again.take(0.01) for _ in range(4)] == [Verdict.REFUSE] * 2 + [Verdict.CUT] * 2
    # Tokens earned meanwhile are spent, then the third refusal cuts it.
    third = ConnectionRate(bucket, 1.0)           # 10 tokens: not empty, still probation
    verdicts = [third.take(1.0) for _ in range(13)]
    assert verdicts == [Verdict.ADMIT] * 10 + [Verdict.REFUSE] * 2 + [Verdict.CUT]
    # A connection of the same peer once the bucket has filled up: no probation.
    later = ConnectionRate(bucket, 20.0)
    assert later.strikes == 0 and later.take(20.0) is Verdict.ADMIT
    assert ConnectionRate(bucket, 20.0).strikes == 0


def test_a_peers_other_connection_is_refused_but_not_cut_for_a_flood() -> None:
    bucket = RequestRate(RateLimit(10.0, 5), now=0.0)
    quiet, flooder = ConnectionRate(bucket, 0.0), ConnectionRate(bucket, 0.0)
    assert quiet.take(0.0) is Verdict.ADMIT
    while flooder.take(0.0) is not Verdict.CUT:
        pass
    assert quiet.take(0.0) is Verdict.REFUSE       # the bucket they share is empty
    assert quiet.take(0.0 + quiet.retry_after) is Verdict.ADMIT  # it waited: served


def test_retry_after_is_when_the_next_request_is_admitted() -> None:
    bucket = connection(20.0, 1)
    assert bucket.take(0.0) is Verdict.ADMIT
    assert bucket.take(0.01) is Verdict.REFUSE
    assert bucket.retry_after == pytest.approx(0.04)
    assert bucket.take(0.01 + bucket.retry_after) is Verdict.ADMIT


def test_a_new_limit_keeps_what_was_earned_within_its_burst() -> None:
    bucket = RequestRate(RateLimit(10.0, 50), now=0.0)
    for _ in range(50):
        bucket.take(0.0)
    bucket.change(RateLimit(1000.0, 10), now=1.0)  # 10 earned at the old rate
    assert [bucket.take(1.0) for _ in range(11)].count(True) == 10
    assert bucket.take(1.01)                        # refilled at the new rate
    assert bucket.full(2.0) and not bucket.empty(2.0)


@pytest.mark.parametrize(("rate", "burst", "key"), [
    (0, 10, "request_rate"), (-1.0, 10, "request_rate"), (math.nan, 10, "request_rate"),
    (math.inf, 10, "request_rate"), (True, 10, "request_rate"), ("5", 10, "request_rate"),
    (10.0, 0, "request_burst"), (10.0, 2.5, "request_burst"), (10.0, True, "request_burst"),
])
def test_a_bad_limit_is_refused_naming_its_key(rate, burst, key) -> None:
    with pytest.raises(ConfigError, match=key) as caught:
        RateLimit(rate, burst)
    assert caught.value.key == key


def test_the_peer_table_keeps_connected_and_busy_peers_and_forgets_rested_ones() -> None:
    rates = PeerRates(RateLimit(10.0, 5), max_peers=2)
    a = rates.connection("a", 0.0, lambda: [])
    assert a is not None and a.take(0.0) is Verdict.ADMIT          # a: busy
    rates.connection("b", 0.0, lambda: [])                          # b: full, idle
    rates.connection("c", 0.0, lambda: ["a"])                       # b forgotten
    assert "a" in rates and "b" not in rates and "c" in rates
    rates.connection("d", 1.0, lambda: ["c"])                       # a rested by now
    assert "a" not in rates and "c" in rates and "d" in rates
    own = rates.connection(None, 1.0, lambda: [])                   # no peer: its own
    assert own is not None and len(rates) == 2
    rates.change(None, 2.0)
    assert len(rates) == 0 and rates.connection("a", 2.0, lambda: []) is None


# -- on a real server (in-process, real sockets) ------------------------------------------

async def _tcp_from(server, source: str):
    from gw_helpers import RawConnection

    assert server.tcp_address is not None
    return RawConnection(*await asyncio.open_connection(
        *server.tcp_address, local_addr=(source, 0)))


def test_one_addresses_connections_share_its_rate_and_others_have_their_own() -> None:
    from gw_helpers import run, serving

    async def main() -> None:
        async with serving(request_rate=1.0, request_burst=4) as server:
            first = await _tcp_from(server, "127.0.0.1")
            second = await _tcp_from(server, "127.0.0.1")
            other = await _tcp_from(server, "127.0.0.2")
            for conn in (first, second, other):
                # auth counts too: every request frame does
                reply = await conn.request(1, "auth", token="monitor-token")
                assert reply["result"]["role"] == "monitor"
            assert (await first.request(2, "ping"))["result"] == "pong"
            assert (await first.request(3, "ping"))["result"] == "pong"  # 4 of 4 spent
            refused = await second.request(2, "ping")
            assert refused["error"]["name"] == "overloaded"
            assert "from 127.0.0.1's connections together" in refused["error"]["message"]
            assert (await other.request(2, "ping"))["result"] == "pong"  # its own bucket
            assert server.stats["rate_limited"] == {"refused": 1, "cut": 0}
            for conn in (first, second, other):
                await conn.close()

    run(main())


def test_the_peer_table_forgets_peers_gone_and_rested() -> None:
    """At most about max_clients peers are remembered: one without connections whose
    bucket is full again is forgotten when room is needed."""
    from gw_helpers import run, serving

    async def main() -> None:
        async with serving(max_clients=4, request_rate=1000.0, request_burst=5) as server:
            for n in range(2, 14):
                conn = await _tcp_from(server, f"127.0.0.{n}")
                reply = await conn.request(1, "auth", token="monitor-token")
                assert "result" in reply
                await conn.close()
                await asyncio.sleep(0.02)  # its bucket fills up again (1 request, 1 ms)
                assert len(server.request_rates) <= 4
            assert "127.0.0.13" in server.request_rates

    run(main())
