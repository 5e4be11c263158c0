"""Faxes over emulated FXO and PRI lines, through the gateway's media engine, both ways.

The network's fax subscriber is a live spandsp machine (drivers/backends/emulated/fax_far_end);
the pages it receives are compared pixel for pixel with the pages we sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fax_kit import FAX_NUMBER, HUMAN_NUMBER, Rig, make_page, write_plan

from trunkline.drivers.backends.emulated import fax_far_end
from trunkline.drivers.backends.emulated.farend import live_far_end
from trunkline.gateway.fax.documents import compare_pages, read_fax
from trunkline.gateway.fax.jobs import InboundFaxRouter, InboundRoute, _hangup_later
from trunkline.gateway.fax.session import FaxOptions, FaxSession


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    fax_far_end.reset()
    fax_far_end.configure(inbox=tmp_path / "far-inbox")
    rig = Rig(write_plan(tmp_path))
    yield rig
    rig.close()
    fax_far_end.reset()


def place(rig: Rig, number: str, line: str, direction: str, path: Path,
          options: FaxOptions | None = None) -> FaxSession:
    info = rig.engine.originate(number, group=line, ring_timeout=60)
    call = rig.engine.calls[info["call"]]
    kwargs = {"document": path} if direction == "send" else {"rx_path": path}
    session = FaxSession(direction, calling=True, call=call, options=options,
                         hangup=_hangup_later(rig.engine, call.id),
                         publish=rig.events.append, **kwargs)
    rig.engine.attach_processor(call.id, session)
    return session


def finished(rig: Rig, session: FaxSession):
    return session.result is not None and not rig.engine.calls and session.result


@pytest.mark.slow
@pytest.mark.parametrize("line", ["fxo", "pri"])
@pytest.mark.parametrize("ecm", [True, False])
def test_send_to_the_fax_subscriber(rig: Rig, tmp_path: Path, line: str, ecm: bool) -> None:
    pages = [make_page(tmp_path / "p1.tif", 1, lines=700), make_page(tmp_path / "p2.tif", 2,
                                                                     lines=500)]
    from trunkline.gateway.fax.documents import prepare

    doc = prepare(pages, tmp_path / "doc.tif")
    session = place(rig, FAX_NUMBER, line, "send", doc.path,
                    FaxOptions(ident="+86 10 5550000", header="trunkline test", ecm=ecm))
    result = rig.run_until(lambda: finished(rig, session), 300)
    assert result.result == "ok", result
    assert result.t30_code == 0 and result.pages == 2 and result.ecm is ecm
    assert result.rate == 14400
    phases = [e["phase"] for e in rig.named("fax.progress")]
    assert phases[:3] == ["waiting", "started", "negotiated"] and phases.count("page") == 2
    done = rig.named("fax.finished")
    assert len(done) == 1 and done[0]["call"] is not None and done[0]["result"] == "ok"
    far = fax_far_end.SESSIONS[-1]
    assert far.ok and far.far_ident == "+86 10 5550000"
    sent = read_fax(doc.path)
    got = read_fax(far.rx_file)
    assert len(got) == 2
    assert got[0].shape[0] > sent[0].shape[0]  # the header line was added on top
    assert compare_pages(sent, got) == [0, 0]


@pytest.mark.slow
@pytest.mark.parametrize(("line", "ecm"), [("fxo", True), ("pri", False)])
def test_receive_from_the_fax_subscriber(rig: Rig, tmp_path: Path, line: str,
                                         ecm: bool) -> None:
    page = make_page(tmp_path / "offer.tif", 7, lines=800)
    fax_far_end.configure(document=page, ecm=ecm)
    rx = tmp_path / "received" / "fax.tif"
    session = place(rig, FAX_NUMBER, line, "receive", rx, FaxOptions(ecm=True))
    result = rig.run_until(lambda: finished(rig, session), 300)
    assert result.result == "ok" and result.pages == 1 and result.ecm is ecm
    assert Path(result.pdf) == rx.with_suffix(".pdf") and rx.with_suffix(".pdf").stat().st_size
    assert compare_pages(read_fax(page), read_fax(rx)) == [0]


def test_inbound_fax_on_pri_routed_by_dnis_to_folder_and_spool(rig: Rig, tmp_path: Path) -> None:
    page = make_page(tmp_path / "in.tif", 9, lines=600)
    route = InboundRoute("sales", dnis="8800*", folder=tmp_path / "folder",
                         spool=tmp_path / "spool", email_to="sales@example.com")
    router = InboundFaxRouter(rig.engine, [route], work_dir=tmp_path / "work",
                              publish=rig.events.append)
    rig.engine.subscribe(router.on_event)
    exchange = rig.card._pri_network[1].exchange
    exchange.originate("88001234", "13912345678")
    offered = rig.run_until(lambda: rig.named("call.offered"), 10)[0]
    assert offered["called"] == "88001234"
    rig.run_until(lambda: rig.named("call.state", state="answered"), 10)
    rig.card.port(offered["channel"]).attach_live(fax_far_end.caller(page))
    rig.run_until(lambda: router.deliveries, 120)
    entry = router.deliveries[0]
    assert entry["status"] == "spooled" and entry["result"] == "ok" and entry["pages"] == 1
    tiffs = list((tmp_path / "folder").glob("*.tif"))
    assert len(tiffs) == 1 and tiffs[0].with_suffix(".pdf").exists()
    assert compare_pages(read_fax(page), read_fax(tiffs[0])) == [0]
    eml = Path(entry["eml"])
    assert eml.parent.name == "new"
    import email

    msg = email.message_from_bytes(eml.read_bytes())
    assert msg["To"] == "sales@example.com" and "13912345678" in msg["Subject"]
    parts = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1 and parts[0].get_payload(decode=True).startswith(b"%PDF")


@pytest.mark.slow
def test_fax_on_demand_over_fxo(rig: Rig, tmp_path: Path) -> None:
    doc1 = make_page(tmp_path / "menu1.tif", 11, lines=400)
    doc2 = make_page(tmp_path / "menu2.tif", 12, lines=400)
    channel = rig.card.spans[2].channels[0]
    route = InboundRoute("fod", channel=channel, documents={"1": doc1, "2": doc2})
    router = InboundFaxRouter(rig.engine, [route], work_dir=tmp_path / "work",
                              publish=rig.events.append)
    rig.engine.subscribe(router.on_event)
    line = rig.card.line(channel)
    from trunkline.drivers.backends.emulated.plan import Behaviour

    line.ring_in(Behaviour.FAX)
    rig.run_until(lambda: rig.named("call.state", state="answered"), 15)
    caller = fax_far_end.caller(receive=True, digits="2")
    line.attach_live(caller)
    rig.run_until(lambda: router.deliveries, 120)
    entry = router.deliveries[0]
    assert entry["status"] == "sent" and entry["digits"] == "2", entry
    rig.run_until(lambda: caller.finished, 10)
    assert caller.ok
    assert compare_pages(read_fax(doc2), read_fax(caller.rx_file)) == [0]


@pytest.mark.slow
def test_a_person_answering_ends_in_a_negotiation_failure(rig: Rig, tmp_path: Path) -> None:
    page = make_page(tmp_path / "p.tif", 3, lines=300)
    session = place(rig, HUMAN_NUMBER, "pri", "send", page)
    result = rig.run_until(lambda: finished(rig, session), 200)
    assert result.result in ("t0_expired", "t1_expired", "tx_no_dis", "tx_phase_b_dead")
    assert result.pages == 0 and result.rate == 0


@pytest.mark.slow
def test_hangup_mid_page_reports_call_dropped_and_keeps_received_pages(
        rig: Rig, tmp_path: Path) -> None:
    pages = [make_page(tmp_path / f"p{i}.tif", i, lines=1500) for i in range(3)]
    from trunkline.gateway.fax.documents import prepare

    fax_far_end.configure(document=prepare(pages, tmp_path / "offer.tif").path)
    rx = tmp_path / "rx.tif"
    session = place(rig, FAX_NUMBER, "fxo", "receive", rx)
    rig.run_until(lambda: rig.named("fax.progress", phase="page"), 200)
    rig.run(2.0)  # into the second page
    call_id = rig.named("fax.progress", phase="page")[0]["call"]
    rig.engine.hangup(call_id)
    result = rig.run_until(lambda: finished(rig, session), 30)
    assert result.result == "call_dropped" and result.t30_code == 49
    assert result.pages == 1 and rx.exists() and Path(result.pdf).exists()
    assert compare_pages(read_fax(pages[0]), read_fax(rx)[:1]) == [0]
    assert len(rig.named("fax.finished")) == 1


def test_the_prerendered_fallback_still_answers(rig: Rig) -> None:
    fax_far_end.configure(live=False)
    info = rig.engine.originate(FAX_NUMBER, group="pri", ring_timeout=60)
    rig.run_until(lambda: rig.named("amd", call=info["call"]), 30)
    assert rig.named("amd", call=info["call"])[0]["result"] == "fax"
    assert not fax_far_end.SESSIONS
    assert live_far_end.__name__ == "live_far_end"
