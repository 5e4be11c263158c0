"""SMS through the gateway, end to end: ``sms.send`` on an in-process gateway, the desk
handing the message to the SMS agent of a module whose AT port is a real pty opened with
pyserial, the scripted module on the other side; events, the store, delivery reports,
limits, and restarts that neither lose nor double-send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sms_kit import STAMP, Rig

from trunkline.drivers.backends.mobile import pdu
from trunkline.gateway.config import GatewayConfig, config_from_string
from trunkline.gateway.rpc.errors import RpcError
from trunkline.gateway.sms.desk import SmsModule
from trunkline.gateway.sms.limits import LimitPolicy
from trunkline.gateway.testing import VirtualGateway


class Site:
    """A virtual gateway with two modules in group ``gsm`` and their far ends."""

    def __init__(self, folder: Path, policy: LimitPolicy | None = None,
                 rigs: list[Rig] | None = None) -> None:
        config = GatewayConfig(recordings_root=folder / "rec", fax_spool=folder / "fax",
                               prompts=Path("/"), sms_store=folder / "sms.sqlite",
                               sim_limits={"gsm": policy or LimitPolicy()})
        self.gw = VirtualGateway(config)
        self.desk = self.gw.service.sms
        self.desk.wall = self.gw.now  # the limits count in the gateway's virtual time
        self.rigs = rigs or [Rig(send_timeout=5.0), Rig(send_timeout=5.0)]
        for i, rig in enumerate(self.rigs, start=1):
            rig.collect = False
            self.desk.add_module(SmsModule(f"gsm{i}", rig.agent, f"898600{i}", ("gsm",)))
        self.gw.on_tick.append(self._pump)

    def _pump(self) -> None:
        for rig in self.rigs:
            rig.now = self.gw.now() - 0.02
            rig.step(0.02)

    def events(self, kind: str) -> list[dict]:
        return [e for e in self.gw.events if e["event"] == kind]

    def close(self, *, rigs: bool = True) -> None:
        self.gw.close()
        if rigs:
            for rig in self.rigs:
                rig.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    yield s
    s.close()


def test_send_then_sent_then_delivered(site):
    reply = site.gw.call("sms.send", to="+8613800138000", text="您好，还款提醒" * 12, group="gsm",
                         ref="contact-17")
    assert reply["parts"] == 2 and reply["encoding"] == "ucs2" and reply["state"] == "queued"
    sms = reply["sms"]
    site.gw.run_until(lambda: site.events("sms.sent"), 30)
    [sent] = site.events("sms.sent")
    assert sent["sms"] == sms and sent["parts"] == 2
    far = site.rigs[int(reply["module"][-1]) - 1].far
    assert "".join(s.text for s in far.submitted) == "您好，还款提醒" * 12
    for ref in sent["references"]:
        far.status_report(pdu.encode_status_report(ref, "+8613800138000", 0, STAMP, STAMP))
    site.gw.run_until(lambda: site.events("sms.delivered"), 30)
    status = site.gw.call("sms.status", sms=sms)
    assert status["state"] == "delivered" and status["ref"] == "contact-17"
    assert [p["outcome"] for p in status["part_reports"]] == ["delivered", "delivered"]


def test_a_failed_report_fails_the_message(site):
    sms = site.gw.call("sms.send", to="13800138000", text="hi", module="gsm1")["sms"]
    site.gw.run_until(lambda: site.events("sms.sent"), 30)
    [ref] = site.events("sms.sent")[0]["references"]
    site.rigs[0].far.status_report(pdu.encode_status_report(ref, "+8613800138000", 0x46,
                                                            STAMP, STAMP))
    site.gw.run_until(lambda: site.events("sms.failed"), 30)
    [failed] = site.events("sms.failed")
    assert failed["sms"] == sms and failed["reason"] == "validity period expired"


def test_a_module_error_fails_with_the_cms_reason(site):
    site.rigs[0].far.cmgs_faults = [331]
    site.gw.call("sms.send", to="10086", text="CXYE", module="gsm1")
    site.gw.run_until(lambda: site.events("sms.failed"), 30)
    assert site.events("sms.failed")[0]["reason"] == "no network service (+CMS ERROR 331)"
    assert site.gw.call("sms.list", state="failed")[0]["code"] == 331


def test_received_is_stored_then_deleted_from_the_sim(site):
    raw = pdu.encode_deliver("+8613900139000", "收到，谢谢", STAMP)[0]
    site.rigs[1].far.arrive(raw)
    site.gw.run_until(lambda: site.events("sms.received"), 30)
    [got] = site.events("sms.received")
    assert (got["number"], got["text"], got["module"]) == ("+8613900139000", "收到，谢谢", "gsm2")
    site.gw.run_until(lambda: not site.rigs[1].far.store, 10)
    [row] = site.gw.call("sms.list", direction="in")
    assert row["text"] == "收到，谢谢" and row["service_time"] == STAMP.isoformat()


def test_rotation_and_the_limit_refusal_names_it(tmp_path):
    site = Site(tmp_path, LimitPolicy(sms_per_hour=1))
    try:
        a = site.gw.call("sms.send", to="13800138000", text="one", group="gsm")
        b = site.gw.call("sms.send", to="13800138001", text="two", group="gsm")
        assert {a["module"], b["module"]} == {"gsm1", "gsm2"}
        with pytest.raises(RpcError) as err:
            site.gw.call("sms.send", to="13800138002", text="three", group="gsm")
        assert err.value.code.wire_name == "unavailable"
        assert "sms_per_hour = 1 reached" in err.value.message
        assert set(err.value.data["limits"]) == {"8986001 (gsm1)", "8986002 (gsm2)"}
        limits = {row["module"]: row for row in site.gw.call("sms.limits")}
        assert limits["gsm1"]["sms_last_hour"] == 1
    finally:
        site.close()


def test_bad_requests_say_what_is_wrong(site):
    with pytest.raises(RpcError, match="is not a number"):
        site.gw.call("sms.send", to="call me", text="x", group="gsm")
    with pytest.raises(RpcError, match="give a group or a module"):
        site.gw.call("sms.send", to="10086", text="x")
    with pytest.raises(RpcError, match="no SMS module in group 'nope'"):
        site.gw.call("sms.send", to="10086", text="x", group="nope")
    with pytest.raises(RpcError, match="no SMS 999"):
        site.gw.call("sms.status", sms=999)


def test_a_restart_sends_what_was_queued_once_and_never_resends_what_was_sending(tmp_path):
    first = Site(tmp_path)
    # gsm1's module is silent: its message stays queued (link not ready) ...
    first.rigs[0].far.mute = True
    queued = first.gw.call("sms.send", to="13800138000", text="queued", module="gsm1")["sms"]
    # ... and gsm2 takes its message but never answers the PDU: it is being sent.
    first.rigs[1].far.cmgs_faults = ["silent"]
    sending = first.gw.call("sms.send", to="13800138001", text="sending", module="gsm2")["sms"]
    first.gw.run_until(lambda: any(c.startswith("AT+CMGS")
                                   for c in first.rigs[1].far.commands), 30)
    first.close()  # the gateway stops here, as in a crash: nothing more is written

    second = Site(tmp_path)
    try:
        second.gw.run_until(lambda: second.events("sms.sent"), 30)
        [sent] = second.events("sms.sent")
        assert sent["sms"] == queued
        assert [s.text for s in second.rigs[0].far.submitted] == ["queued"]
        assert second.rigs[1].far.submitted == []  # never sent again
        status = second.gw.call("sms.status", sms=sending)
        assert status["state"] == "failed" and "not sent again" in status["reason"]
    finally:
        second.close()


def test_config_names_the_sms_keys():
    cfg = config_from_string('[sms]\nstore = "/var/lib/trunkline/sms.sqlite"\n'
                             "[sim_limits.gsm]\nsms_per_day = 200\ncall_rest = 30\n")
    assert cfg.sms_store == Path("/var/lib/trunkline/sms.sqlite")
    assert cfg.sim_limits == {"gsm": LimitPolicy(sms_per_day=200, call_rest=30)}
    with pytest.raises(Exception, match=r"<string>:2: unknown key 'sotre'"):
        config_from_string('[sms]\nsotre = "x"\n')


def test_the_mobile_card_carries_sms_end_to_end(tmp_path):
    # The sample mobile card: two emulated modules behind real ptys, driven by the mobile
    # backend's card, whose SMS links the gateway finds by itself (CardABC.sms).
    config = GatewayConfig(card_url="mobile", recordings_root=tmp_path / "rec",
                           fax_spool=tmp_path / "fax", prompts=Path("/"),
                           sms_store=tmp_path / "sms.sqlite",
                           sim_limits={"mobile": LimitPolicy(sms_per_hour=5)})
    gw = VirtualGateway(config)
    try:
        desk = gw.service.sms
        desk.wall = gw.now
        assert sorted(desk.modules) == ["gsm1", "gsm2"]
        gw.run_until(lambda: all(m.link.ready for m in desk.modules.values()), 120)
        reply = gw.call("sms.send", to="13900000102", text="您好，明天上午十点见", group="mobile")
        assert reply["sim"].startswith("iccid:")
        gw.run_until(lambda: [e for e in gw.events if e["event"] == "sms.delivered"], 60)
        modem = gw.card.emulated_modem(1 if reply["module"] == "gsm1" else 2)
        assert [s.text for s in modem.sms_sent] == ["您好，明天上午十点见"]
        other = gw.card.emulated_modem(2 if reply["module"] == "gsm1" else 1)
        other.receive_sms("+8613800138000", "好的，谢谢")
        gw.run_until(lambda: [e for e in gw.events if e["event"] == "sms.received"], 60)
        gw.run_until(lambda: not other.sms_store, 10)  # deleted once stored
        [row] = gw.call("sms.list", direction="in")
        assert (row["number"], row["text"]) == ("+8613800138000", "好的，谢谢")
    finally:
        gw.close()


def test_calls_on_mobile_modules_go_through_the_sim_limits(tmp_path):
    config = GatewayConfig(card_url="mobile", recordings_root=tmp_path / "rec",
                           fax_spool=tmp_path / "fax", prompts=Path("/"),
                           sms_store=tmp_path / "sms.sqlite",
                           groups={"outbound": ["span:1", "span:2"]},
                           sim_limits={"mobile": LimitPolicy(calls_per_hour=1, call_rest=60)})
    gw = VirtualGateway(config)
    try:
        desk = gw.service.sms
        desk.wall = gw.now
        gw.run_until(lambda: all(m.link.ready for m in desk.modules.values()), 120)
        first = gw.call("call.originate", number="13800000001")
        second = gw.call("call.originate", number="13800000001")
        assert {first["span"], second["span"]} == {1, 2}  # each SIM in turn
        for c in (first, second):
            gw.call("call.hangup", call=c["call"])
        gw.run_until(lambda: len([e for e in gw.events if e.get("state") == "hungup"]) == 2,
                     30)
        with pytest.raises(RpcError) as err:
            gw.call("call.originate", number="13800000001")
        assert "calls_per_hour = 1 reached" in err.value.message
        assert "no SIM of group 'mobile' may take more calls now" in err.value.message
        limits = {row["module"]: row for row in gw.call("sms.limits")}
        assert [limits[m]["calls_last_hour"] for m in ("gsm1", "gsm2")] == [1, 1]
        assert all(limits[m]["last_call_end"] is not None for m in ("gsm1", "gsm2"))
    finally:
        gw.close()


def test_rest_between_calls_on_one_module(tmp_path):
    config = GatewayConfig(card_url="mobile", recordings_root=tmp_path / "rec",
                           fax_spool=tmp_path / "fax", prompts=Path("/"),
                           sms_store=tmp_path / "sms.sqlite",
                           sim_limits={"mobile": LimitPolicy(call_rest=60)})
    gw = VirtualGateway(config)
    try:
        gw.service.sms.wall = gw.now
        gw.run_until(lambda: all(m.link.ready for m in gw.service.sms.modules.values()), 120)
        call = gw.call("call.originate", number="13800000001", span=1)
        gw.call("call.hangup", call=call["call"])
        gw.run_until(lambda: [e for e in gw.events if e.get("state") == "hungup"], 30)
        with pytest.raises(RpcError, match="call_rest = 60 s"):
            gw.call("call.originate", number="13800000001", span=1)
        gw.run(61)
        gw.run_until(lambda: not gw.service.engine.calls, 30)
        assert gw.call("call.originate", number="13800000001", span=1)["span"] == 1
    finally:
        gw.close()


def test_a_gateway_without_modules_starts_when_the_store_cannot_open(tmp_path):
    (tmp_path / "a-file").write_text("")
    config = GatewayConfig(recordings_root=tmp_path / "rec", fax_spool=tmp_path / "fax",
                           prompts=Path("/"), sms_store=tmp_path / "a-file" / "sms.sqlite")
    gw = VirtualGateway(config)
    try:
        assert gw.call("sms.list") == []
        with pytest.raises(RpcError, match="give a group or a module"):
            gw.call("sms.send", to="10086", text="x")
    finally:
        gw.close()


def test_a_store_that_fails_keeps_the_message_queued_and_the_tick_alive(site):
    sms = site.gw.call("sms.send", to="13800138000", text="later", module="gsm1")["sms"]
    store = site.desk.store
    store._db.close()  # the database is gone (disk pulled): every statement fails
    site.gw.run(2)
    assert site.rigs[0].far.submitted == []
    from trunkline.gateway.sms.store import SmsStore

    site.desk.store = SmsStore(store.path)  # it is back
    site.gw.run_until(lambda: site.events("sms.sent"), 30)
    assert site.events("sms.sent")[0]["sms"] == sms
