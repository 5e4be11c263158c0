"""call.originate's correlation tag (issue 15, item 3): every event of the call carries
the tag the client chose, and so does the call's calls.list row; an untagged call's
events are as they were (the wire of existing clients does not change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.gateway.testing import VirtualGateway

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"


def test_every_event_of_a_tagged_call_carries_its_tag() -> None:
    with VirtualGateway(network=PLAN) as gw:
        tagged = gw.call("call.originate", number="13812345678", group="pri",
                         tag="campaign-7:attempt-42")["call"]
        plain = gw.call("call.originate", number="13712345678", group="pri")["call"]
        rows = {row["call"]: row for row in gw.call("calls.list")}
        assert rows[tagged]["tag"] == "campaign-7:attempt-42"
        assert "tag" not in rows[plain]
        gw.run(8.0)
        gw.call("call.hangup", call=tagged)
        gw.run(2.0)
        events = gw.take_events()
    mine = [e for e in events if e.get("call") == tagged]
    theirs = [e for e in events if e.get("call") == plain]
    kinds = {(e["event"], e.get("state")) for e in mine}
    assert ("call.state", "answered") in kinds and ("call.state", "hungup") in kinds
    assert len({e["event"] for e in mine}) >= 2          # call.state and amd at least
    assert all(e["tag"] == "campaign-7:attempt-42" for e in mine)
    assert theirs and all("tag" not in e for e in theirs)


@pytest.mark.parametrize("tag", ["", "x" * 129, 5])
def test_a_tag_must_be_a_short_string(tag: object) -> None:
    with VirtualGateway(network=PLAN) as gw:
        with pytest.raises(Exception, match="tag"):
            gw.call("call.originate", number="13812345678", group="pri", tag=tag)
        assert gw.call("calls.list") == []
