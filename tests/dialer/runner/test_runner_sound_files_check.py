"""A run's sound files are checked on its gateway before the first call (sound_files.py,
through the gateway's prompts.check): a campaign's machine_message, the abandon
message and the desk's music on hold. A typo stops the start naming the campaign and
the setting, with nothing dialled and nothing stored; before, it showed only as silence
on the first machine, abandon or Hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_kit import T0, make_store, write_wav

from trunkline.cli import main
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig


def _gateway(folder: Path) -> tuple[InProcessGateway, Path]:
    prompts = folder / "prompts"
    prompts.mkdir(exist_ok=True)
    write_wav(prompts / "message.wav", seconds=1.0)
    config = GatewayConfig(recordings_root=folder / "rec", fax_spool=folder / "fax",
                           prompts=prompts)
    return InProcessGateway(start=T0, config=config), prompts


def _untouched(store: Store) -> tuple[int, int]:
    return (store.query("SELECT COUNT(*) FROM attempt")[0][0],
            store.query("SELECT COUNT(*) FROM contact WHERE state != 'ready'")[0][0])


@pytest.mark.parametrize(("config", "runner_args", "words"), [
    ({"machine_message": "mesage.wav"}, {},
     "campaign 'sales': machine_message 'mesage.wav': the gateway cannot play it: "
     "prompts.check: file 'mesage.wav': no such file in"),
    ({"machine_message": "/etc/passwd"}, {},
     "campaign 'sales': machine_message '/etc/passwd': the gateway cannot play it: "
     "prompts.check: file '/etc/passwd' lies outside the allowed folder"),
    ({}, {"abandon_file": "sorry.wav"},
     "abandon_file 'sorry.wav': the gateway cannot play it: prompts.check: file "
     "'sorry.wav': no such file in"),
])
def test_a_file_the_gateway_cannot_play_stops_the_run_before_any_call(
        tmp_path: Path, config: dict, runner_args: dict, words: str) -> None:
    store = make_store(tmp_path, config={"mode": "progressive", **config})
    gateway, _prompts = _gateway(tmp_path)
    before = _untouched(store)
    try:
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                engine_log=quiet_logger(), **runner_args)
        with pytest.raises(ConfigError) as info:
            runner.start()
        assert str(info.value).startswith(words), str(info.value)
        assert gateway.calls() == []              # no agent rung, nothing dialled
        assert _untouched(store) == before
    finally:
        gateway.close()


def test_playable_files_start_the_run(tmp_path: Path) -> None:
    store = make_store(tmp_path, config={"mode": "progressive",
                                         "machine_message": "message.wav"})
    gateway, prompts = _gateway(tmp_path)
    try:
        runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                                engine_log=quiet_logger(),
                                abandon_file=str(prompts / "message.wav"))
        runner.start()
        assert gateway.calls()                    # the agent position rings
    finally:
        gateway.close()


def test_the_desk_checks_its_hold_music_and_each_campaign_it_adds(tmp_path: Path) -> None:
    store = make_store(tmp_path, config={"mode": "progressive"})
    store.create_campaign("other", store.strategy("sales"),
                          config={"mode": "progressive", "machine_message": "gone.wav"},
                          now=T0)
    gateway, _prompts = _gateway(tmp_path)
    try:
        typo = DeskRunner(store, ["sales"], gateway, group="pri",
                          engine_log=quiet_logger(), hold_file="hold-typo.wav")
        with pytest.raises(ConfigError, match=r"hold_file 'hold-typo\.wav': the gateway "
                                              "cannot play it"):
            typo.start()
        runner = DeskRunner(store, ["sales"], gateway, group="pri",
                            engine_log=quiet_logger(), hold_file="message.wav")
        runner.start()
        with pytest.raises(ConfigError, match=r"campaign 'other': machine_message "
                                              r"'gone\.wav': the gateway cannot play it"):
            runner.start_campaign("other")
        assert runner.campaigns == ["sales"] and "other" not in runner.configs
    finally:
        gateway.close()


def test_dialer_run_exits_non_zero_naming_the_abandon_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_store(tmp_path, config={"mode": "progressive"}).close()
    assert main(["dialer", "run", "--campaign", "sales", "--db",
                 str(tmp_path / "dialer.sqlite"), "--virtual", "--agents", "71",
                 "--group", "pri", "--hours", "0.1",
                 "--abandon-file", "sorry-typo.wav"]) == 1
    err = capsys.readouterr().err
    assert "abandon_file 'sorry-typo.wav': the gateway cannot play it" in err, err
