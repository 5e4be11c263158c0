"""The gateway on the real DAHDI backend path, end to end (issue 14, item 2).

``trunkline dahdi-sim -- ...`` starts one simulated kernel and runs a shell under the
interposer: ``trunkline gateway serve --card dahdi`` (not ``dahdi:sim``) opens
``/dev/dahdi/*`` and makes exactly the system calls it makes on a real board, and a
client (``trunkline gw``, another process under the same kernel) lists the spans and
places a PRI call to the simulated exchange behind TE4/0/2, which answers; the gateway
then stops on SIGTERM with status 0. The sample board's spans 3 and 4 have no channels
configured: the gateway must serve the others (it once died on them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 240  # a hung gateway fails the test instead of the run (not a timing check)
SCRIPT = r"""
set -u
S="$PWD/gw.sock"
$T gateway serve --card dahdi --socket "$S" > gw.log 2>&1 &
pid=$!
for i in $(seq 150); do [ -S "$S" ] && break; sleep 0.2; done
$T gw --socket "$S" spans
echo @@call@@
$T gw --socket "$S" call 13800000001 --group pri --hold 1 --timeout 90
echo "@@call-status@@ $?"
kill -TERM $pid
wait $pid
echo "@@gateway-status@@ $?"
"""


def test_gateway_serves_and_places_a_pri_call_through_the_interposer(tmp_path: Path) -> None:
    trunkline = f"{sys.executable} -m trunkline"
    env = dict(os.environ, T=trunkline)
    out = subprocess.run([sys.executable, "-m", "trunkline", "dahdi-sim", "--", "sh", "-c",
                          SCRIPT], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=TIMEOUT, check=False)
    log = (tmp_path / "gw.log").read_text() if (tmp_path / "gw.log").exists() else ""
    assert out.returncode == 0, out.stdout + out.stderr + log
    assert "@@gateway-status@@ 0" in out.stdout, out.stdout + log
    assert "@@call-status@@ 0" in out.stdout, out.stdout + log
    spans = out.stdout.split("@@call@@")[0]
    rows = {line.split()[0]: line.split() for line in spans.splitlines()
            if line.strip()[:1].isdigit()}
    assert rows["2"][1:3] == ["e1", "pri"] and rows["2"][-1] == "up"  # Q.921 with libpri
    assert rows["3"][-2:] == ["0", "-"]  # unconfigured: served, with nothing to drive
    events = [json.loads(line) for line in out.stdout.split("@@call@@")[1].splitlines()
              if line.startswith("{")]
    states = [e.get("state") for e in events if e.get("event") == "call.state"]
    assert "answered" in states, events
    hungup = events[-1]
    assert (hungup["state"], hungup["outcome"], hungup["cause"]) == ("hungup", "human", 16)
    assert "serving dahdi:" in log
