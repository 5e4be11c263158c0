"""``trunkline dialer webhooks ...`` and ``trunkline dialer tokens ...``: what an admin
configures for machine clients, from the shell (the same as the API's admin routes).

Every change is in the audit log as done by ``cli:<os user>``. A webhook's secret and a
token are printed once, when made; the store keeps the secret (it signs with it) but
only a SHA-256 of a token.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from trunkline.cli_numbers import positive, whole
from trunkline.dialer.runner.cli import DEFAULT_DB
from trunkline.dialer.store import Store, StoreError
from trunkline.dialer.store.webhooks import EVENT_KINDS


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", "--store", dest="db", metavar="FILE",
                        default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                        help=f"the campaign database (default $TRUNKLINE_DIALER_DB or "
                             f"{DEFAULT_DB})")


def _actor() -> str:
    from trunkline.dialer.service.users_cli import _actor as actor

    return actor()


def register_machine_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``webhooks`` and ``tokens`` to the ``dialer`` sub-parser."""
    hooks = sub.add_parser(
        "webhooks", help="webhooks: dispositions and call results sent to another system",
        description="Send each disposition and/or call result, as signed JSON, to a URL "
                    "(a collection system, a CRM). The dialer service posts them from a "
                    "durable outbox, retrying with backoff for about a day; 'send' posts "
                    "what is due once, without the service.",
        epilog="Receivers check X-Trunkline-Signature: sha256=HMAC-SHA256(secret, "
               "X-Trunkline-Timestamp + '.' + body) (docs/machine-clients.md).")
    hooks.set_defaults(handler=lambda args: (hooks.print_help(), 2)[1])
    hsub = hooks.add_subparsers(dest="webhooks_command", metavar="ACTION")
    add = hsub.add_parser("add", help="add a webhook (prints its secret once)")
    add.add_argument("name")
    add.add_argument("url", help="http:// or https:// URL to POST to")
    add.add_argument("--events", default=",".join(EVENT_KINDS),
                     help=f"comma-separated: {', '.join(EVENT_KINDS)} (default: both)")
    add.add_argument("--secret-env", metavar="VAR",
                     help="take the signing secret from this environment variable "
                          "(default: a new random one, printed)")
    _db(add)
    add.set_defaults(handler=run_webhook_add)
    listing = hsub.add_parser("list", help="list webhooks")
    listing.add_argument("--json", action="store_true")
    _db(listing)
    listing.set_defaults(handler=run_webhook_list)
    for name in ("enable", "disable"):
        p = hsub.add_parser(name, help=f"{name} a webhook (pending deliveries wait)")
        p.add_argument("name")
        _db(p)
        p.set_defaults(handler=run_webhook_enable, enabled=name == "enable")
    log = hsub.add_parser("deliveries", help="the delivery log, newest first")
    log.add_argument("--webhook")
    log.add_argument("--state", choices=["pending", "delivered", "failed"])
    log.add_argument("--limit", type=whole(1, 100_000), default=20)
    log.add_argument("--json", action="store_true")
    _db(log)
    log.set_defaults(handler=run_webhook_deliveries)
    again = hsub.add_parser("redeliver", help="send a delivery again")
    again.add_argument("delivery", type=whole(1))
    _db(again)
    again.set_defaults(handler=run_webhook_redeliver)
    send = hsub.add_parser("send", help="post what is due now, once (no service needed)")
    _db(send)
    send.set_defaults(handler=run_webhook_send)

    tokens = sub.add_parser(
        "tokens", help="API tokens for machine clients",
        description="A token lets a program call the dialer service's API with "
                    "'Authorization: Bearer TOKEN' as USER, with ROLE (no higher than "
                    "the user's). It is printed once; only its SHA-256 is stored.")
    tokens.set_defaults(handler=lambda args: (tokens.print_help(), 2)[1])
    tsub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION")
    tadd = tsub.add_parser("add", help="make a token (printed once)")
    tadd.add_argument("name")
    tadd.add_argument("--user", required=True, help="the user the token acts as")
    tadd.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
    tadd.add_argument("--days", type=positive, help="expires after this many days")
    _db(tadd)
    tadd.set_defaults(handler=run_token_add)
    tlist = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    tlist.add_argument("--json", action="store_true")
    _db(tlist)
    tlist.set_defaults(handler=run_token_list)
    revoke = tsub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("name")
    _db(revoke)
    revoke.set_defaults(handler=run_token_revoke)


def run_webhook_add(args: argparse.Namespace) -> int:
    secret = None
    if args.secret_env:
        secret = os.environ.get(args.secret_env)
        if not secret:
            raise StoreError(f"the environment variable {args.secret_env} is not set")
    events = [e.strip() for e in args.events.split(",") if e.strip()]
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            hook, secret = store.add_webhook(args.name, args.url, events, now=now,
                                             secret=secret, created_by=_actor())
            store.audit("webhook.add", now=now, user=_actor(), target=hook.name,
                        details={"url": hook.url, "events": list(hook.events)})
    print(f"webhook {hook.name!r} -> {hook.url} ({', '.join(hook.events)})")
    if not args.secret_env:
        print(f"secret (shown once): {secret}")
    return 0


def run_webhook_list(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        hooks = store.webhooks()
    if args.json:
        print(json.dumps([h.to_dict() for h in hooks], indent=2))
    else:
        for h in hooks:
            state = "enabled" if h.enabled else "disabled"
            print(f"{h.name}\t{state}\t{','.join(h.events)}\t{h.url}")
    return 0


def run_webhook_enable(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            store.set_webhook_enabled(args.name, args.enabled, now=now)
            store.audit("webhook.enable" if args.enabled else "webhook.disable", now=now,
                        user=_actor(), target=args.name)
    print(f"webhook {args.name!r} {'enabled' if args.enabled else 'disabled'}")
    return 0


def run_webhook_deliveries(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        rows = store.deliveries(webhook=args.webhook, state=args.state, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            print(f"{r['id']}\t{r['webhook']}\t{r['kind']}\t{r['state']}\t"
                  f"attempts={r['attempts']}\t{r['last_error'] or r['last_status'] or ''}")
    return 0


def run_webhook_redeliver(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            store.redeliver(args.delivery, now=now)
            store.audit("webhook.redeliver", now=now, user=_actor(),
                        target=str(args.delivery))
    print(f"delivery {args.delivery} queued again")
    return 0


def run_webhook_send(args: argparse.Namespace) -> int:
    from trunkline.dialer.webhooks.dispatcher import WebhookDispatcher

    with Store(args.db) as store, WebhookDispatcher(store) as dispatcher:
        counts = dispatcher.run_once()
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def run_token_add(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        expires = now + args.days * 86400.0 if args.days is not None else None
        with store.transaction():
            token, secret = store.create_token(args.name, user=args.user, role=args.role,
                                               now=now, created_by=_actor(),
                                               expires_at=expires)
            store.audit("token.add", now=now, user=_actor(), target=token.name,
                        details={"user": token.user, "role": token.role,
                                 "expires_at": expires})
    print(f"token {token.name!r} for {token.user} as {token.role}")
    print(f"token (shown once): {secret}")
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        tokens = store.tokens()
    if args.json:
        print(json.dumps([t.to_dict() for t in tokens], indent=2))
    else:
        for t in tokens:
            state = "revoked" if t.revoked_at else "active"
            print(f"{t.name}\t{t.user}\t{t.role}\t{state}")
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        now = time.time()
        with store.transaction():
            store.revoke_token(args.name, now=now)
            store.audit("token.revoke", now=now, user=_actor(), target=args.name)
    print(f"token {args.name!r} revoked")
    return 0
