"""Fax broadcast: the sans-IO job core, and a broadcast with failures on the emulated card."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from fax_kit import BUSY_NUMBER, FAX_NUMBER, NO_ANSWER_NUMBER, Rig, make_page, write_plan

from trunkline.drivers.backends.emulated import fax_far_end
from trunkline.errors import ConfigError
from trunkline.gateway.fax.documents import compare_pages, read_fax
from trunkline.gateway.fax.jobs import BroadcastJob, BroadcastRunner, classify
from trunkline.gateway.fax.session import FaxOptions


def test_classification() -> None:
    assert classify({"result": "ok", "t30_code": 0}) == ("ok", False)
    assert classify({"result": "busy", "t30_code": None, "call_outcome": "busy"}) == \
        ("busy", True)
    assert classify({"result": "invalid_number", "t30_code": None,
                     "call_outcome": "invalid_number"}) == ("invalid_number", False)
    assert classify({"result": "t1_expired", "t30_code": 3}) == ("negotiation_failed", True)
    assert classify({"result": "call_dropped", "t30_code": 49}) == ("failed", True)
    assert classify({"result": "bad_tiff", "t30_code": 43}) == ("document_error", False)


def test_rate_limit_concurrency_and_retries(tmp_path: Path) -> None:
    job = BroadcastJob(1, ["1", "2", "3"], tmp_path / "d.tif", max_attempts=2,
                       retry_delay=30, rate=6, concurrency=2)
    first = job.due(0.0)
    assert [d.number for d in first] == ["1"]  # one call per 10 s at 6 a minute
    assert job.due(5.0) == []
    second = job.due(10.0)
    assert [d.number for d in second] == ["2"]
    assert job.due(20.0) == []  # two running: the concurrency cap
    job.finished(first[0], {"result": "busy", "t30_code": None, "call_outcome": "busy"}, 21)
    third = job.due(21.0)
    assert [d.number for d in third] == ["3"]
    job.finished(second[0], {"result": "ok", "t30_code": 0, "pages": 1}, 25)
    job.finished(third[0], {"result": "unreachable", "call_outcome": "unreachable",
                            "t30_code": None}, 26)
    assert job.due(40.0) == []  # number 1 waits for its retry delay
    retry = job.due(51.0)
    assert [d.number for d in retry] == ["1"]
    job.finished(retry[0], {"result": "busy", "call_outcome": "busy", "t30_code": None}, 60)
    assert job.done
    report = job.report()
    assert report["state"] == "done"
    assert {r["number"]: (r["status"], r["attempts"]) for r in report["destinations"]} == {
        "1": ("failed", 2), "2": ("sent", 1), "3": ("failed", 1)}
    path = job.write_report(tmp_path / "r" / "job.json")
    assert path.exists()


def test_bad_jobs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one number"):
        BroadcastJob(1, [], tmp_path / "d.tif")
    with pytest.raises(ConfigError, match="bad numbers"):
        BroadcastJob(1, ["12a"], tmp_path / "d.tif")


@pytest.mark.slow
def test_broadcast_with_failures_on_the_emulated_card(tmp_path: Path) -> None:
    fax_far_end.reset()
    fax_far_end.configure(inbox=tmp_path / "far")
    rig = Rig(write_plan(tmp_path))
    try:
        page = make_page(tmp_path / "doc.tif", 4, lines=400)
        numbers = [FAX_NUMBER, BUSY_NUMBER, NO_ANSWER_NUMBER, "01059999999"]
        job = BroadcastJob(1, numbers, page, max_attempts=2, retry_delay=5.0, rate=30,
                           concurrency=2, now=rig.clock.now())
        runner = BroadcastRunner(rig.engine, job, group="pri", ring_timeout=10.0,
                                 options=FaxOptions(ident="BROADCAST"),
                                 publish=rig.events.append,
                                 report_path=tmp_path / "job.json")
        rig.pollers.append(runner.poll)
        rig.run_until(lambda: job.done and not rig.engine.calls, 400)
        rig.tick()
        report = {r["number"]: r for r in job.report()["destinations"]}
        assert report[FAX_NUMBER]["status"] == "sent"
        assert report["01059999999"]["status"] == "sent"
        assert report[BUSY_NUMBER]["status"] == "failed"
        assert report[BUSY_NUMBER]["attempts"] == 2
        assert report[BUSY_NUMBER]["result"] == "busy"
        assert report[NO_ANSWER_NUMBER]["result"] == "no_answer"
        assert report[NO_ANSWER_NUMBER]["attempts"] == 2
        assert (tmp_path / "job.json").exists()
        assert rig.named("fax.job", job=1)[0]["state"] == "done"
        received = [s for s in fax_far_end.SESSIONS if s.ok]
        assert len(received) == 2
        for far in received:
            assert compare_pages(read_fax(page), read_fax(far.rx_file)) == [0]
        # Dial starts respect the rate limit: at most one call every 2 s.
        starts = [t for t, _ in job.dial_log]
        assert len(starts) == 6
        assert all(b - a >= 2.0 - 1e-6 for a, b in itertools.pairwise(starts))
    finally:
        rig.close()
        fax_far_end.reset()



def test_a_destination_that_finds_no_free_line_waits_and_the_job_goes_on(tmp_path: Path) -> None:
    """The engine refuses the call (every channel of the group blocked): the broadcast
    defers that destination instead of stopping."""
    rig = Rig(write_plan(tmp_path))
    try:
        page = make_page(tmp_path / "doc.tif", 5, lines=400)
        job = BroadcastJob(1, [BUSY_NUMBER], page, max_attempts=1, now=rig.clock.now())
        runner = BroadcastRunner(rig.engine, job, group="fxo", ring_timeout=10.0,
                                 publish=rig.events.append)
        fxo = rig.engine.groups["fxo"]
        for channel in fxo:
            rig.engine.set_blocked(channel, True)
        runner.poll()
        destination = job.destinations[0]
        assert destination.status == "waiting" and destination.attempts == []
        assert not rig.engine.calls
        for channel in fxo:
            rig.engine.set_blocked(channel, False)
        rig.pollers.append(runner.poll)
        rig.run_until(lambda: rig.engine.calls, 30)  # tried again once due
        assert len(rig.engine.calls) == 1 and destination.call is not None
    finally:
        rig.close()
