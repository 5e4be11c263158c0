"""List import benchmark: a large CSV into a campaign, time and peak memory (issue 15,
red-team 14: a million-row list took 36 s and 934 MB, 25 times the file).

Per size it writes a list (a name, a mobile number, two more columns; one row in a
thousand bad, one in a hundred a duplicate) and imports it into a fresh database, each
run in a process of its own so that its peak resident memory is its own:

* ``baseline``: the whole-file path measured in the same run: the bytes read whole,
  decoded whole (:func:`lists.decode`), parsed into lists (:func:`lists.parse`) and
  handed to ``Store.add_list`` as a list, as the importer did before;
* ``streamed``: :func:`lists.import_file`, which reads the file a chunk and a row at a
  time and streams the rows into the store's one transaction.

Printed: seconds, peak RSS (MB), RSS over the file's size, and the ratios streamed /
baseline. On this project's 2-core machine (shared with other work), 1,000,000 rows
(36 MB): baseline 191.5 s and 881 MB (24.4 x the file), streamed 151.7 s and 27 MB
(0.8 x the file): time 0.79, memory 0.03. The time is the store's, a row at a time.

    .venv/bin/python benchmarks/bench_list_import.py               # 100k and 1M rows
    .venv/bin/python benchmarks/bench_list_import.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from trunkline.dialer.campaigns import lists
from trunkline.dialer.store import Store

how, csv_path, db_path = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
store = Store(db_path)
store.create_campaign("big", now=0.0)
t = time.perf_counter()
if how == "baseline":
    data = csv_path.read_bytes()
    text, _ = lists.decode(data)
    good, bad, headers, seen = lists.parse(text)
    store.add_list("big", csv_path.name, good, now=0.0,
                   errors=[(e.line, e.reason, ",".join(e.raw)) for e in bad])
    added = len(good)
else:
    report = lists.import_file(store, "big", csv_path, now=0.0,
                               rejected_dir=Path(db_path).parent / "rejected")
    added = report.added + report.merged
seconds = time.perf_counter() - t
store.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "rows": added}))
"""


def write_list(path: Path, rows: int, seed: int = 14) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("name,phone,city,balance\n")
        for i in range(rows):
            if i % 1000 == 999:
                fh.write(f"bad{i},12345,nowhere,0\n")
                continue
            n = rng.randrange(10**8) if i % 100 else i // 100
            fh.write(f"客户{i},138{n:08d},上海,{rng.randrange(100000)}\n")


def run(how: str, csv_path: Path, folder: Path) -> dict:
    db = folder / f"{how}.sqlite"
    out = subprocess.run([sys.executable, "-c", CHILD, how, str(csv_path), str(db)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append",
                        help="rows in the list (repeatable; default 100000 and 1000000)")
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    print(f"{'rows':>9} {'file MB':>8} | {'baseline s':>10} {'MB':>7} {'x file':>6} | "
          f"{'streamed s':>10} {'MB':>7} {'x file':>6} | {'time':>6} {'memory':>6}")
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix="tl-bench-import-") as tmp:
            folder = Path(tmp)
            csv_path = folder / "list.csv"
            write_list(csv_path, rows)
            size = csv_path.stat().st_size / 2**20
            base = run("baseline", csv_path, folder)
            streamed = run("streamed", csv_path, folder)
            print(f"{rows:>9} {size:>8.1f} | {base['seconds']:>10.1f} {base['peak_mb']:>7.0f} "
                  f"{base['peak_mb'] / size:>6.1f} | {streamed['seconds']:>10.1f} "
                  f"{streamed['peak_mb']:>7.0f} {streamed['peak_mb'] / size:>6.1f} | "
                  f"{streamed['seconds'] / base['seconds']:>6.2f} "
                  f"{streamed['peak_mb'] / base['peak_mb']:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
