"""A supervisor on an agent's call, proved by audio on the emulated card: three phones
on FXS ports (customer, agent, supervisor), the agent bridged to the customer, and the
supervisor put on the agent's call through the wire methods (``call.monitor``,
``call.takeover``). Each phone presses its own key (DTMF, ITU-T Q.23) in turn and the
project's detector (``detect_file``) says which phones heard which key: that is who
hears whom, in each mode, as the mode changes on the fly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trunkline.drivers.dsp.detector import detect_file
from trunkline.drivers.dsp.events import DtmfEvent
from trunkline.gateway.rpc.errors import RpcError
from trunkline.gateway.testing import VirtualGateway

KEY = {"customer": "1", "agent": "5", "supervisor": "9"}


@pytest.fixture
def gw() -> Iterator[VirtualGateway]:
    with VirtualGateway() as gateway:
        yield gateway


def phones(gw: VirtualGateway) -> dict[str, int]:
    """Three answered phones: the customer's, the agent's, the supervisor's."""
    calls = {who: gw.call("call.originate", number=f"phone {who}", group="agents")["call"]
             for who in KEY}
    gw.run_until(lambda: all(c["state"] == "answered" for c in gw.call("calls.list")), 20)
    return calls


def heard(gw: VirtualGateway, calls: dict[str, int]) -> dict[str, set[str]]:
    """Each phone presses its key in turn; the keys each phone's detector found."""
    channel = {c["call"]: c["channel"] for c in gw.call("calls.list")}
    result: dict[str, set[str]] = {who: set() for who in calls}
    for who, call in calls.items():
        if call not in channel:
            continue
        gw.card.phone(channel[call]).press(KEY[who], on_ms=200, off_ms=20)
        gw.run(0.4)
        for listener, other in calls.items():
            if other not in channel:
                continue
            audio = gw.card.phone(channel[other]).heard[-int(8000 * 0.4):]
            digits = {e.digit for e in detect_file(audio, progress=False, fax=False,
                                                   vad=False, announcements=False)
                      if isinstance(e, DtmfEvent)}
            if KEY[who] in digits:
                result[listener].add(who)
    return result


def test_listen_whisper_barge_on_the_fly(gw: VirtualGateway) -> None:
    c = phones(gw)
    gw.call("call.bridge", call=c["agent"], other=c["customer"])
    assert heard(gw, c) == {"customer": {"agent"}, "agent": {"customer"}, "supervisor": set()}

    reply = gw.call("call.monitor", call=c["supervisor"], target=c["agent"])
    assert reply == {"call": c["supervisor"], "listening_to": c["agent"], "mode": "listen"}
    assert heard(gw, c) == {"customer": {"agent"}, "agent": {"customer"},
                            "supervisor": {"agent", "customer"}}

    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="whisper")
    assert heard(gw, c) == {"customer": {"agent"}, "agent": {"customer", "supervisor"},
                            "supervisor": {"agent", "customer"}}

    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="barge")
    assert heard(gw, c) == {"customer": {"agent", "supervisor"},
                            "agent": {"customer", "supervisor"},
                            "supervisor": {"agent", "customer"}}
    info = {x["call"]: x for x in gw.call("calls.list")}
    assert info[c["supervisor"]]["monitor"] == "barge"

    # back to listening, then off: the supervisor is silent again, then deaf
    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="listen")
    assert heard(gw, c)["customer"] == {"agent"}
    gw.call("call.monitor", call=c["supervisor"])
    assert heard(gw, c) == {"customer": {"agent"}, "agent": {"customer"}, "supervisor": set()}
    events = [e for e in gw.take_events() if e["event"] == "call.monitor"]
    assert [e["mode"] for e in events] == ["listen", "whisper", "barge", "listen", None]


def test_takeover_puts_the_supervisor_on_the_customer_and_keeps_the_agent_up(
        gw: VirtualGateway) -> None:
    c = phones(gw)
    gw.call("call.bridge", call=c["agent"], other=c["customer"])
    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="whisper")
    gw.take_events()
    reply = gw.call("call.takeover", call=c["supervisor"], target=c["agent"])
    assert reply == {"call": c["supervisor"], "released": c["agent"], "peer": c["customer"]}
    assert heard(gw, c) == {"customer": {"supervisor"}, "agent": set(),
                            "supervisor": {"customer"}}
    state = {x["call"]: x for x in gw.call("calls.list")}
    assert state[c["agent"]]["state"] == "answered"           # the position stays up
    assert state[c["agent"]]["bridged_to"] is None
    assert state[c["supervisor"]]["bridged_to"] == c["customer"]
    assert state[c["supervisor"]]["listening_to"] is None
    events = gw.take_events()
    assert {"event": "call.takeover", "call": c["supervisor"], "released": c["agent"],
            "peer": c["customer"]}.items() <= next(
                e for e in events if e["event"] == "call.takeover").items()


def test_barge_into_a_conference_and_take_it_over(gw: VirtualGateway) -> None:
    c = phones(gw)
    third = gw.call("call.originate", number="phone third", group="agents")["call"]
    gw.run_until(lambda: all(x["state"] == "answered" for x in gw.call("calls.list")), 20)
    number = gw.call("call.conference", calls=[c["agent"], c["customer"], third])["conference"]
    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="barge")
    got = heard(gw, c)
    assert got["customer"] == {"agent", "supervisor"}
    assert got["supervisor"] == {"agent", "customer"}
    reply = gw.call("call.takeover", call=c["supervisor"], target=c["agent"])
    assert reply["conference"] == number
    got = heard(gw, c)
    assert got["customer"] == {"supervisor"} and got["agent"] == set()


def test_refusals_name_what_is_wrong(gw: VirtualGateway) -> None:
    c = phones(gw)
    with pytest.raises(RpcError, match=r"must be one of .listen., .whisper., .barge."):
        gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="shout")
    with pytest.raises(RpcError, match="cannot supervise itself"):
        gw.call("call.monitor", call=c["supervisor"], target=c["supervisor"])
    with pytest.raises(RpcError, match="no call 999"):
        gw.call("call.monitor", call=c["supervisor"], target=999)
    with pytest.raises(RpcError, match="no call to take over"):
        gw.call("call.takeover", call=c["supervisor"], target=c["agent"])
    gw.call("call.bridge", call=c["agent"], other=c["customer"])
    with pytest.raises(RpcError, match=f"supervisor call {c['customer']} is bridged"):
        gw.call("call.monitor", call=c["customer"], target=c["agent"])
    # the existing call.listen keeps its reply, and is the listen mode
    assert gw.call("call.listen", call=c["supervisor"], target=c["agent"]) == {
        "call": c["supervisor"], "listening_to": c["agent"]}
    gw.call("call.monitor", call=c["supervisor"], target=c["agent"], mode="barge")
    gw.call("call.listen", call=c["supervisor"], target=c["agent"])
    assert heard(gw, c)["customer"] == {"agent"}
