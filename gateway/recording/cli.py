"""``trunkline recordings ...``: the recording store from the command line.

``trunkline recordings`` searches the recording index, applies retention, exports,
backs up, restores, verifies and repairs (see docs/recording.md). It needs no gateway:
it opens the store (:class:`~trunkline.gateway.recording.archive.RecordingStore`) under
``--root`` directly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from trunkline.cli_numbers import positive, whole
from trunkline.errors import ConfigError


def register(subparsers: Any) -> None:
    rec = subparsers.add_parser("recordings", help="search, retain, export, back up and "
                                                   "restore call recordings")
    rec.add_argument("--root", type=Path, help="recording store (default: "
                                               "$TRUNKLINE_RECORDINGS or ~/.local/state/...)")
    rsub = rec.add_subparsers(dest="rec_command", metavar="ACTION")
    search = rsub.add_parser("search", help="find recordings in the index")
    for key in ("campaign", "agent-id", "agent-name", "customer", "outcome", "state"):
        search.add_argument(f"--{key}")
    search.add_argument("--call", type=whole())
    search.add_argument("--since", help="start time at or after (ISO date/time or epoch)")
    search.add_argument("--until", help="start time before (ISO date/time or epoch)")
    search.add_argument("--limit", type=whole(1, 10_000_000), default=100)
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=rec_search)
    purge = rsub.add_parser("purge", help="delete recordings past their retention")
    purge.add_argument("--days", type=positive, help="default retention in days")
    purge.add_argument("--rules", type=Path, help="TOML: default_days, [[rule]] campaign/days")
    purge.add_argument("--campaign-days", action="append", default=[], metavar="CAMPAIGN=DAYS")
    purge.add_argument("--dry-run", action="store_true")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(handler=rec_purge)
    outside = ("DEST must be a new or empty folder outside the recordings root (links "
               "followed), and must not hold the root: either is refused, naming both.")
    export = rsub.add_parser("export", help="copy matching recordings with a manifest",
                             description="Copy the matching recordings and a manifest.json "
                                         "(each file's SHA-256) to DEST. " + outside)
    export.add_argument("dest", type=Path)
    for key in ("campaign", "agent-id", "customer"):
        export.add_argument(f"--{key}")
    export.add_argument("--call", type=whole())
    export.set_defaults(handler=rec_export)
    backup = rsub.add_parser("backup", help="back up every recording and the index",
                             description="Copy every finished recording, a consistent "
                                         "copy of the index and a manifest.json to DEST; "
                                         "every copy is checked against its SHA-256. "
                                         + outside + " Put it on another disk.")
    backup.add_argument("dest", type=Path)
    backup.set_defaults(handler=rec_backup)
    restore = rsub.add_parser("restore", help="restore a backup (checksums verified first)")
    restore.add_argument("src", type=Path)
    restore.set_defaults(handler=rec_restore)
    verify = rsub.add_parser("verify", help="check every finished recording's checksum")
    verify.set_defaults(handler=rec_verify)
    repair = rsub.add_parser("repair", help="repair recordings interrupted by a crash")
    repair.set_defaults(handler=rec_repair)


# -- the actions ------------------------------------------------------------------------

def _store(args: argparse.Namespace) -> Any:
    from trunkline.gateway.recording.archive import RecordingStore

    return RecordingStore(args.root)


def _when(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ConfigError(f"--{name} {text!r}: expected an ISO date/time or epoch "
                          "seconds") from None


def rec_search(args: argparse.Namespace) -> int:
    rows = _store(args).index.search(
        limit=args.limit, campaign=args.campaign, agent_id=args.agent_id,
        agent_name=args.agent_name, customer=args.customer, outcome=args.outcome,
        state=args.state, call_id=args.call, since=_when(args.since, "since"),
        until=_when(args.until, "until"))
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    for row in rows:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["started"]))
        print(f"{started}  call {row['call_id']!s:>6}  {row['duration'] or 0:8.1f}s  "
              f"{row['state']:<9} {row['campaign'] or '-':<12} {row['agent_id'] or '-':<8} "
              f"{row['customer'] or '-':<14} {row['outcome'] or '-':<10} {row['path']}")
    print(f"{len(rows)} recording(s)", file=sys.stderr)
    return 0


def rec_purge(args: argparse.Namespace) -> int:
    from trunkline.gateway.recording.archive import RetentionRule, check_rules, load_rules

    rules = load_rules(args.rules) if args.rules else []
    if args.days is not None:
        rules.append(RetentionRule(args.days))
    for item in args.campaign_days:
        name, _, days = item.partition("=")
        try:
            if not name.strip():
                raise ValueError(name)
            rules.append(RetentionRule(float(days), name))
        except ValueError:
            raise ConfigError(f"--campaign-days {item!r}: expected CAMPAIGN=DAYS") from None
    if not rules:
        raise ConfigError("recordings purge needs --days, --campaign-days or --rules")
    check_rules(rules)     # --days beside a file's default_days: which one? Refused
    deleted = _store(args).purge(rules, dry_run=args.dry_run)
    for entry in deleted:
        print(json.dumps(entry) if args.json else
              f"{'would delete' if args.dry_run else 'deleted'} {entry['path']} ({entry['rule']})")
    print(f"{len(deleted)} recording(s) {'expired' if args.dry_run else 'deleted'}",
          file=sys.stderr)
    return 0


def rec_export(args: argparse.Namespace) -> int:
    store = _store(args)
    rows = store.index.search(limit=10_000_000, campaign=args.campaign,
                              agent_id=args.agent_id, customer=args.customer,
                              call_id=args.call)
    print(json.dumps(store.export(args.dest, rows)))
    return 0


def rec_backup(args: argparse.Namespace) -> int:
    print(json.dumps(_store(args).backup(args.dest)))
    return 0


def rec_restore(args: argparse.Namespace) -> int:
    print(json.dumps(_store(args).restore(args.src)))
    return 0


def rec_verify(args: argparse.Namespace) -> int:
    bad = _store(args).verify()
    for row in bad:
        print(f"{row['problem']}: {row['path']}")
    print(f"{len(bad)} problem(s)", file=sys.stderr)
    return 1 if bad else 0


def rec_repair(args: argparse.Namespace) -> int:
    for entry in _store(args).recover():
        print(json.dumps(entry))
    return 0
