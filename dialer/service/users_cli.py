"""``trunkline users add|passwd|list|disable|enable|assign|unassign``: the service's users,
from the shell.

The users live in the campaign database (``--db``, alias ``--store``; default
``$TRUNKLINE_DIALER_DB`` or ``trunkline-dialer.sqlite``, as ``trunkline dialer run``
finds it). A password is read from standard input when it is not a terminal (one line:
``printf '%s\\n' "$PW" | trunkline users add li --role agent``), else asked twice
without echo. Every change is written to the audit log as done by ``cli:<os user>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from typing import TextIO

from trunkline.dialer.runner.cli import DEFAULT_DB
from trunkline.dialer.store import ROLES, Assignment, Store, StoreError
from trunkline.dialer.store.users import check_role, check_user_name
from trunkline.errors import ConfigError


def register_users_command(subparsers: argparse._SubParsersAction) -> None:
    """Add ``trunkline users`` to the main program's sub-parsers."""
    users = subparsers.add_parser(
        "users", help="the dialer service's users: add, passwd, list, disable, assign",
        description=(
            "Manage who may log in to the dialer service (trunkline dialer serve): agents, "
            "supervisors and admins. Passwords are stored as argon2id hashes; users are "
            "never deleted (the audit log names them), only disabled."))
    users.set_defaults(handler=lambda args: (users.print_help(), 2)[1])
    sub = users.add_subparsers(dest="users_command", metavar="SUBCOMMAND")

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", "--store", dest="db", metavar="FILE",
                            default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                            help="the campaign database (default $TRUNKLINE_DIALER_DB or "
                                 f"{DEFAULT_DB})")

    add = sub.add_parser(
        "add", help="add a user",
        description="Add a user with a role. The password is read from standard input "
                    "when it is not a terminal, else asked twice.",
        epilog="Example: printf '%s\\n' \"$PW\" | trunkline users add li --role agent")
    add.add_argument("name", help="the login name (letters, digits, . _ - @)")
    add.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    common(add)
    add.set_defaults(handler=run_add)
    passwd = sub.add_parser("passwd", help="set a user's password",
                            description="Set a new password (read as for 'users add').")
    passwd.add_argument("name")
    common(passwd)
    passwd.set_defaults(handler=run_passwd)
    listing = sub.add_parser("list", help="list the users",
                             description="List the users: name, role, state, last change.")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    common(listing)
    listing.set_defaults(handler=run_list)
    for name, verb in (("disable", "disable"), ("enable", "enable again")):
        cmd = sub.add_parser(name, help=f"{verb} a user",
                             description=f"{verb.capitalize()} a user. A disabled user "
                                         "cannot log in; its open sessions end at their "
                                         "next request.")
        cmd.add_argument("name")
        common(cmd)
        cmd.set_defaults(handler=run_disable if name == "disable" else run_enable)
    assign = sub.add_parser(
        "assign", help="let a user log in to a campaign at the desk",
        description="Let NAME log in to CAMPAIGN at the desk, at --level (high agents get "
                    "the campaign's calls first; overflow agents only when its own cannot). "
                    "Assigning again changes the level. An agent's desk login to a "
                    "campaign not assigned is refused.",
        epilog="Example: trunkline users assign li loans --level high")
    assign.add_argument("name")
    assign.add_argument("campaign")
    assign.add_argument("--level", type=_level, default="standard", metavar="LEVEL",
                        help="high, standard or overflow (or 1, 2, 3; default standard)")
    common(assign)
    assign.set_defaults(handler=run_assign)
    unassign = sub.add_parser("unassign", help="take a campaign from a user",
                              description="NAME may no longer log in to CAMPAIGN (a desk "
                                          "login already made stands until logout).")
    unassign.add_argument("name")
    unassign.add_argument("campaign")
    common(unassign)
    unassign.set_defaults(handler=run_unassign)


