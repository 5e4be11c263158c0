"""``trunkline dialer serve`` on a port another socket holds: one error line naming the
address and the reason, no "service on ..." announcement, no uvicorn ``ERROR:`` line.

It used to print "trunkline dialer service on http://HOST:PORT" first, then die with
uvicorn's own log line and exit status 3."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from web_kit import make_db


def test_a_busy_port_is_refused_before_the_service_is_announced(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--virtual",
             "--db", str(db), "--listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "service on" not in done.stdout
    assert (f"trunkline: error: cannot listen on 127.0.0.1:{port}: address already in use"
            in done.stderr), done.stderr
    assert "ERROR" not in done.stderr and "Traceback" not in done.stderr


def test_the_bound_socket_is_the_one_served(tmp_path: Path) -> None:
    """The sockets bound before the announcement are the ones uvicorn serves: the
    service answers on the announced port and stops cleanly on SIGTERM."""
    db = make_db(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "trunkline.cli", "dialer", "serve", "--virtual",
         "--db", str(db), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"service on http://127.0.0.1:{port}" in line, line
        end = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2.0)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < end, proc.stderr.read()
                time.sleep(0.1)
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
