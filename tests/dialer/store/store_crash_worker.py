"""A dialer loop run in a subprocess and killed with SIGKILL by test_store_crash.

Each step follows the runner's order: claim (commit) -> mark_dialing (commit) -> append the
number to the fake gateway's originate log (fsync) -> record the outcome (commit) -> print
the attempt id. The parent kills it at a random moment and restarts it.

With ``deferred`` (a fourth argument) the writes are deferred as the runner's step does
(``Store.deferred_commits``) and committed by ``flush`` before each act on them: the
originate, and the line saying the outcome is recorded.
"""

from __future__ import annotations

import os
import sys

from trunkline.dialer.store import InFlight, Resolution, Store


def main(db: str, gateway_log: str, start: float, deferred: bool = False) -> None:
    store = Store(db)
    if deferred:
        with store.deferred_commits():
            _loop(store, gateway_log, start)
    else:
        _loop(store, gateway_log, start)


def _loop(store: Store, gateway_log: str, start: float) -> None:
    def ask_gateway(item: InFlight) -> Resolution:
        # the fake gateway remembers originates but not outcomes: unknown either way
        return Resolution()

    store.reconcile(ask_gateway, start)
    print("ready", flush=True)
    t = start
    with open(gateway_log, "a") as log:
        while True:
            t += 1.0
            claim = store.claim_next("sales", t)
            if claim is None:
                print("empty", flush=True)
                return
            if not store.mark_dialing(claim.attempt, t):
                continue
            store.flush()   # durable before the originate (no-op when not deferred)
            log.write(f"{claim.number} {claim.attempt}\n")
            log.flush()
            os.fsync(log.fileno())
            store.record_outcome(claim.attempt, "human", t + 0.5, window=0)
            store.flush()   # durable before it is reported
            print(f"recorded {claim.attempt} {claim.number}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:] == ["deferred"])
