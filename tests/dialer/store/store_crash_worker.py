"""A dialer loop run in a subprocess and killed with SIGKILL by test_store_crash.

Each step follows the runner's order: claim (commit) -> mark_dialing (commit) -> append the
number to the fake gateway's originate log (fsync) -> record the outcome (commit) -> print
the attempt id. The parent kills it at a random moment and restarts it.
"""

from __future__ import annotations

import os
import sys

from trunkline.dialer.store import InFlight, Resolution, Store


def main(db: str, gateway_log: str, start: float) -> None:
    store = Store(db)
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
            log.write(f"{claim.number} {claim.attempt}\n")
            log.flush()
            os.fsync(log.fileno())
            store.record_outcome(claim.attempt, "human", t + 0.5, window=0)
            print(f"recorded {claim.attempt} {claim.number}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
