"""A runner started again after ``kill -9`` (issue 15, red-team 5 and 6).

The dead run's agent positions and customer calls stay up on the gateway; the new run
finds them by their correlation tags (``dialer/runner/tags.py``), clears them, rings its
own positions and dials; the attempts the dead run left are settled by what was known.
Before, every position was ``conflict: channel is busy`` and the new run dialled nothing,
for ever. The kill is modelled by dropping the first runner without ending its shift: the
gateway (in process, virtual time) sees exactly what it sees when the process dies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_kit import WatchedGateway, make_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.runner.tags import attempt_tag, owner_of, parse_tag, position_tag

HUMANS = (("1381", 6, "human"), ("137", 3, "busy"))


def runner(store, gateway) -> CampaignRunner:
    return CampaignRunner(store, "sales", gateway, agents=[71, 72], group="pri",
                          engine_log=quiet_logger())


def test_a_restart_after_kill_clears_the_dead_runs_calls_and_dials(tmp_path: Path) -> None:
    store = make_store(tmp_path, ranges=HUMANS, config={"mode": "progressive"})
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        dead = runner(store, gateway)
        dead.start()
        while not dead.connections and gateway.now() < dead._started + 300:
            dead.step()
        assert dead.connections, "the first run bridged nobody"
        bridged = dead.connections[0]
        up = {row["call"]: parse_tag(row.get("tag")) for row in gateway.calls()}
        assert {t.kind for t in up.values() if t} == {"position", "attempt"}
        # kill -9: no end of shift; everything the dead run placed stays up
        alive = runner(store, gateway)
        summary = alive.run(seconds=90)   # long enough to dial and bridge again
    finally:
        gateway.close()
    assert not [e for e in alive.gateway_errors if "agent position" in e], \
        alive.gateway_errors
    assert summary.dials > 0 and summary.live > 0          # it dials and bridges again
    assert gateway.watch.dial_violations == []
    # the dead run's bridged conversation is kept as one, by the agent who had it
    kept = store.query("SELECT outcome, agent, note FROM attempt WHERE call_ref=?",
                       (str(bridged.gateway_call),))[0]
    assert tuple(kept) == ("human", bridged.agent, "unknown after restart: kept as known")
    # nothing the dead run left is finished by the crash: unknown calls come back
    for state, attempts in store.query(
            "SELECT c.state, c.attempts FROM attempt a JOIN contact c ON c.id=a.contact_id "
            "WHERE a.note='unknown after restart'"):
        assert (state, attempts) == ("ready", 0)
    assert not store.query("SELECT id FROM attempt WHERE state='dialing' AND id IN "
                           "(SELECT id FROM attempt WHERE claimed_at < ?)",
                           (alive._started,))


def test_a_position_held_by_another_program_fails_loudly(tmp_path: Path) -> None:
    store = make_store(tmp_path, ranges=HUMANS, config={"mode": "progressive"})
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        gateway.originate("agent", channel=71, ring_timeout=60.0)       # not ours: no tag
        gateway.originate("agent", channel=72, ring_timeout=60.0,
                          # another runner's
                          tag=position_tag(owner_of(["other"], store.identity), 72))
        with pytest.raises(DialerError, match="no agent position could be rung"):
            runner(store, gateway).start()
        assert len(gateway.calls()) == 2                                  # neither touched
    finally:
        gateway.close()


def test_a_call_tagged_with_an_attempt_is_cleared_without_its_call_id() -> None:
    from campaign_testkit import T0, open_store

    store = open_store(contacts=1)
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)          # died before set_call_ref
    gateway = ScriptedGateway(T0 + 5, up=[
        {"call": 7, "number": "0999", "tag": attempt_tag(store.identity, claim.attempt)},
        {"call": 8, "number": "0999", "tag": "someone else's"}])
    unknown: list[int] = []
    counts = settle_open_attempts(store, gateway, {"sales"}, lambda n: n, unknown.append,
                                  T0 + 5)
    assert counts["cleared"] == 1 and gateway.requests == [("hangup", 7, T0 + 5)]
    assert unknown == [claim.attempt]


def test_another_databases_call_with_the_same_attempt_id_is_never_hung_up() -> None:
    """Two dialers, each with a database of its own, share one gateway: their attempt
    ids overlap. A restarted dialer clears only calls tagged with its own database's
    name; the other dialer's live customer with the same attempt id is left alone."""
    from campaign_testkit import T0, open_store

    store, other = open_store(contacts=1), open_store(contacts=1)
    assert store.identity != other.identity and len(store.identity) == 16
    claim = store.claim_next("sales", T0)
    store.mark_dialing(claim.attempt, T0)          # died before set_call_ref
    gateway = ScriptedGateway(T0 + 5, up=[
        {"call": 9, "number": "0999", "tag": attempt_tag(other.identity, claim.attempt)}])
    unknown: list[int] = []
    counts = settle_open_attempts(store, gateway, {"sales"}, lambda n: n, unknown.append,
                                  T0 + 5)
    assert counts["cleared"] == 0 and gateway.requests == []
    assert unknown == [claim.attempt]                 # ours is still settled as unknown
    # positions: the same campaign names from another database are another owner
    assert owner_of(["sales"], store.identity) != owner_of(["sales"], other.identity)


def test_a_database_keeps_its_name_across_opens(tmp_path: Path) -> None:
    from trunkline.dialer.store import Store

    with Store(tmp_path / "d.sqlite") as first:
        name = first.identity
    with Store(tmp_path / "d.sqlite") as again:
        assert again.identity == name


def test_tags_parse_back_and_refuse_strangers() -> None:
    owner = owner_of(["b", "a"], "db1")
    assert owner == owner_of(["a", "b"], "db1") != owner_of(["a"], "db1")
    assert owner != owner_of(["a", "b"], "db2")
    assert parse_tag(position_tag(owner, 71)) == parse_tag(position_tag(owner, 71))
    tag = parse_tag(position_tag(owner, 71))
    assert (tag.kind, tag.key, tag.owner) == ("position", 71, owner)
    tag = parse_tag(attempt_tag("0123abcd", 12))
    assert (tag.kind, tag.key, tag.store) == ("attempt", 12, "0123abcd")
    assert tag.is_attempt_of("0123abcd") and not tag.is_attempt_of("ffff")
    earlier = parse_tag("trunkline.dialer:attempt:12")       # placed by an earlier version
    assert earlier.key == 12 and earlier.store is None and earlier.is_attempt_of("ffff")
    for stranger in (None, 5, "", "trunkline.dialer:attempt:x", "trunkline.dialer:nope:1",
                     "trunkline.dialer:position::3", "trunkline.dialer:attempt::3",
                     "trunkline.dialer:attempt:a:b", "campaign-7"):
        assert parse_tag(stranger) is None
    assert len(position_tag(owner, 2**31)) <= 128
