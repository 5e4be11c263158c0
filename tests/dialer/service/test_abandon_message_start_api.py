"""The service's Start refuses a uk or us campaign when it has no abandon message
(abandon_message.py; ``dialer serve`` builds its desk runner with ``require_message``):
422 ``abandon_message_required`` with the English words (the console says them in the
page's language from the code), nothing started, the refusal audited; with a file, or
under cn, the campaign starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from campaign_testkit import T0
from fastapi.testclient import TestClient
from wav_kit import tone_wav
from web_kit import Clock, login, make_db

from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.dialer.store import Store


def _app(db: Path, abandon_file: str | None) -> Any:
    def virtual() -> tuple[Any, Any]:
        gateway = InProcessGateway(start=T0)
        return gateway, gateway.close

    def runner(store: Store, names: list[str], gateway: Any, progress: Any, sink: Any
               ) -> DeskRunner:   # as serve_cli's factory builds it
        return DeskRunner(store, names, gateway, sink=sink, group="pri",
                          abandon_file=abandon_file, require_message=True,
                          progress=progress, engine_log=quiet_logger())

    host = ServiceHost(str(db), [GatewaySpec("virtual", virtual)], runner, drain=600.0)
    return create_app(str(db), host, key=secret_key(str(db)), clock=Clock())


def _regime(db: Path, regime: str) -> None:
    with Store(db) as store:
        store.create_campaign("sales", store.strategy("sales"), config={"regime": regime},
                              now=T0)


def test_start_without_a_message_under_us_is_refused_with_its_code(tmp_path: Path) -> None:
    db = make_db(tmp_path)     # campaign 'sales', no regime set: us
    with TestClient(_app(db, None), base_url="http://testserver") as c:
        head = {"X-CSRF-Token": login(c, "boss")}
        r = c.post("/api/campaigns/sales/start", headers=head)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "abandon_message_required"
        assert r.json()["message"].startswith(
            "campaign 'sales' (regime us): no abandon message: the US TSR safe harbor")
        assert "give --abandon-file WAV" in r.json()["message"]
        assert c.get("/api/campaigns/sales").json()["state"] == "idle"
    with Store(db) as store:
        entry = store.audit_entries(action="campaign.start")[0]
        assert entry.details["result"] == "refused"
        assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 0


def test_with_a_file_or_under_cn_the_campaign_starts(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    sorry = str(tone_wav(tmp_path / "sorry.wav"))   # the virtual gateway's prompts folder is /
    for regime, file in (("us", sorry), ("cn", None)):
        _regime(db, regime)
        with TestClient(_app(db, file), base_url="http://testserver") as c:
            head = {"X-CSRF-Token": login(c, "boss")}
            r = c.post("/api/campaigns/sales/start", headers=head)
            assert r.status_code == 200, (regime, r.text)
            assert r.json()["state"] == "running"
            assert c.post("/api/campaigns/sales/stop", headers=head).status_code == 200
