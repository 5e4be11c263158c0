"""A process of Python WebRTC clients (aiortc) for ``bench_webrtc.py``.

Why a process of their own: the benchmark measures the gateway's CPU and tick; 50 aiortc
clients on the benchmark's own loop cost about as much CPU as the gateway's peers and,
on one loop, fell behind (their ICE consent checks and packets late), so the gateway was
measured against clients that could not keep up. Several of these processes share the
peers; each runs one asyncio loop for its share.

Driven by lines on stdin, answered by lines on stdout:

- ``connect CALL``: a client offers to position CALL through the gateway (``webrtc.offer``
  on its own gateway connection) and sends G.711 silence every 20 ms as a browser does;
  answer ``ok CALL`` or ``failed CALL why``;
- ``states``: ``states {"CALL": "connected", ...}`` (aiortc's connectionState of each);
- ``quit``: every peer closed, then exit.

    python benchmarks/webrtc_bench_clients.py GATEWAY_SOCKET
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "webrtc"))

from webrtc_client_kit import ClientLoop, PyBrowser, connect

from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    client = GatewayClient(argv[0]).connect()
    shared = ClientLoop()
    browsers: dict[int, PyBrowser] = {}
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "connect":
                call = int(words[1])
                try:
                    browsers[call] = connect(client, call, shared=shared, raw=True)
                    print(f"ok {call}", flush=True)
                except (RpcError, TimeoutError, OSError) as err:
                    print(f"failed {call} {type(err).__name__}: {err}", flush=True)
            elif words[0] == "states":
                states = {str(c): b.state for c, b in browsers.items()}
                print(f"states {json.dumps(states)}", flush=True)
            elif words[0] == "quit":
                break
    finally:
        for browser in browsers.values():
            with contextlib.suppress(Exception):   # a peer already gone: close the rest
                browser.close()
        shared.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
