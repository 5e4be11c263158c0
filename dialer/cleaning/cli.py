"""``trunkline dialer clean create|run|report|apply``: list cleaning (see dialer/cleaning/).

Registered into the one ``dialer`` sub-parser by :func:`register_clean_commands` (called
from :func:`trunkline.dialer.cli.register`). Every command takes ``--db`` like the other
campaign commands. Handlers read the wall clock once, here at the edge; everything below
takes ``now``. Bad input raises :class:`~trunkline.errors.ConfigError` (or the store's
errors), which the main program prints as ``trunkline: error: ...`` with exit status 1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path
from typing import Any

from trunkline import csvsafe
from trunkline.errors import ConfigError

DEFAULT_DB = "trunkline-dialer.sqlite"
#: --virtual without --hours: at most one shift of virtual time.
VIRTUAL_HOURS = 8.0


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE",
                        default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                        help="the campaign database (SQLite; default $TRUNKLINE_DIALER_DB "
                             f"or {DEFAULT_DB})")


def _settings_flags(parser: argparse.ArgumentParser, *, run: bool = False) -> None:
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="lines kept busy (default: the group's channels, at most 30)")
    parser.add_argument("--rate", type=float, metavar="CPS",
                        help="new calls per second at most (default 1: carriers flag "
                             "bursts of short calls)")
    parser.add_argument("--trunk-per-minute", type=int, metavar="N",
                        help="call attempts on the trunk (the channel group) in any minute "
                             "at most (default 60): ring-and-release bursts get a trunk "
                             "flagged by its carrier")
    parser.add_argument("--trunk-min-gap", type=float, metavar="S",
                        help="seconds between two call attempts on the trunk at least "
                             "(default 0: only --rate spaces them)")
    if run:
        return
    parser.add_argument("--retries", type=int, metavar="N",
                        help="more tries for numbers whose calls said nothing decisive "
                             "(congestion, network errors; default 2)")
    parser.add_argument("--retry-after", type=float, metavar="S",
                        help="seconds before such a try (default 600)")
    parser.add_argument("--listen", type=float, metavar="S",
                        help="seconds a call may go on with nothing decisive (default 30)")


def register_clean_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``trunkline dialer clean`` and its actions."""
    from trunkline.dialer.cleaning.verdicts import CLASSES, DEFAULT_REMOVE, REMOVABLE

    clean = sub.add_parser(
        "clean", help="list cleaning: find invalid, barred, powered-off numbers first",
        description=(
            "List cleaning (外呼数据预处理): dial a list without agents, release every call "
            "before it is answered (as soon as it rings), and classify each number from "
            "the network's answer (Q.850 cause, SIT, announcement) as "
            f"{', '.join(CLASSES)}; then remove the bad ones from the campaign that will "
            "really be dialled. See docs/list-cleaning.md."),
        epilog="Example: trunkline dialer clean create sales-clean --from-campaign sales; "
               "trunkline dialer clean run --campaign sales-clean; "
               "trunkline dialer clean apply --campaign sales-clean --to sales")
    csub = clean.add_subparsers(dest="clean_command", metavar="ACTION")
    clean.set_defaults(handler=lambda args: (clean.print_help(), 2)[1])

    create = csub.add_parser(
        "create", help="create a cleaning campaign (optionally from a campaign's contacts)",
        description=(
            "Create (or update) a cleaning campaign. --from-campaign copies that campaign's "
            "contacts (not those already on a DNC list) and its calling windows; or import "
            "a CSV into it with `trunkline dialer import --campaign NAME FILE.csv`. "
            "Released or not, a ringing phone is a call: the strategy's calling windows "
            "apply."))
    create.add_argument("name")
    create.add_argument("--from-campaign", metavar="CAMPAIGN",
                        help="copy this campaign's contacts and strategy")
    create.add_argument("--strategy", metavar="FILE.toml",
                        help="strategy file (TOML [strategy] table: windows, time zone); "
                             "a [cleaning] table may hold the settings below")
    _settings_flags(create)
    _db(create)
    create.set_defaults(handler=run_clean_create)

    run = csub.add_parser(
        "run", help="dial a cleaning campaign, releasing before answer",
        description=(
            "Dial the cleaning campaign's numbers, each once (again only when the answer "
            "said nothing decisive), keeping up to --concurrency lines busy at up to --rate "
            "new calls a second, and hang up as soon as a call rings or the network has "
            "said why it cannot be connected. A call answered before its "
            "release is an abandoned call: it hears the abandon message (--abandon-file, "
            "else --abandon-tone for 3 s), then is hung up, never silence. Every verdict "
            "is committed to the database as it comes. --virtual runs the gateway on the "
            "emulated card in this process, in virtual time."),
        epilog="Example: trunkline dialer clean run --campaign sales-clean --virtual "
               "--start 2025-06-04T10:00+08:00")
    run.add_argument("--campaign", required=True, help="the cleaning campaign")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--gateway", metavar="SOCKET",
                       help="the gateway's socket (default: the gateway's default socket)")
    where.add_argument("--virtual", action="store_true",
                       help="run an in-process gateway on the emulated card in virtual time")
    run.add_argument("--token", help="token for a TCP gateway address")
    run.add_argument("--network", metavar="PLAN.toml",
                     help="--virtual: the number plan (default: the sample network)")
    run.add_argument("--start", metavar="ISO",
                     help="--virtual: the wall-clock instant virtual time starts at "
                          "(default now), e.g. 2025-06-04T10:00+08:00")
    run.add_argument("--group", default="outbound",
                     help="the channel group calls go out on (default outbound)")
    _settings_flags(run, run=True)
    run.add_argument("--abandon-file", metavar="WAV",
                     help="the abandon message for a call answered before its release (as "
                          "`dialer run --abandon-file`): a WAV in the gateway's prompts "
                          "folder ([media] prompts) naming the caller; checked on the "
                          "gateway at start: one it could not play stops the run before "
                          "any call")
    run.add_argument("--abandon-tone", default="info", metavar="TONE",
                     help="the zone tone played for 3 s to such a call without a file "
                          "(default info; not an information message: Ofcom and the TSR "
                          "ask for a recorded one)")
    run.add_argument("--hours", type=float, metavar="H",
                     help="stop after this long (default: when every number is classified; "
                          f"at most {VIRTUAL_HOURS:g} h with --virtual)")
    run.add_argument("--progress-every", type=float, metavar="S",
                     help="seconds between progress lines (default 60 virtual, 10 live)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    _db(run)
    run.set_defaults(handler=run_clean_run)

    report = csub.add_parser(
        "report", help="numbers per class; export the numbers of some classes",
        description=(
            "Counts per class (and numbers not classified yet: pending, retrying, "
            "in_flight, blocked); with --numbers, every number with its class, the evidence "
            "(cause, SIT, announcement, ringing) and its tries, as a table, CSV or JSON."))
    report.add_argument("--campaign", required=True, help="the cleaning campaign")
    report.add_argument("--numbers", action="store_true",
                        help="list the numbers instead of counting them")
    report.add_argument("--class", dest="classes", metavar="CLASS,...",
                        help="--numbers: only these classes (e.g. invalid,barred)")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    _db(report)
    report.set_defaults(handler=run_clean_report)

    apply = csub.add_parser(
        "apply", help="remove the bad numbers from the campaign to be dialled",
        description=(
            "Put the cleaning campaign's numbers of the --remove classes on the target "
            "campaign's own DNC list (kind = the class, source = the cleaning campaign) and "
            "set the target's waiting contacts with those numbers to 'dnc', so the target "
            "never dials them, even if they are imported again. Default classes: "
            f"{','.join(DEFAULT_REMOVE)}: they describe the number itself (空号, 停机). "
            "powered_off and unreachable are usually temporary (a phone off for the night, "
            "out of coverage) and unknown means the network never said: add them only "
            f"on purpose. Removable: {', '.join(REMOVABLE)}."),
        epilog="Example: trunkline dialer clean apply --campaign sales-clean --to sales "
               "--remove invalid,barred,powered_off")
    apply.add_argument("--campaign", required=True, help="the cleaning campaign")
    apply.add_argument("--to", required=True, metavar="TARGET",
                       help="the campaign to remove the numbers from")
    apply.add_argument("--remove", metavar="CLASS,...", default=",".join(DEFAULT_REMOVE),
                       help=f"classes to remove (default {','.join(DEFAULT_REMOVE)})")
    apply.add_argument("--dry-run", action="store_true",
                       help="say what would be removed, change nothing")
    apply.add_argument("--json", action="store_true", help="print the result as JSON")
    _db(apply)
    apply.set_defaults(handler=run_clean_apply)


def _open(args: argparse.Namespace):
    from trunkline.dialer.store import Store

    return Store(args.db)


def _overrides(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The options given among ``names``, each checked on its own so that a value out of
    range is refused naming the option (``--rate 0: rate must be in [0.01, 100], got
    0.0``), not only the setting, which the user may not know came from the command line."""
    from trunkline.dialer.cleaning.settings import CleaningSettings

    given = {name: getattr(args, name, None) for name in names}
    for name, value in given.items():
        if value is not None:
            try:
                CleaningSettings(**{name: value})
            except (TypeError, ValueError) as err:
                raise ConfigError(f"--{name.replace('_', '-')} {value}: {err}") from err
    return given


# -- create ----------------------------------------------------------------------------------

def run_clean_create(args: argparse.Namespace) -> int:
    from trunkline.dialer.campaigns.strategies import Strategy
    from trunkline.dialer.cleaning.settings import (
        CleaningSettings,
        cleaning_settings,
        create_cleaning_campaign,
        is_cleaning,
    )

    strategy = None
    stored: dict[str, Any] = {}
    if args.strategy:
        from trunkline.dialer.campaigns.bounds import CLEANING
        from trunkline.dialer.campaigns.file_schema import check_campaign_file, check_ranges
        from trunkline.tomlconf import load_toml

        doc = load_toml(args.strategy)
        # types and bounds by file, line and key, as a campaign file (file_schema.py)
        check_campaign_file(doc)
        check_ranges(doc, doc.data.get("cleaning", {}), ["cleaning"], CLEANING)
        misspelt = sorted(set(doc.data.get("cleaning", {})) - _CLEANING_KEYS)
        if misspelt:
            # at the first one's line, as every other key of a campaign file is refused
            raise doc.error(f"[cleaning]: unknown settings {', '.join(misspelt)}; known: "
                            f"{', '.join(sorted(_CLEANING_KEYS))}", ["cleaning", misspelt[0]])
        try:
            if "strategy" in doc.data:
                strategy = Strategy.from_dict(doc.data["strategy"])
            stored = dict(doc.data.get("cleaning", {}))
        except (ValueError, TypeError) as err:
            raise ConfigError(str(err), source=args.strategy) from err
    flags = {k: v for k, v in _overrides(
        args, ("concurrency", "rate", "retries", "retry_after", "listen",
               "trunk_per_minute", "trunk_min_gap")).items()
        if v is not None}
    now = time.time()
    with _open(args) as store:
        base: dict[str, Any] = {}
        if args.name in store.campaigns() and is_cleaning(store, args.name):
            base = cleaning_settings(store, args.name).to_dict()
        merged = {**base, **stored, **flags}
        unknown = sorted(set(merged) - _CLEANING_KEYS)
        if unknown:
            raise ConfigError(f"[cleaning]: unknown settings {', '.join(unknown)}; known: "
                              f"{', '.join(sorted(_CLEANING_KEYS))}", source=args.strategy)
        try:
            settings = CleaningSettings(**merged)
        except (TypeError, ValueError) as err:
            raise ConfigError(str(err)) from err
        counts = create_cleaning_campaign(store, args.name, now=now,
                                          source=args.from_campaign, strategy=strategy,
                                          settings=settings)
    copied = (f"; {counts['added']} contacts copied from {args.from_campaign!r}"
              + (f" ({counts['merged']} already there)" if counts["merged"] else "")
              if args.from_campaign else "")
    print(f"cleaning campaign {args.name!r} saved{copied}")
    return 0


#: The settings a ``[cleaning]`` table (or the stored config) may hold.
_CLEANING_KEYS = frozenset({"concurrency", "rate", "retries", "retry_after", "listen",
                            "sit_wait", "trunk_per_minute", "trunk_min_gap"})


# -- run -------------------------------------------------------------------------------------

def run_clean_run(args: argparse.Namespace) -> int:
    from trunkline.dialer.cleaning.runner import CleaningRunner
    from trunkline.dialer.cleaning.settings import cleaning_settings
    from trunkline.dialer.runner.cli import (
        check_run_options,
        open_gateway,
        progress_printer,
        run_shift,
    )
    from trunkline.dialer.runner.summary import print_run

    check_run_options(args)
    with _open(args) as store:
        # checked before any gateway is opened: unknown or non-cleaning campaign, bad values
        settings = cleaning_settings(store, args.campaign,
                                     **_overrides(args, ("concurrency", "rate",
                                                         "trunk_per_minute",
                                                         "trunk_min_gap")))
        gateway = open_gateway(args, live=CleaningRunner.live_gateway)
        try:
            runner = CleaningRunner(
                store, args.campaign, gateway, group=args.group, settings=settings,
                abandon_file=args.abandon_file, abandon_tone=args.abandon_tone,
                progress=progress_printer(args),
                progress_every=args.progress_every or (60.0 if args.virtual else 10.0))
        except BaseException:
            gateway.close()
            raise
        summary = run_shift(runner, gateway, args, what="the cleaning run",
                            virtual_hours=VIRTUAL_HOURS)
    return print_run(summary, runner.gateway_errors, args.json)


# -- report ----------------------------------------------------------------------------------

def _statuses(text: str | None) -> list[str] | None:
    from trunkline.dialer.cleaning.results import PENDING_STATUSES
    from trunkline.dialer.cleaning.verdicts import CLASSES

    if text is None:
        return None
    names = [p.strip() for p in text.split(",") if p.strip()]
    known = (*CLASSES, *PENDING_STATUSES)
    for name in names:
        if name not in known:
            raise ConfigError(f"--class: unknown class {name!r}; classes: "
                              f"{', '.join(known)}")
    return names


def run_clean_report(args: argparse.Namespace) -> int:
    from trunkline.dialer.cleaning.results import class_counts, cleaned_numbers, format_time
    from trunkline.dialer.cleaning.settings import require_cleaning
    from trunkline.dialer.cleaning.verdicts import CLASSES

    statuses = _statuses(args.classes)
    if statuses is not None and not args.numbers:
        raise ConfigError("--class goes with --numbers")
    with _open(args) as store:
        require_cleaning(store, args.campaign)
        zone = store.strategy(args.campaign).time_zone
        if args.numbers:
            rows = [{"number": n.number, "class": n.status, "evidence": n.evidence or "",
                     "tries": n.tries, "cause": n.cause,
                     "last_called": format_time(n.last_at, zone), "fields": dict(n.fields)}
                    for n in cleaned_numbers(store, args.campaign, statuses=statuses)]
            text = _numbers_text(rows, args.format)
        else:
            counts = class_counts(store, args.campaign)
            text = _counts_text(args.campaign, counts, CLASSES, args.format)
    if args.output:
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"  # Excel reads Chinese
        Path(args.output).write_text(text, encoding=encoding)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _counts_text(campaign: str, counts: dict[str, int], classes: tuple[str, ...],
                 fmt: str) -> str:
    total = sum(counts.values())
    decided = sum(counts[c] for c in classes)
    if fmt == "json":
        return json.dumps({"campaign": campaign, "contacts": total, "classified": decided,
                           "classes": {c: counts[c] for c in classes},
                           "not_classified": {k: v for k, v in counts.items()
                                              if k not in classes}}, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csvsafe.writer(out, lineterminator="\n")
        writer.writerow(["class", "numbers", "share"])
        for name, n in counts.items():
            writer.writerow([name, n, f"{n / total:.4f}" if total else ""])
        return out.getvalue()
    lines = [f"cleaning campaign {campaign}: {total} numbers, {decided} classified",
             f"{'class':<12} {'numbers':>8} {'share':>8}"]
    for name, n in counts.items():
        share = f"{100 * n / total:.1f} %" if total else "-"
        lines.append(f"{name:<12} {n:>8} {share:>8}")
    return "\n".join(lines) + "\n"


def _numbers_text(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False)
    if fmt == "csv":
        extra = list(dict.fromkeys(k for r in rows for k in r["fields"]))
        base = ["number", "class", "evidence", "tries", "cause", "last_called"]
        out = io.StringIO()
        writer = csvsafe.writer(out, lineterminator="\n")
        writer.writerow(base + [k for k in extra if k not in base])
        for r in rows:
            writer.writerow([r[k] if r[k] is not None else "" for k in base]
                            + [r["fields"].get(k, "") for k in extra if k not in base])
        return out.getvalue()
    lines = [f"{'number':<16} {'class':<12} {'tries':>5}  evidence"]
    lines += [f"{r['number']:<16} {r['class']:<12} {r['tries']:>5}  {r['evidence']}"
              for r in rows]
    return "\n".join(lines) + "\n"


# -- apply -----------------------------------------------------------------------------------

def run_clean_apply(args: argparse.Namespace) -> int:
    from trunkline.dialer.cleaning.results import apply_cleaning, parse_classes

    classes = parse_classes(args.remove)  # refused before the database is touched
    with _open(args) as store:
        result = apply_cleaning(store, args.campaign, args.to, now=time.time(),
                                remove=classes, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    removed = ", ".join(f"{c} {n}" for c, n in result.removed.items())
    verb = "would remove" if args.dry_run else "removed"
    print(f"{args.campaign} -> {args.to}: {verb} {sum(result.removed.values())} numbers "
          f"({removed})")
    print(f"{result.dnc_added} new entries on {args.to}'s DNC list, "
          f"{result.contacts_blocked} waiting contacts set to dnc"
          + (f", {result.contacts_busy} being dialled now (barred at their next claim)"
             if result.contacts_busy else ""))
    return 0
