"""``trunkline dialer serve --hold-file`` (and ``--abandon-file``) checked on every
gateway when the service starts, through the gateway's ``prompts.check``: a typo, a
file outside the gateway's prompts folder or one that is not audio stops the start
with the option, the gateway and the reason, exit status 1. Before, customers put on
hold heard silence (or the fallback tone) only when the first agent pressed Hold. A
campaign started through the API whose machine_message its gateway cannot play is
refused with 422 (it was a 500 for any setting the runner refused)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from web_kit import client, login, make_db

from trunkline.cli import build_parser
from trunkline.dialer.service.playback_check import check_playback_files
from trunkline.dialer.service.serve_cli import build
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.testing import ServiceThread


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real gateway service on a Unix socket, its prompts folder holding hold.wav."""
    base = tmp_path_factory.mktemp("serve-hold")
    prompts = base / "prompts"
    prompts.mkdir()
    t = np.arange(8000) / 8000
    soundfile.write(str(prompts / "hold.wav"), 0.3 * np.sin(2 * np.pi * 300 * t), 8000,
                    subtype="PCM_16")
    (prompts / "readme.wav").write_text("this is not audio\n")
    (base / "elsewhere.wav").write_bytes((prompts / "hold.wav").read_bytes())
    config = GatewayConfig(socket=base / "gw.sock", recordings_root=base / "rec",
                           fax_spool=base / "fax", prompts=prompts)
    service = ServiceThread(config).start()
    try:
        yield service.socket, prompts
    finally:
        service.stop()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One campaign database for the module (its users' password hashes are slow)."""
    return make_db(tmp_path_factory.mktemp("serve-hold-db"))


def _args(db: Path, socket: str, *extra: str):
    return build_parser().parse_args(["dialer", "serve", "--db", str(db), "--gateway",
                                      socket, *extra])


@pytest.mark.parametrize(("option", "file", "words"), [
    ("--hold-file", "hold-typo.wav", "prompts.check: file 'hold-typo.wav': no such file in"),
    ("--hold-file", "/etc/passwd", "lies outside the allowed folder"),
    ("--hold-file", "ELSEWHERE", "lies outside the allowed folder"),
    ("--hold-file", "../elsewhere.wav", "contains '..'"),
    ("--hold-file", "readme.wav", "not a readable audio file"),
    ("--abandon-file", "sorry.wav", "prompts.check: file 'sorry.wav': no such file in"),
])
def test_a_file_the_gateway_could_not_play_stops_the_start(
        db: Path, gateway: tuple[str, Path], option: str, file: str, words: str) -> None:
    socket, prompts = gateway
    file = file.replace("ELSEWHERE", str(prompts.parent / "elsewhere.wav"))
    with pytest.raises(ConfigError) as info:
        build(_args(db, socket, option, file))
    message = str(info.value)
    assert message.startswith(f"{option} {file!r}: gateway {socket} cannot play it: "), \
        message
    assert words in message, message


def test_a_playable_file_starts_and_no_file_asks_nothing(
        tmp_path: Path, db: Path, gateway: tuple[str, Path]) -> None:
    socket, prompts = gateway
    app, url = build(_args(db, socket, "--hold-file", "hold.wav",
                           "--abandon-file", str(prompts / "hold.wav")))
    assert url == "http://127.0.0.1:8080" and app is not None
    # without a file nothing is asked: an unreachable gateway is the runner's business
    build(_args(db, str(tmp_path / "no-gateway.sock")))


def test_an_unreachable_gateway_cannot_vouch_for_the_file(tmp_path: Path, db: Path) -> None:
    missing = str(tmp_path / "no-gateway.sock")
    with pytest.raises(ConfigError, match=r"--hold-file 'hold.wav': cannot be checked: "
                                          rf"gateway {missing} cannot be reached"):
        build(_args(db, missing, "--hold-file", "hold.wav"))


def test_every_gateway_is_asked(gateway: tuple[str, Path]) -> None:
    """With several gateways the file must play on each (a runner may start on any)."""
    socket, _prompts = gateway
    opened: list[str] = []

    class Spec:
        def __init__(self, name: str) -> None:
            self.name = name

        def open(self):
            from trunkline.dialer.runner.gateway import LiveGateway

            opened.append(self.name)
            port = LiveGateway(socket)
            return port, port.close

    check_playback_files([Spec("a"), Spec("b")], {"--hold-file": "hold.wav",
                                                  "--abandon-file": None})
    assert opened == ["a", "b"]
    with pytest.raises(ConfigError, match=r"--hold-file 'x\.wav': gateway a cannot play it"):
        check_playback_files([Spec("a")], {"--hold-file": "x.wav"})


def test_the_command_exits_non_zero_naming_the_option(
        db: Path, gateway: tuple[str, Path]) -> None:
    socket, _prompts = gateway
    done = subprocess.run(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--db", str(db),
         "--gateway", socket, "--listen", "127.0.0.1:0", "--hold-file", "hold-typo.wav"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith("trunkline: error: --hold-file 'hold-typo.wav': gateway "
                                  f"{socket} cannot play it: prompts.check: file "
                                  "'hold-typo.wav': no such file in"), done.stderr
    assert "Traceback" not in done.stderr and "dialer service on" not in done.stdout


def test_the_api_refuses_the_start_with_422_and_nothing_runs(tmp_path: Path) -> None:
    with client(tmp_path, desk=True) as c:
        with Store(tmp_path / "dialer.sqlite") as store:
            store.create_campaign("sales", store.strategy("sales"),
                                  config={"machine_message": "no-such-message.wav"})
        head = {"X-CSRF-Token": login(c, "boss")}
        r = c.post("/api/campaigns/sales/start", headers=head)
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "invalid"
        assert "campaign 'sales': machine_message 'no-such-message.wav': the gateway " \
               "cannot play it" in r.json()["message"]
        assert c.get("/api/campaigns/sales").json()["state"] == "idle"
