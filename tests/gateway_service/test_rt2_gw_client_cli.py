"""``trunkline gw`` as an operator types it (second red-team pass, issue 15).

Before: a socket file left by a gateway that stopped (kill -9, a crash), or any file
that is not a listening socket, gave a ConnectionRefusedError traceback; ``gw channels
--socket X`` was "unrecognized arguments" (the option belonged to ``gw`` only); a
``tcp://`` address was refused as "no gateway socket at tcp://..." and no token could
be given, though the gateway and its client library take both."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from trunkline.cli import build_parser, main


@pytest.mark.parametrize("argv", [
    ["gw", "--socket", "X", "--token", "T", "channels"],
    ["gw", "channels", "--socket", "X", "--token", "T"],
    ["gw", "--socket", "X", "events", "--token", "T"],
])
def test_the_address_options_go_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.socket, args.token) == ("X", "T")


def test_a_stale_socket_is_said_not_a_traceback(tmp_path: Path, capsys) -> None:
    path = tmp_path / "gw.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()                     # the file stays, nobody listens: as after kill -9
    assert main(["gw", "channels", "--socket", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"trunkline: error: cannot connect to the gateway at {path}: ")
    assert "stopped" in err and "Traceback" not in err


def test_a_tcp_address_is_tried_not_refused_as_a_missing_file(capsys) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nothing listens there
    assert main(["gw", "spans", "--socket", f"tcp://127.0.0.1:{port}", "--token",
                 "x" * 16]) == 1
    err = capsys.readouterr().err
    assert f"cannot connect to the gateway at tcp://127.0.0.1:{port}" in err
    assert "no gateway socket" not in err
    assert main(["gw", "spans", "--socket", "ftp://x"]) == 1
    assert "unknown scheme" in capsys.readouterr().err
