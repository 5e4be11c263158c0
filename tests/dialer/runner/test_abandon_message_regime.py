"""The regime decides whether an abandoned call may hear a tone (abandon_message.py):
under uk (Ofcom) and us (TSR/FCC) it must hear a recorded message naming the caller,
so a run there without ``--abandon-file`` is refused at start, naming the campaign, the
regime and the setting, with nothing dialled or stored; cn and none keep the tone."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_kit import T0, make_store, write_wav

from trunkline.cli import main
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.abandon_message import (
    MESSAGE_REGIMES,
    AbandonMessageRequired,
    require_abandon_message,
)
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store
from trunkline.dialer.vocab import Regime
from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig


@pytest.mark.parametrize("regime", list(Regime))
def test_only_uk_and_us_need_a_recorded_message(regime: Regime) -> None:
    assert (regime in MESSAGE_REGIMES) is (regime in (Regime.UK, Regime.US))
    require_abandon_message([("sales", regime)], "sorry.wav")   # a file: every regime
    if regime not in MESSAGE_REGIMES:
        require_abandon_message([("sales", regime)], None)      # the tone stays
        return
    with pytest.raises(AbandonMessageRequired) as info:
        require_abandon_message([("ok", "cn"), ("sales", regime)], None, setting="--x")
    words = str(info.value)
    assert words.startswith(f"campaign 'sales' (regime {regime}): no abandon message: ")
    assert "a tone names nobody; give --x WAV" in words
    assert ("Ofcom" if regime is Regime.UK else "310.4(b)(4)(iii)") in words
    assert info.value.campaign == "sales" and info.value.regime is regime
    assert isinstance(info.value, ConfigError)


def _gateway(folder: Path) -> InProcessGateway:
    prompts = folder / "prompts"
    prompts.mkdir(exist_ok=True)
    write_wav(prompts / "sorry.wav", seconds=1.0)
    return InProcessGateway(start=T0, config=GatewayConfig(
        recordings_root=folder / "rec", fax_spool=folder / "fax", prompts=prompts))


def _nothing_done(store: Store, gateway: InProcessGateway) -> None:
    assert gateway.calls() == []                 # no agent rung, nothing dialled
    assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 0


@pytest.mark.parametrize("regime", ["uk", "us"])
def test_a_uk_or_us_run_without_a_file_is_refused_at_start(tmp_path: Path, regime: str
                                                           ) -> None:
    store = make_store(tmp_path, config={"mode": "progressive", "regime": regime})
    gateway = _gateway(tmp_path)
    try:
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                require_message=True, engine_log=quiet_logger())
        with pytest.raises(AbandonMessageRequired, match=rf"campaign 'sales' \(regime "
                                                         rf"{regime}\): no abandon message"):
            runner.start()
        _nothing_done(store, gateway)
    finally:
        gateway.close()
        store.close()


@pytest.mark.parametrize(("regime", "file"), [("uk", "sorry.wav"), ("us", "sorry.wav"),
                                              ("cn", None), ("none", None)])
def test_a_file_or_a_tone_regime_starts(tmp_path: Path, regime: str, file: str | None
                                        ) -> None:
    store = make_store(tmp_path, config={"mode": "progressive", "regime": regime})
    gateway = _gateway(tmp_path)
    try:
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                abandon_file=file, require_message=True,
                                engine_log=quiet_logger())
        runner.start()
        assert gateway.calls() != []             # the agent position is rung
        runner.request_stop()
    finally:
        gateway.close()
        store.close()


def test_a_uk_campaign_added_to_a_running_desk_is_refused(tmp_path: Path) -> None:
    store = make_store(tmp_path, config={"mode": "progressive", "regime": "cn"})
    store.create_campaign("london", store.strategy("sales"),
                          config={"mode": "progressive", "regime": "uk"}, now=T0)
    gateway = _gateway(tmp_path)
    try:
        runner = DeskRunner(store, "sales", gateway, group="pri", require_message=True,
                            engine_log=quiet_logger())
        runner.start()
        with pytest.raises(AbandonMessageRequired, match=r"campaign 'london' \(regime uk\)"):
            runner.start_campaign("london")
        assert runner.campaigns == ["sales"]     # nothing changed
        runner.request_stop()
    finally:
        gateway.close()
        store.close()


def test_dialer_run_refuses_before_opening_the_gateway(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    make_store(tmp_path, config={"mode": "progressive", "regime": "us"}).close()
    db = str(tmp_path / "dialer.sqlite")
    # no gateway listens there: the refusal comes first, without one
    assert main(["dialer", "run", "--campaign", "sales", "--agents", "71",
                 "--gateway", str(tmp_path / "none.sock"), "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trunkline: error: campaign 'sales' (regime us): no abandon "
                          "message: the US TSR safe harbor"), err
    assert "give --abandon-file WAV" in err and "Traceback" not in err
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 0
