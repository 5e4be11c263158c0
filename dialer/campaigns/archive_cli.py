"""``trunkline dialer campaign archive|restore|archived|lists|remove-list``: what the admin
area's DELETE routes do (:mod:`trunkline.dialer.service.web_admin_archive`), from a shell.

A campaign is archived, never deleted (its calls, recordings and reports name it); a
list is removed from dialling, its called contacts' history kept
(:mod:`trunkline.dialer.store.archive`). Each is audited as ``cli:<user>``. The CLI sees
the database only: it refuses while calls of the campaign are in flight, but cannot
know that a service is running the campaign between calls; stop it there first (the
service's own routes refuse while it runs).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from typing import Any

from trunkline.cli_numbers import whole
from trunkline.dialer.errors import StoreError


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def register_archive_commands(csub: argparse._SubParsersAction,
                              db: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the commands to ``trunkline dialer campaign``; ``db`` adds its ``--db``."""
    arch = csub.add_parser(
        "archive", help="archive a campaign (hidden, never started; its history kept)",
        description="Archive a campaign: it leaves the service's campaign list, floor and "
                    "desk and cannot be started; its calls, recordings, QA scores and "
                    "reports stay, and its name stays taken ('restore' brings it back). "
                    "Refused while calls of it are in flight; stop it in the service first.")
    arch.add_argument("name")
    db(arch)
    arch.set_defaults(handler=run_archive)
    rest = csub.add_parser("restore", help="bring an archived campaign back")
    rest.add_argument("name")
    db(rest)
    rest.set_defaults(handler=run_restore)
    shown = csub.add_parser("archived", help="list the archived campaigns")
    db(shown)
    shown.set_defaults(handler=run_archived)
    lists = csub.add_parser("lists", help="a campaign's contact lists, with their ids")
    lists.add_argument("name")
    lists.add_argument("--removed", action="store_true", help="include removed lists")
    db(lists)
    lists.set_defaults(handler=run_lists)
    remove = csub.add_parser(
        "remove-list", help="stop dialling a contact list (its call history kept)",
        description="Remove list ID (see 'campaign lists'): its contacts never called and "
                    "in no other list are deleted; those called before keep their calls, "
                    "recordings and dispositions for the reports and get no more retries. "
                    "Refused while calls of its campaign are in flight.")
    remove.add_argument("list_id", type=whole(1), metavar="ID")
    db(remove)
    remove.set_defaults(handler=run_remove_list)


def _store(args: argparse.Namespace) -> Any:
    from trunkline.dialer.store import Store

    return Store(args.db)


def _refused(err: StoreError) -> int:
    print(f"trunkline: error: {err}", file=sys.stderr)   # the prefix every command uses
    return 1


def run_archive(args: argparse.Namespace) -> int:
    now = time.time()
    with _store(args) as store:
        try:
            with store.transaction():
                store.archive_campaign(args.name, now=now, by=_actor())
                store.audit("campaign.archive", now=now, user=_actor(), target=args.name)
        except StoreError as err:
            return _refused(err)
    print(f"campaign {args.name!r} archived (its calls, recordings and reports kept)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    now = time.time()
    with _store(args) as store:
        try:
            with store.transaction():
                store.restore_campaign(args.name)
                store.audit("campaign.restore", now=now, user=_actor(), target=args.name)
        except StoreError as err:
            return _refused(err)
    print(f"campaign {args.name!r} restored")
    return 0


def run_archived(args: argparse.Namespace) -> int:
    with _store(args) as store:
        rows = store.archived_campaigns()
    for row in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(row["archived_at"])))
        print(f"{row['name']:<24} {when}  {row['archived_by'] or ''}")
    return 0


def run_lists(args: argparse.Namespace) -> int:
    with _store(args) as store:
        try:
            cid = store.campaign_id(args.name)
        except StoreError as err:
            return _refused(err)
        rows = store.query(
            "SELECT id, name, rows_total, rows_ok, rows_bad, removed_at FROM list "
            "WHERE campaign_id=? AND (? OR removed_at IS NULL) ORDER BY imported_at, id",
            (cid, args.removed))
    print(f"{'id':>5} {'list':<28} {'rows':>7} {'added':>7} {'refused':>7}")
    for lid, name, total, ok, bad, removed in rows:
        print(f"{lid:>5} {name:<28} {total:>7} {ok:>7} {bad:>7}"
              + ("  removed" if removed is not None else ""))
    return 0


def run_remove_list(args: argparse.Namespace) -> int:
    now = time.time()
    with _store(args) as store:
        try:
            with store.transaction():
                done = store.remove_list(args.list_id, now=now, by=_actor())
                store.audit("list.remove", now=now, user=_actor(), target=done.campaign,
                            details={"list_id": done.list_id, "deleted": done.deleted,
                                     "closed": done.closed, "kept": done.kept})
        except StoreError as err:
            return _refused(err)
    print(f"list {done.list_id} of {done.campaign!r} removed: {done.deleted} contacts never "
          f"called deleted, {done.closed} called before closed (history kept), "
          f"{done.kept} in another list kept")
    return 0
