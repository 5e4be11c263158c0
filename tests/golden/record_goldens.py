"""Write the golden traces anew: ``python tests/golden/record_goldens.py [NAME ...]``.

Only for a change of wire behaviour that is intended (say so in the commit): the traces
are what the reshaped gateway must reproduce exactly. Each scenario runs against the
real gateway service over its socket (golden_kit.record_socket), twice, and is written
only if both runs agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_kit import record_socket, save_golden
from scenarios import SCENARIOS


def main(names: list[str]) -> int:
    failed = 0
    for name in names or list(SCENARIOS):
        first = record_socket(SCENARIOS[name])
        second = record_socket(SCENARIOS[name])
        if first.as_json() != second.as_json():
            print(f"{name}: two runs differ; not written", file=sys.stderr)
            failed += 1
            continue
        path = save_golden(name, first)
        print(f"{name}: {len(first.events)} events, {len(first.replies)} replies -> {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
