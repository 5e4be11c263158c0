"""A gateway that cannot be reached is one line naming the address, not a traceback
(issue 15, item 4: bad input fails with a clear error and exits non-zero; before,
`dialer run --gateway /no/such.sock` ended in a raw FileNotFoundError and a port out of
range in an OverflowError)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from runner_kit import make_store

from trunkline.cli import main
from trunkline.dialer.errors import DialerError
from trunkline.dialer.runner.gateway import LiveGateway


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]           # nobody listens there once it is closed


@pytest.mark.parametrize("address", ["/no/such/gateway.sock", "tcp://127.0.0.1:99999",
                                     "tcp://127.0.0.1:{port}"])
def test_an_unreachable_gateway_is_named(address: str) -> None:
    address = address.format(port=_closed_port())
    with pytest.raises(DialerError, match=rf"cannot reach the gateway at {address}: "):
        LiveGateway(address)


def test_dialer_run_says_one_line_and_exits_non_zero(tmp_path: Path, capsys) -> None:
    make_store(tmp_path, config={"mode": "progressive"}).close()
    assert main(["dialer", "run", "--campaign", "sales", "--agents", "71",
                 "--gateway", str(tmp_path / "none.sock"), "--abandon-file", "sorry.wav",
                 "--db", str(tmp_path / "dialer.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the gateway at" in err and "Traceback" not in err
