"""List cleaning end to end on the emulated card (in-process gateway, virtual time).

A list spread over the sample network's ranges is cleaned on the PRI spans and on the FXO
lines: each number must come out in the class its range's behaviour implies, every call
must be released before it is answered (or in the very instant of the answer, when the
answer beat the ring-back's recognition), every originate must follow a committed
``dialing`` attempt, and after ``apply`` the target campaign's own run never dials a
removed number.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from cleaning_kit import (
    FAST,
    T0,
    WatchedGateway,
    e164,
    make_store,
    numbers,
)

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.cleaning.results import apply_cleaning, class_counts, cleaned_numbers
from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.store import Store

#: The ranges of the target-run test: one number of each behaviour, a few bad ones.
SMALL = (("1381", 1, "live"), ("139", 1, "live"), ("137", 1, "live"), ("136", 1, "live"),
         ("134", 2, "powered_off"), ("133", 1, "unreachable"), ("130", 2, "invalid"))


def classes_by_number(store: Store, campaign: str = "clean") -> dict[str, str]:
    return {n.number: n.status for n in cleaned_numbers(store, campaign)}


@pytest.mark.slow
@pytest.mark.parametrize("group", ["pri", "fxo"])
def test_cleaning_classifies_every_number_as_the_plan_says(tmp_path: Path, group: str
                                                           ) -> None:
    store = make_store(tmp_path)
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        runner = CleaningRunner(store, "clean", gateway, group=group)
        summary = runner.run(seconds=3600)
    finally:
        gateway.close()
    watch = gateway.watch
    listed = numbers()

    # each number's class is what the plan's behaviour for its range implies
    got = classes_by_number(store)
    wrong = {n: (cls, got[e164(n)]) for n, cls in listed if got[e164(n)] != cls}
    assert wrong == {}
    assert summary.finished and runner.gateway_errors == []
    expected = Counter(cls for _, cls in listed)
    assert {c: n for c, n in summary.classes.items() if n} == dict(expected)
    assert class_counts(store, "clean")["pending"] == 0

    # durable before acted on: every originate found exactly one committed 'dialing'
    # attempt of its number, and no number was ever on two calls at once
    assert watch.dial_violations == []
    # each number dialled once; the undetermined ones (congestion) 1 + retries times
    tries = {n: (1 + FAST.retries if cls == "unknown" else 1) for n, cls in listed}
    assert dict(watch.originated) == tries
    assert summary.retries == FAST.retries * expected["unknown"]
    attempts = store.query("SELECT a.state, a.dialed_at, a.call_ref, a.outcome, a.note "
                           "FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
                           "WHERE k.name='clean'")
    assert len(attempts) == sum(tries.values())
    assert all(a["state"] == "done" and a["dialed_at"] is not None and a["call_ref"]
               for a in attempts)
    assert {json.loads(a["note"])["class"] for a in attempts} == set(expected)

    # released before answer: no call was classified by AMD, bridged or played to; a call
    # answered before its ring-back was recognised was hung up in that very instant
    assert watch.after_answer == []
    for call, answered_at in watch.answered.items():
        assert watch.hangups.get(call) == answered_at, watch.numbers[call]
        assert got[e164(watch.numbers[call])] == "live"
    assert summary.answered == len(watch.answered)
    # nobody is answered: on PRI ALERTING comes at once; on FXO the music ring-back of
    # the 1381* people (answering 2-6 s in) is named after 1 s
    assert watch.answered == {}
    assert summary.max_release_s == 0.0  # hung up in the tick the number was known live
    assert set(watch.ended) == set(watch.numbers)


@pytest.mark.slow
def test_apply_removes_the_numbers_and_the_target_never_dials_them(tmp_path: Path) -> None:
    store = make_store(tmp_path, ranges=SMALL)
    store.create_campaign("sales", store.strategy("sales"),
                          config={"mode": "progressive", "ring_timeout": 20.0}, now=T0)
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        CleaningRunner(store, "clean", gateway, group="pri").run(seconds=600)
        result = apply_cleaning(store, "clean", "sales", now=gateway.now(),
                                remove=["invalid", "powered_off"])
        assert result.removed == {"invalid": 2, "powered_off": 2}
        assert (result.dnc_added, result.contacts_blocked) == (4, 4)
        # the default (invalid, barred) again: already listed, nothing new
        again = apply_cleaning(store, "clean", "sales", now=gateway.now())
        assert (again.dnc_added, again.contacts_blocked) == (0, 0)

        dnc = store.query("SELECT number, kind, source FROM dnc WHERE scope='sales'")
        removed = {e164(n): cls for n, cls in numbers(SMALL)
                   if cls in ("invalid", "powered_off")}
        assert {r["number"]: (r["kind"], r["source"]) for r in dnc} == \
            {n: (cls, "clean") for n, cls in removed.items()}
        state = {r["number"]: (r["state"], r["last_outcome"]) for r in store.query(
            "SELECT number, state, last_outcome FROM contact c JOIN campaign k "
            "ON k.id=c.campaign_id WHERE k.name='sales'")}
        assert {n: state[n] for n in removed} == {n: ("dnc", c) for n, c in removed.items()}

        # the target's own run: everything else is dialled, the removed numbers never
        before = Counter(gateway.watch.originated)
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                engine_log=quiet_logger())
        summary = runner.run(seconds=1800)
    finally:
        gateway.close()
    dialled = Counter(gateway.watch.originated) - before
    assert summary.finished
    kept = {n for n, cls in numbers(SMALL) if e164(n) not in removed}
    assert set(dialled) == kept
    assert not {e164(n) for n in dialled} & set(removed)
    assert gateway.watch.dial_violations == []


def test_numbers_added_to_the_target_later_are_barred_at_claim(tmp_path: Path) -> None:
    from trunkline.dialer.store import NewContact

    store = make_store(tmp_path, ranges=(("130", 2, "invalid"),))
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        CleaningRunner(store, "clean", gateway, group="pri").run(seconds=600)
    finally:
        gateway.close()
    store.create_campaign("later", Strategy(windows=Windows.from_dict(
        {"default": ["00:00-24:00"]})), now=T0)
    apply_cleaning(store, "clean", "later", now=T0 + 60)
    bad = [e164(n) for n, _ in numbers((("130", 2, "invalid"),))]
    store.add_list("later", "new", [NewContact(n, {}) for n in bad], now=T0 + 120)
    assert store.claim_next("later", T0 + 130) is None
    assert {r[0] for r in store.query(
        "SELECT last_outcome FROM contact c JOIN campaign k ON k.id=c.campaign_id "
        "WHERE k.name='later'")} == {"invalid"}


def test_a_busy_gateway_is_not_a_try(tmp_path: Path) -> None:
    """No free channel: the attempts are released undialled (not a try, not counted
    against the daily limit), and the contacts are dialled once channels are free."""
    store = make_store(tmp_path, ranges=(("130", 2, "invalid"), ("1381", 1, "live")))
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        for channel in gateway.group("fxo"):
            gateway.engine.set_blocked(channel, True)
        runner = CleaningRunner(store, "clean", gateway, group="fxo")
        summary = runner.run(seconds=12)
        assert summary.dials == 0 and summary.not_dialled >= 2
        assert not summary.finished
        assert class_counts(store, "clean")["pending"] == 3
        released = store.query("SELECT state, note FROM attempt WHERE state!='done'")
        assert {r["state"] for r in released} == {"released"}
        assert "gateway refused" in json.loads(released[0]["note"])["evidence"]
        for channel in gateway.group("fxo"):
            gateway.engine.set_blocked(channel, False)
        summary = CleaningRunner(store, "clean", gateway, group="fxo").run(seconds=600)
    finally:
        gateway.close()
    assert summary.finished and summary.dials == 3
    assert set(classes_by_number(store).values()) == {"invalid", "live"}
    assert {r[0] for r in store.query("SELECT attempts FROM contact c JOIN campaign k ON "
                                      "k.id=c.campaign_id WHERE k.name='clean'")} == {1}


def test_nothing_is_dialled_outside_the_calling_window(tmp_path: Path) -> None:
    store = make_store(tmp_path, ranges=(("130", 1, "invalid"),))
    night = Strategy(windows=Windows.from_dict({"default": ["11:00-12:00"]}))
    store.create_campaign("clean", night, config=store.campaign_config("clean"), now=T0)
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")  # starts at 10:00
    try:
        runner = CleaningRunner(store, "clean", gateway, group="pri")
        summary = runner.run(seconds=1800)
    finally:
        gateway.close()
    # nothing due before the run's end: it stops at once instead of idling for 30 min
    assert summary.dials == 0 and not summary.finished
    assert summary.ended - summary.started < 5.0
    assert gateway.watch.originated == Counter()
    (next_at,) = store.query("SELECT next_at FROM contact c JOIN campaign k ON "
                             "k.id=c.campaign_id WHERE k.name='clean'")[0]
    assert next_at == T0 + 3600  # moved to the window's opening


def test_a_crashed_run_is_settled_at_start(tmp_path: Path) -> None:
    """Attempts left 'claimed' are released; 'dialing' ones (maybe on the network) are
    hung up if still up and recorded as unknown, so tried again after retry_after."""
    store = make_store(tmp_path, ranges=(("1381", 1, "live"), ("130", 1, "invalid")),
                       settings=CleaningSettings(retries=1, retry_after=30.0, rate=5.0))
    gateway = WatchedGateway(tmp_path / "dialer.sqlite")
    try:
        first = store.claim_next("clean", T0)
        second = store.claim_next("clean", T0)
        assert first is not None and second is not None
        assert store.mark_dialing(first.attempt, T0)
        call = gateway.originate(first.number.replace("+86", ""), group="pri")
        store.set_call_ref(first.attempt, str(call))
        runner = CleaningRunner(store, "clean", gateway, group="pri")
        started = gateway.now()
        runner.start()
        assert list(gateway.watch.hangups) == [call]  # hung up as the run starts
        assert started <= gateway.watch.hangups[call] <= gateway.now()
        rows = {r["id"]: (r["state"], r["note"]) for r in store.query(
            "SELECT id, state, note FROM attempt")}
        assert rows[second.attempt] == ("released", None)
        assert rows[first.attempt][0] == "done"
        assert json.loads(rows[first.attempt][1]) == {"class": "unknown",
                                                      "evidence": "unknown after restart"}
        summary = runner.run(seconds=600)
    finally:
        gateway.close()
    assert summary.finished
    assert classes_by_number(store) == {first.number: "live", second.number: "invalid"}
    (due,) = store.query("SELECT dialed_at FROM attempt WHERE contact_id=? AND id!=?",
                         (first.contact, first.attempt))[0]
    assert due >= T0 + 30.0  # the retry waited retry_after


def test_cleaning_over_the_gateway_socket(tmp_path: Path) -> None:
    """The live gateway: subscribed to SIT (a ``tone`` event) as well as the call events."""
    from cleaning_kit import service_thread

    ranges = (("1381", 1, "live"), ("137", 1, "live"), ("130", 1, "invalid"),
              ("134", 1, "powered_off"))
    store = make_store(tmp_path, ranges=ranges)
    with service_thread(tmp_path) as service:
        gateway = CleaningRunner.live_gateway(service.socket)
        runner = CleaningRunner(store, "clean", gateway, group="pri")
        try:
            summary = runner.run(seconds=120)
        finally:
            gateway.close()
    assert summary.finished and runner.gateway_errors == []
    assert classes_by_number(store) == {e164(n): cls for n, cls in numbers(ranges)}
    evidence = {n.number: n.evidence for n in cleaned_numbers(store, "clean")}
    assert evidence[e164(numbers(ranges)[2][0])] == "SIT (ITU), announcement invalid_number"
    attempts = store.query("SELECT state, dialed_at, call_ref FROM attempt")
    assert all(a["state"] == "done" and a["dialed_at"] and a["call_ref"] for a in attempts)
