"""A supervisor sets a running predictive campaign's agent-wait target through the API
(issue 18 item 2): checked, stored, applied by the engine at its next decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web_kit import client, login

from trunkline.dialer.pacing.pacers import ModelPacer
from trunkline.dialer.store import Store


def test_the_agent_wait_target_is_set_while_the_campaign_runs(tmp_path: Path) -> None:
    with client(tmp_path, desk=True) as c:
        h = {"X-CSRF-Token": login(c, "boss")}
        assert c.post("/api/campaigns/sales/start", headers=h).status_code == 200
        r = c.patch("/api/campaigns/sales/settings", headers=h,
                    json={"agent_wait_target": 25})
        assert r.status_code == 200, r.text
        assert r.json()["changed"]["agent_wait_target"] == [0.0, 25]

        def pacer(runner: Any, port: Any, store: Any) -> tuple[float, float | None]:
            run = runner.engine._runs["sales"]
            assert isinstance(run.pacer, ModelPacer)
            return run.config.agent_wait_target, (run.pacer.wait.target
                                                  if run.pacer.wait else None)
        host = c.app.state.ctx.host  # type: ignore[attr-defined]
        assert c.portal.call(host.on_worker, "virtual", pacer) == (25, 25)  # type: ignore[union-attr]
        r = c.patch("/api/campaigns/sales/settings", headers=h,
                    json={"agent_wait_target": 900})
        assert r.status_code == 422 and "agent_wait_target" in r.text
    with Store(tmp_path / "dialer.sqlite") as store:
        assert store.campaign_config("sales")["agent_wait_target"] == 25
