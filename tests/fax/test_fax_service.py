"""The fax methods (through the method registry), the CLI, and document handling."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from engine_events import EngineEvents
from fax_kit import BUSY_NUMBER, FAX_NUMBER, make_page, write_plan

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated import fax_far_end
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.fax.documents import (
    DocumentError,
    compare_pages,
    prepare,
    read_fax,
    tiff_to_pdf,
)
from trunkline.gateway.rpc.registry import Role, RpcError
from trunkline.gateway.service import GatewayService


@pytest.mark.slow
def test_gateway_methods(tmp_path: Path) -> None:
    fax_far_end.reset()
    fax_far_end.configure(inbox=tmp_path / "far")
    svc = GatewayService(GatewayConfig(network=write_plan(tmp_path), fax_spool=tmp_path / "spool",
                                       recordings_root=tmp_path / "rec",
                                       fax_documents=tmp_path), clock=VirtualClock())
    session = SimpleNamespace(role=Role.ADMIN)
    page = make_page(tmp_path / "p.png", 5, lines=500)
    svc.engine.start()  # virtual time: the tick thread runs as fast as it can

    async def call(method: str, /, **params):
        return await svc.registry.dispatch(session, method, params)

    async def scenario() -> None:
        with EngineEvents(svc.engine) as events:
            await scenario_with(events)

    async def scenario_with(events: EngineEvents) -> None:
        sent = await call("fax.send", number=FAX_NUMBER, files=[str(page)], group="fxo",
                          ident="+86 10 1", header="methods")
        assert sent["pages"] == 1
        finished = await events.wait_for(lambda e: e["event"] == "fax.finished"
                                         and e["fax"] == sent["fax"])
        assert finished["result"] == "ok" and finished["pages"] == 1
        status = await call("fax.status", fax=sent["fax"])
        assert status["state"] == "finished"
        assert status["result"] == "ok" and status["pages"] == 1
        assert (await call("fax.list"))[0]["fax"] == sent["fax"]
        with pytest.raises(RpcError, match="no fax 999"):
            await call("fax.status", fax=999)
        with pytest.raises(RpcError, match="unsupported fax document"):
            await call("fax.send", number=FAX_NUMBER, files=[str(tmp_path / "plan.toml")])
        with pytest.raises(RpcError, match="no such file") as missing:
            await call("fax.send", number=FAX_NUMBER, files=[str(tmp_path / "none.pdf")])
        assert missing.value.name == "not_found"
        job = await call("fax.broadcast", numbers=[FAX_NUMBER, BUSY_NUMBER], files=[str(page)],
                         group="pri", max_attempts=1, rate=600)
        done = await events.wait_for(lambda e: e["event"] == "fax.job"
                                     and e["job"] == job["job"] and e["state"] == "done")
        assert done["counts"] == {"sent": 1, "failed": 1}
        report = await call("fax.job", job=job["job"])
        assert report["state"] == "done" and report["counts"] == {"sent": 1, "failed": 1}
        with pytest.raises(RpcError):
            await call("fax.route_add", name="bad")
        added = await call("fax.route_add", name="in", dnis="8800*",
                           folder=str(tmp_path / "in"))
        assert added["routes"] == 1 and (await call("fax.routes"))[0]["dnis"] == "8800*"

    try:
        asyncio.run(scenario())
    finally:
        svc.engine.stop()
        svc.card.close()
        fax_far_end.reset()


def run_cli(argv: list[str]) -> int:
    import trunkline.cli as cli

    return cli.main(argv)


@pytest.mark.slow
@pytest.mark.parametrize("line", ["fxo", "pri"])
def test_fax_send_command(tmp_path: Path, capsys, line: str) -> None:
    fax_far_end.reset()
    page = make_page(tmp_path / "p.tif", 8, lines=600)
    rc = run_cli(["fax", "send", FAX_NUMBER, str(page), "--card", "emulated", "--network",
                  str(write_plan(tmp_path)), "--line", line, "--json",
                  "--inbox", str(tmp_path / "far")] + (["--no-ecm"] if line == "pri" else []))
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0, out
    assert out["result"] == "ok" and out["pages"] == 1 and out["t30_code"] == 0
    assert out["rate"] == 14400 and out["ecm"] is (line == "fxo")
    assert compare_pages(read_fax(page), read_fax(out["received_file"])) == [0]
    fax_far_end.reset()


def test_fax_send_command_errors(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    assert run_cli(["fax", "send", FAX_NUMBER, str(tmp_path / "x.tif"), "--json"]) == 1
    assert "no such fax document" in capsys.readouterr().err
    assert run_cli(["fax", "send", "12ab", str(bad)]) == 1
    assert "must be digits" in capsys.readouterr().err
    assert run_cli(["fax", "send", FAX_NUMBER, str(bad)]) == 1
    assert "PDF" in capsys.readouterr().err


def test_documents(tmp_path: Path) -> None:
    from PIL import Image

    # A letter-size grey scan at 150 dpi becomes a 1728-wide fine page.
    scan = Image.fromarray((np.random.default_rng(1).random((1650, 1275)) * 255)
                           .astype(np.uint8))
    scan.save(tmp_path / "scan.png", dpi=(150, 150))
    rgba = Image.new("RGBA", (800, 600), (255, 0, 0, 128))
    rgba.save(tmp_path / "alpha.png")
    doc = prepare([tmp_path / "scan.png", tmp_path / "alpha.png"], tmp_path / "out.tif")
    pages = read_fax(doc.path)
    assert doc.pages == 2 and all(p.shape[1] == 1728 for p in pages)
    assert pages[0].shape[0] == pytest.approx(1650 * 1728 / 1275 * 196 / 204, abs=2)
    std = prepare(tmp_path / "scan.png", tmp_path / "std.tif", fine=False)
    assert read_fax(std.path)[0].shape[0] == pytest.approx(pages[0].shape[0] / 2, abs=2)
    pdf = tiff_to_pdf(doc.path)
    assert pdf.read_bytes().startswith(b"%PDF")
    exact = make_page(tmp_path / "exact.tif", 3, lines=300)
    assert compare_pages(read_fax(exact), read_fax(prepare(exact, tmp_path / "e.tif").path)) \
        == [0]
    (tmp_path / "corrupt.tif").write_bytes((tmp_path / "exact.tif").read_bytes()[:200])
    with pytest.raises(DocumentError, match=r"corrupt\.tif"):
        prepare(tmp_path / "corrupt.tif", tmp_path / "c.tif")
    assert not (tmp_path / "c.tif").exists()
    good = tmp_path / "keep.tif"
    shutil.copy(exact, good)
    with pytest.raises(DocumentError):
        prepare(tmp_path / "corrupt.tif", good)
    assert compare_pages(read_fax(exact), read_fax(good)) == [0]  # never replaced
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DocumentError, match="cannot"):
        prepare(exact, blocker / "sub" / "x.tif")
    tall = Image.new("L", (100, 2000), 255)
    tall.save(tmp_path / "tall.png")
    with pytest.raises(DocumentError, match="longest page"):
        prepare(tmp_path / "tall.png", tmp_path / "t.tif")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_input(tmp_path: Path) -> None:
    page = make_page(tmp_path / "p.tif", 2, lines=800)
    pdf = tiff_to_pdf(page, tmp_path / "p.pdf")
    doc = prepare(pdf, tmp_path / "from-pdf.tif")
    assert doc.pages == 1 and read_fax(doc.path)[0].shape[1] == 1728


@pytest.mark.slow
def test_fax_send_leaves_no_scratch_folder_behind(tmp_path: Path, capsys,
                                                  monkeypatch) -> None:
    """Issue 15, red-team 14: each `trunkline fax send` left a /tmp/tl-fax-* folder."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    fax_far_end.reset()
    page = make_page(tmp_path / "p.tif", 8, lines=300)
    rc = run_cli(["fax", "send", FAX_NUMBER, str(page), "--card", "emulated", "--network",
                  str(write_plan(tmp_path)), "--line", "pri", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["result"] == "ok", out
    assert out["received_file"] is None  # no --inbox: the far end's copy went with it
    assert list((tmp_path / "scratch").iterdir()) == []
    fax_far_end.reset()
