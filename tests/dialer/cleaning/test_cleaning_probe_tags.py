"""A cleaning probe carries its attempt's correlation tag, as the campaign runner's calls
do (issue 15, red-team 5): a cleaning run killed between the gateway's reply and storing
the call id left a probe no later run could find; now the next run's settling clears it
by its tag. Before, cleaning originated untagged."""

from __future__ import annotations

from campaign_testkit import T0, open_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings, create_cleaning_campaign
from trunkline.dialer.runner.settling import settle_open_attempts
from trunkline.dialer.runner.tags import parse_tag


def test_probes_are_tagged_and_a_lost_one_is_cleared_by_its_tag() -> None:
    store = open_store(contacts=1)
    create_cleaning_campaign(store, "sc", now=T0, source="sales",
                             settings=CleaningSettings(concurrency=1, rate=1.0, listen=5.0,
                                                       retries=0))
    gateway = ScriptedGateway(T0, [])
    runner = CleaningRunner(store, "sc", gateway)
    runner.start()
    runner.step(T0)
    (call, tag), = gateway.tags.items()
    parsed = parse_tag(tag)
    assert parsed is not None and parsed.kind == "attempt"
    attempt = parsed.key
    assert store.query("SELECT state FROM attempt WHERE id=?", (attempt,))[0][0] == "dialing"
    # kill -9 before the call id was stored: the store knows no call for the attempt
    store._conn.execute("UPDATE attempt SET call_ref=NULL WHERE id=?", (attempt,))
    after = ScriptedGateway(T0 + 5, up=[{"call": call, "number": "x", "tag": tag}])
    unknown: list[int] = []
    counts = settle_open_attempts(store, after, {"sc"}, lambda n: n, unknown.append, T0 + 5)
    assert counts["cleared"] == 1 and after.requests == [("hangup", call, T0 + 5)]
    assert unknown == [attempt]