def _level(text: str) -> str:
    """A level by name, or by its rank (1 high, 2 standard, 3 overflow)."""
    from trunkline.dialer.store.assignments import LEVELS

    by_rank = {str(i): level for i, level in enumerate(LEVELS, 1)}
    level = by_rank.get(text, text)
    if level not in LEVELS:
        raise argparse.ArgumentTypeError(f"unknown level {text!r} (levels: "
                                         f"{', '.join(LEVELS)}, or 1-3)")
    return level


def read_password(name: str, stdin: TextIO | None = None) -> str:
    """The new password for ``name``: one line of standard input when it is not a
    terminal, else asked twice without echo (they must match)."""
    from trunkline.dialer.service.passwords import check_password

    stream = stdin if stdin is not None else sys.stdin
    if not stream.isatty():
        password = stream.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ; nothing was changed")
    return check_password(password, user=name)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run_add(args: argparse.Namespace) -> int:
    from trunkline.dialer.service.passwords import hash_password

    name, role = check_user_name(args.name), check_role(args.role)
    with Store(args.db) as store:
        if store.find_user(name) is not None:  # before asking for a password
            raise StoreError(f"user {name!r} already exists (use 'trunkline users passwd' "
                             "to change the password)")
        password_hash = hash_password(read_password(name))
        now = time.time()
        with store.transaction():
            store.add_user(name, role, password_hash, now=now)
            store.audit("user.add", now=now, user=_actor(), target=name,
                        details={"role": role})
    print(f"added {role} {name}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    from trunkline.dialer.service.passwords import hash_password

    with Store(args.db) as store:
        store.get_user(args.name)
        password_hash = hash_password(read_password(args.name))
        now = time.time()
        with store.transaction():
            store.set_password_hash(args.name, password_hash, now=now)
            store.audit("user.passwd", now=now, user=_actor(), target=args.name)
    print(f"password of {args.name} changed")
    return 0


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            store.set_disabled(args.name, disabled, now=now)
            store.audit("user.disable" if disabled else "user.enable", now=now,
                        user=_actor(), target=args.name)
    print(f"{args.name} {'disabled' if disabled else 'enabled'}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def run_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def run_assign(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            store.assign(args.name, args.campaign, args.level, now=now)
            store.audit("user.assign", now=now, user=_actor(), target=args.name,
                        details={"campaign": args.campaign, "level": args.level,
                                 "result": "ok"})
    print(f"{args.name} may log in to {args.campaign} ({args.level})")
    return 0


def run_unassign(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            removed = store.unassign(args.name, args.campaign)
            store.audit("user.unassign", now=now, user=_actor(), target=args.name,
                        details={"campaign": args.campaign,
                                 "result": "ok" if removed else "not assigned"})
    if not removed:
        raise StoreError(f"campaign {args.campaign!r} is not assigned to {args.name}")
    print(f"{args.name} may no longer log in to {args.campaign}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        users = store.users()
        assigned: dict[str, list[Assignment]] = {}
        for a in store.assignments():
            assigned.setdefault(a.user, []).append(a)
    if args.json:
        print(json.dumps([{"name": u.name, "role": u.role, "disabled": u.disabled,
                           "created_at": u.created_at, "changed_at": u.changed_at,
                           "campaigns": [{"campaign": a.campaign, "level": a.level}
                                         for a in assigned.get(u.name, [])]}
                          for u in users]))
        return 0
    if not users:
        print("no users (add one: trunkline users add NAME --role admin)")
        return 0
    width = max(len(u.name) for u in users)
    for u in users:
        changed = time.strftime("%Y-%m-%d %H:%M", time.localtime(u.changed_at))
        state = "disabled" if u.disabled else "enabled"
        where = ", ".join(a.campaign if a.level == "standard" else f"{a.campaign} ({a.level})"
                          for a in assigned.get(u.name, [])) or "-"
        print(f"{u.name:<{width}}  {u.role:<10}  {state:<8}  changed {changed}  "
              f"campaigns {where}")
    return 0
