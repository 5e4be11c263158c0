"""The runner's step at scale (issue 17 item 7): its writes are committed together before
each gateway request (never after it), it draws no more contacts than the dial group
has lines, and a gateway too slow to answer fails one dial or hang-up, not the shift."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from runner_kit import T0, ServiceThread, make_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.gateway import LiveGateway
from trunkline.dialer.runner.tags import attempt_tag, parse_tag
from trunkline.gateway.rpc.errors import CallTimeout

AGENTS = [71, 72, 73, 74]
HIL_PLAN = Path(__file__).resolve().parents[3] / "hil-tests" / "network.toml"
HUMANS = (("1381", 8, "human"),)


class CheckedGateway(ScriptedGateway):
    """Checks, at each originate, that its attempt is committed as ``dialing`` (read by
    a connection of its own: only committed rows count)."""

    def __init__(self, db: Path, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db = db
        self.seen: list[str] = []
        self.timeouts = 0           # the next originates that get no reply in time

    def originate(self, number: str, **kwargs: Any) -> int:
        if self.timeouts:
            self.timeouts -= 1
            self.requests.append(("originate", (number, kwargs.get("group"), None), self.t))
            raise CallTimeout("no reply to 'call.originate' within 10.0 s")
        tag = parse_tag(kwargs.get("tag"))
        if tag is not None and tag.kind == "attempt":
            with sqlite3.connect(self.db) as other:
                state = other.execute("SELECT state FROM attempt WHERE id=?",
                                      (tag.key,)).fetchone()
            self.seen.append(state[0] if state else "missing")
        return super().originate(number, **kwargs)


def _runner(tmp_path: Path, lines: int) -> tuple[CampaignRunner, CheckedGateway, Any]:
    store = make_store(tmp_path, ranges=HUMANS, config={"mode": "progressive"})
    positions = [(T0 + 1, {"event": "call.state", "call": 101 + i, "state": "answered",
                           "by": "unknown"}) for i in range(len(AGENTS))]
    gateway = CheckedGateway(tmp_path / "dialer.sqlite", T0, positions,
                             groups={"agents": AGENTS, "outbound": list(range(1, lines + 1))})
    runner = CampaignRunner(store, "sales", gateway, engine_log=quiet_logger())
    runner.start()
    return runner, gateway, store


def _dials(gateway: ScriptedGateway) -> list[Any]:
    return [r for r in gateway.requests if r[0] == "originate" and r[1][2] is None]


def test_the_steps_writes_are_committed_once_before_each_request(tmp_path: Path) -> None:
    runner, gateway, store = _runner(tmp_path, lines=8)
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    while not _dials(gateway):
        runner.step(T0 + 5)
    dials = len(_dials(gateway))
    assert dials == len(AGENTS)                    # one per ready agent (progressive 1:1)
    assert gateway.seen == ["dialing"] * dials     # each committed before its originate
    commits = sum(1 for s in statements if s.strip().upper() == "COMMIT")
    writes = sum(1 for s in statements if s.startswith("SAVEPOINT"))
    # four agents' logins, claims, dials marked and call ids stored: a dozen and more
    # transactions, committed once before each request and once at the end
    assert writes >= 3 * dials
    assert commits <= dials + 2, (commits, writes)
    ids = [r[0] for r in store.query("SELECT call_ref FROM attempt WHERE state='dialing'")]
    assert sorted(ids) == ["105", "106", "107", "108"]   # the last ones committed too


def test_no_more_contacts_are_drawn_than_the_group_has_lines(tmp_path: Path) -> None:
    runner, gateway, store = _runner(tmp_path, lines=2)
    while gateway.now() < T0 + 6:
        runner.step(T0 + 6)
    assert len(_dials(gateway)) == 2 and runner.lines == 2
    assert runner.not_placed == 0
    # no contact claimed and given back for want of a line: two attempts in all
    assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 2


def test_an_originate_without_a_reply_fails_that_dial_only(tmp_path: Path) -> None:
    runner, gateway, store = _runner(tmp_path, lines=8)
    gateway.timeouts = 2
    while not _dials(gateway):
        runner.step(T0 + 5)
    assert len(runner.gateway_errors) == 2
    assert all("cannot dial" in e for e in runner.gateway_errors)
    failed = [r[0] for r in store.query("SELECT id FROM attempt WHERE outcome='error'")]
    assert len(failed) == 2
    # the others were dialled, the agents of the failed ones got the next contacts
    assert store.query("SELECT COUNT(*) FROM attempt WHERE state='dialing'")[0][0] \
        == len(AGENTS)
    # the gateway placed one all the same: its first event hangs it up, once
    late = attempt_tag(store.identity, failed[0])
    gateway.script += [(T0 + 2, {"event": "call.state", "call": 555, "state": "ringing",
                                 "tag": late}),
                       (T0 + 2.5, {"event": "call.state", "call": 555, "state": "answered",
                                   "tag": late}),
                       (T0 + 3, {"event": "call.state", "call": 555, "state": "hungup",
                                 "tag": late})]
    while gateway.now() < T0 + 4:
        runner.step(T0 + 4)
    assert [r[1] for r in gateway.requests if r[0] == "hangup"] == [555]
    # 555's is forgotten
    assert runner._late_calls == {attempt_tag(store.identity, failed[1]): False}


def test_a_hangup_without_a_reply_is_a_gateway_error(tmp_path: Path) -> None:
    runner, gateway, _ = _runner(tmp_path, lines=8)
    gateway.fail["hangup"] = CallTimeout(  # type: ignore[assignment]
        "no reply to 'call.hangup' within 10.0 s")
    runner._hang_up(101)
    assert runner.gateway_errors == ["cannot hang up call 101: no reply to 'call.hangup' "
                                     "within 10.0 s"]


def test_a_real_gateway_too_slow_to_reply_fails_the_dial_not_the_shift(
        tmp_path: Path) -> None:
    """On a real gateway (emulated card, over its socket): every reply comes too late
    for the runner (its client waits 0.5 ms), yet the gateway carries the requests out.
    The dial fails, the runner goes on, and the call placed all the same is hung up
    when its first event shows its tag."""
    store = make_store(tmp_path, ranges=(("1381", 1, "human"),),
                       config={"mode": "progressive"})
    with ServiceThread(tmp_path, HIL_PLAN) as service:
        gateway = LiveGateway(service.socket)
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                engine_log=quiet_logger())
        try:
            runner.start()                               # the position rung in time
            gateway.client.client.timeout = 0.0005      # replies now come too late
            end = time.time() + 40
            while not runner._late_calls:                # answered, the agent ready
                assert time.time() < end, "no dial was tried"
                runner.step(end)
            while runner._late_calls:                    # its events: hung up, ended
                assert time.time() < end, f"the late call is still up: {runner._late_calls}"
                runner.step(end)
            gateway.client.client.timeout = 10.0
            tagged = [c for c in gateway.calls() if parse_tag(c.get("tag")) is not None
                      and parse_tag(c.get("tag")).kind == "attempt"]   # type: ignore[union-attr]
        finally:
            gateway.close()
    assert tagged == []
    assert any("cannot dial" in e and "no reply" in e for e in runner.gateway_errors)
    rows = store.query("SELECT state, outcome FROM attempt")
    assert [tuple(r) for r in rows] == [("done", "error")]
