"""Load: 30 simultaneous calls on one span; 1,000 sequential calls without leaks."""

from __future__ import annotations

import gc

from pri_helpers import of, run

from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.exchange import Exchange, PriScript
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import E1_CHANNELS, PriSpan


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_thirty_simultaneous_calls_on_one_span(clock, logger) -> None:
    pair = LinkPair()
    cpe = PriSpan(pair.a, clock=clock, logger=logger)
    exchange = Exchange(pair.b, lambda called, calling: PriScript.human(ring=1.0),
                        clock=clock, logger=logger)
    run(clock, (cpe, exchange), 1.0)
    ids = [cpe.setup(f"1380013{i:04d}") for i in range(30)]
    assert not cpe.free_channels()
    events = run(clock, (cpe, exchange), 2.0)
    answered = {e.call for e in of(events, ev.CallAnswered) if e.span == 1}
    assert answered == set(ids)
    channels = sorted(info.channel for info in cpe.calls.values())
    assert channels == list(E1_CHANNELS)
    assert sorted(i.channel for i in exchange.calls.values()) == list(E1_CHANNELS)
    for cid in ids:
        cpe.hangup(cid)
    events = run(clock, (cpe, exchange), 1.0)
    assert {e.call for e in of(events, ev.CallEnded) if e.span == 1} == set(ids)
    assert cpe.calls == {} and exchange.calls == {}
    assert len(cpe.free_channels()) == 30


def test_thousand_sequential_calls_leak_nothing(clock, logger) -> None:
    pair = LinkPair()
    cpe = PriSpan(pair.a, clock=clock, logger=logger)
    scripts = [PriScript.human(ring=0.04, talk=0.04), PriScript.busy(),
               PriScript.congestion(), PriScript.invalid_number(announcement=0.04)]
    exchange = Exchange(pair.b, lambda called, calling: scripts[int(called) % 4],
                        clock=clock, logger=logger)
    run(clock, (cpe, exchange), 1.0)

    def one(n: int) -> None:
        cid = cpe.setup(str(1000 + n))
        net_id = exchange.span.span_id
        events = run(clock, (cpe, exchange), 5.0,
                     until=lambda e: isinstance(e, ev.CallEnded) and e.span == net_id)
        ended = [e for e in of(events, ev.CallEnded) if e.call == cid]
        if not ended:
            events = run(clock, (cpe, exchange), 1.0,
                         until=lambda e: isinstance(e, ev.CallEnded) and e.call == cid)
            ended = [e for e in of(events, ev.CallEnded) if e.call == cid]
        assert ended, n
        run(clock, (cpe, exchange), 0.06)  # let the last RELEASE COMPLETE land

    for n in range(100):
        one(n)
    gc.collect()
    blocks, rss = cpe.libpri_live_blocks(), rss_kib()
    for n in range(100, 1100):
        one(n)
    gc.collect()
    assert cpe.calls == {} and exchange.calls == {} and exchange.span.calls == {}
    assert len(cpe.free_channels()) == 30 and len(exchange.span.free_channels()) == 30
    assert cpe._by_ptr == {} and exchange.span._by_ptr == {}
    # libpri call records are destroyed: its heap block count is back where it was
    assert cpe.libpri_live_blocks() == blocks
    assert rss_kib() - rss < 4096  # KiB
