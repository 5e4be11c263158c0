"""``trunkline dialer campaign|import|watch|dnc|report``: campaign operations.

Registered into the one ``dialer`` sub-parser by :func:`register_campaign_commands`
(called from :func:`trunkline.dialer.cli.register`). Every command takes ``--db`` (default:
``$TRUNKLINE_DIALER_DB`` or ``trunkline-dialer.sqlite`` in the working directory).
Handlers read the wall clock once, here at the edge; everything below takes ``now``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from trunkline.cli_numbers import positive
from trunkline.dialer.campaigns import exit_status
from trunkline.errors import ConfigError

if TYPE_CHECKING:
    from trunkline.dialer.store import Store
    from trunkline.tomlconf import TomlDocument

DEFAULT_DB = "trunkline-dialer.sqlite"


def _db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE",
                        default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                        help="the campaign database (SQLite; default $TRUNKLINE_DIALER_DB "
                             f"or {DEFAULT_DB})")


def _open(args: argparse.Namespace):
    from trunkline.dialer.store import Store

    return Store(args.db)


def register_campaign_commands(sub: argparse._SubParsersAction) -> None:
    """Add the campaign-operations subcommands to ``trunkline dialer``."""
    campaign = sub.add_parser("campaign", help="define and list campaigns",
                              description="Define campaigns and their strategies.")
    csub = campaign.add_subparsers(dest="campaign_command", metavar="ACTION")
    campaign.set_defaults(handler=lambda args: (campaign.print_help(), 2)[1])
    create = csub.add_parser(
        "create", help="create or update a campaign",
        description="Create a campaign, or update its strategy and settings. The file is "
                    "TOML with a [strategy] table (retries, windows, limits) and a [campaign] "
                    "table (mode, target_abandon, regime, ring_timeout, machine_message... "
                    "see docs/campaigns.md), and for campaigns worked at the agent desk a "
                    "[desk] table (dispositions and their fields, script, max_wrap_up: "
                    "docs/agent-desk.md), and a [qa] table with [[qa.item]] entries (the "
                    "QA form reviewers score its recorded calls against: "
                    "docs/quality-and-reports.md); settings are checked before anything is "
                    "saved: an unknown key or a bad value is refused naming the file, its "
                    "line, the table and the key, and what is expected.")
    create.add_argument("name", help="the campaign's name: 1 to 200 characters, no spaces "
                        "around it, no control characters, no / or \\")
    create.add_argument("--strategy", metavar="FILE.toml", help="strategy file (TOML)")
    _db(create)
    create.set_defaults(handler=run_campaign_create)
    show = csub.add_parser("list", help="list campaigns and their contact counts")
    _db(show)
    show.set_defaults(handler=run_campaign_list)
    from trunkline.dialer.campaigns.archive_cli import register_archive_commands

    register_archive_commands(csub, _db)

    pause = sub.add_parser(
        "pause-codes", help="the site's pause codes (agents' not-ready reasons)",
        description="Show the site's pause codes, or replace them from a TOML file of "
                    "[[pause_code]] entries (code, label, limit in seconds: a longer "
                    "pause is flagged to supervisors). See docs/agent-desk.md.")
    pause.add_argument("--set", metavar="FILE.toml", help="replace them from FILE")
    _db(pause)
    pause.set_defaults(handler=run_pause_codes)

    imp = sub.add_parser(
        "import", help="import a CSV list into a campaign",
        description="Import a CSV list: numbers are normalised (E.164, Chinese mobile and "
                    "fixed lines), duplicates merged, other columns kept (two columns "
                    "of one name as NAME and 'NAME (2)', a blank one as column_N); bad "
                    "rows are "
                    "reported with their line and written to FILE.rejected.csv. The same "
                    "file twice into one campaign is refused, naming its list, unless "
                    "its first import refused rows (a retry with a corrected option).",
        epilog="Example: trunkline dialer import --campaign sales customers.csv. "
               + exit_status.EPILOG + " So a job that accepts refused rows: ... || "
               "[ $? -eq 3 ]")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--campaign", required=True)
    imp.add_argument("--encoding", help="force the encoding (default: UTF-8 or GB18030)")
    imp.add_argument("--number-column", metavar="NAME", help="the column holding the number")
    imp.add_argument("--default-area", metavar="CODE",
                     help="area code for local numbers without one (e.g. 21)")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    _lang(imp)
    _db(imp)
    imp.set_defaults(handler=run_import)

    watch = sub.add_parser(
        "watch", help="import lists dropped in a watched folder",
        description="Import ROOT/<campaign>/*.csv (any case: .CSV too) as files appear; "
                    "processed files are moved to ROOT/<campaign>/archive/ with their "
                    "rejected rows beside. A file that cannot be imported at all (no "
                    "number column, not text) is moved there as NAME.<time>.failed.csv "
                    "with the reason in NAME.<time>.error.txt, and said on stderr; a "
                    "folder named for no campaign is said once.")
    watch.add_argument("root", metavar="ROOT")
    watch.add_argument("--once", action="store_true",
                       help="one pass, then exit with the imports' status: 0 every file "
                            "of the pass taken whole (or none ready), 3 taken but rows "
                            "refused, 1 a file or a folder that could not be imported "
                            "(said on stderr; a cron job's pass is read as 'dialer "
                            "import' is)")
    watch.add_argument("--interval", type=positive, default=10.0, metavar="S",
                       help="seconds between passes over ROOT (default 10; a number > 0); "
                            "a file is imported on the first pass once it has not "
                            "changed for 5 s (a host still writing it is left alone)")
    _lang(watch)
    _db(watch)
    watch.set_defaults(handler=run_watch)

    dnc = sub.add_parser("dnc", help="do-not-call lists and blacklists",
                         description="Global or per-campaign DNC lists, checked at dial time.")
    dsub = dnc.add_subparsers(dest="dnc_command", metavar="ACTION")
    dnc.set_defaults(handler=lambda args: (dnc.print_help(), 2)[1])
    broad_note = ("A prefix (+digits*) needs its country code and at least 3 more digits "
                  "(+86400*, +1800*); a broader one (+8*, +86*, +861*) bars a whole country "
                  "and is refused unless --allow-broad-prefix confirms it.")
    epilogs = {
        "add": broad_note + " An argument refused is said as 'argument N: REASON [CODE]' "
               "(the others are added). " + exit_status.EPILOG,
        "remove": "An argument that is not a number or +prefix* is said as 'argument N: "
                  "REASON [CODE]' and the others are removed (exit status 3); an entry "
                  "not listed is not an error (N removed counts what was). "
                  + exit_status.EPILOG,
        "import": broad_note + " One number or prefix a line (the first field of a CSV "
                  "line; a first line without digits is a header). Refused lines are said "
                  "as FILE:LINE: field 1 (number): REASON [CODE]; the other lines are "
                  "added, so a rerun after the fix adds only those. "
                  + exit_status.EPILOG,
        "check": "Whole numbers only: a prefix (+86*) is refused, since no one answer "
                 "holds for every number it begins ('dnc list --prefixes' shows the "
                 "prefix entries), and so is an empty argument or one that is not a "
                 "number, each said as 'argument N: REASON'. An unknown --campaign is "
                 "an error, not a check of the global list. Exit status: 0 every number "
                 "allowed, 1 one is barred, 2 no answer for one (it could not be read as "
                 "a number, or the check could not be made: an unknown --campaign, a "
                 "database that cannot be opened)",
        "list": "Prefixes first; a prefix broader than a country code and 3 digits is "
                "marked 'broad' (perhaps a typo stored before such prefixes needed "
                "--allow-broad-prefix: check it, and `dnc remove` it if so)."}
    for name, helptext in (("add", "add numbers (or +prefix*)"), ("remove", "remove numbers"),
                           ("import", "add every number of a file"),
                           ("check", "is a number barred?"),
                           ("list", "show the entries (numbers and prefixes)")):
        p = dsub.add_parser(name, help=helptext, epilog=epilogs.get(name))
        if name != "list":
            p.add_argument("items", nargs="+",
                           metavar="FILE" if name == "import" else "NUMBER")
        p.add_argument("--campaign", help="the campaign's own list (default: global; "
                       "an unknown campaign is an error)" if name != "list" else
                       "only the entries that apply to this campaign (its own and the "
                       "global list)")
        if name in ("add", "import"):
            p.add_argument("--kind", default="dnc", choices=["dnc", "blacklist", "refused"])
            p.add_argument("--allow-broad-prefix", action="store_true",
                           help="accept prefixes shorter than a country code and 3 digits "
                                "(they bar a whole country or more)")
        if name == "list":
            p.add_argument("--prefixes", action="store_true", help="prefix entries only")
            p.add_argument("--json", action="store_true", help="one JSON object a line")
        else:
            p.add_argument(
                "--lang", choices=["en", "zh-CN"],
                help="the language of the refusals and counts (default: the locale, "
                     "LC_ALL, LC_MESSAGES or LANG: any zh reads zh-CN, anything else "
                     "en); each refusal's [CODE] stays the same"
                     + ("; the check's answers (allowed, or the list that bars the "
                        "number) are never translated" if name == "check" else ""))
        _db(p)
        p.set_defaults(handler=run_dnc, dnc_action=name)

    rep = sub.add_parser(
        "report", help="campaign, agent and hour reports",
        description="Per campaign, agent or local hour: dials, answers, connects, connect "
                    "rate (接通率), outcomes by kind, abandons and abandon rate (campaign "
                    "rows: also the rate in the current regulated window), average talk "
                    "and wrap-up, logged-in hours and occupancy, list penetration.",
        epilog="Occupancy = (talk + wrap-up) / logged-in time, from the agent sessions "
               "the runner records (login to logout; a paused agent counts as logged "
               "in). --by state: time per agent, state and pause reason from the agent "
               "desk's state log (agent rows carry paused_h); --by disposition: the "
               "dispositions agents saved, per campaign and code; --by sms: the SMS "
               "dispositions sent, per campaign, by state. An agent logged in to "
               "several campaigns has each hour shared between them by its talk + "
               "wrap-up in each. '-' (None in JSON) means no session data, not 0. The "
               "table shows the main columns; CSV and JSON carry all of them "
               "(n_<outcome>, answer_rate, contacts...).")
    rep.add_argument("--campaign")
    rep.add_argument("--by", choices=["campaign", "agent", "hour", "state", "disposition",
                                      "sms", "call"],
                     default="campaign",
                     help="call: one row per live answer with its two delays to the agent "
                          "(answer_to_agent_s, Ofcom's measure; greeting_to_agent_s, the "
                          "TSR's), by the answer's time")
    rep.add_argument("--format", choices=["table", "csv", "json"], default="table")
    rep.add_argument("--since", metavar="WHEN",
                     help="calls ended and session time from WHEN (ISO 8601 date or time; "
                          "without an offset, in --time-zone)")
    rep.add_argument("--until", metavar="WHEN", help="... up to WHEN (exclusive)")
    rep.add_argument("--time-zone", default="Asia/Shanghai",
                     help="local hours for --by hour (and the hour shares of occupancy), "
                          "and --since/--until without an offset (default Asia/Shanghai)")
    rep.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    _db(rep)
    rep.set_defaults(handler=run_report)


def _known_settings() -> list[str]:
    """Every key a [campaign] table takes: the pacing engine's and the runner's."""
    import dataclasses

    from trunkline.dialer.pacing.campaign import CampaignConfig
    from trunkline.dialer.runner.settings import RUNNER_SETTINGS

    known = {f.name for f in dataclasses.fields(CampaignConfig)} - {"name"}
    return sorted(known | set(RUNNER_SETTINGS))


def _unknown_setting(doc: TomlDocument, settings: dict) -> ConfigError | None:
    """The first key of a file's [campaign] table no one takes, as one error at its line
    (``c.toml:3: [campaign] foo: unknown setting; expected one of ...``); before, the
    table's label came twice and the line was that of whichever known key the message
    happened to mention."""
    import difflib

    known = _known_settings()
    unknown = [k for k in settings if k not in known]
    if not unknown:
        return None
    key = unknown[0]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    more = f" (also unknown: {', '.join(unknown[1:])})" if unknown[1:] else ""
    return doc.error(f"[campaign] {key}: unknown setting{more}; {hint}expected one of "
                     f"{', '.join(known)} (docs/campaigns.md)", ("campaign", key))


def _check_settings(name: str, settings: dict) -> None:
    """Refuse a [campaign] table the engine or the runner would refuse at run time."""
    from trunkline.dialer.pacing.campaign import CampaignConfig
    from trunkline.dialer.runner.settings import RUNNER_SETTINGS, RunnerSettings

    engine = {k: v for k, v in settings.items() if k not in RUNNER_SETTINGS}
    known = _known_settings()
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(f"[campaign]: unknown settings {', '.join(unknown)}; known: "
                          f"{', '.join(known)}")
    CampaignConfig(name, **engine)
    runner = {k: v for k, v in settings.items() if k in RUNNER_SETTINGS}
    RunnerSettings(**runner)


def run_campaign_create(args: argparse.Namespace) -> int:
    from trunkline.dialer.campaigns.file_schema import check_campaign_file
    from trunkline.dialer.campaigns.strategies import Strategy
    from trunkline.dialer.desk.config import DeskConfig
    from trunkline.dialer.review.qaform import QaForm
    from trunkline.schema import located
    from trunkline.tomlconf import load_toml

    strategy = Strategy()
    settings: dict = {}
    desk = None
    qa = None
    if args.strategy:
        doc = load_toml(args.strategy)
        check_campaign_file(doc)  # types, by file, line and key (issue 15, red-team 12)
        try:
            try:
                strategy = Strategy.from_dict(doc.data.get("strategy", {}))
            except (ValueError, TypeError) as err:
                raise located(doc, ["strategy"], doc.data.get("strategy", {}), err) from err
            settings = dict(doc.data.get("campaign", {}))
            misspelt = _unknown_setting(doc, settings)
            if misspelt is not None:
                raise misspelt
            try:
                _check_settings(args.name, settings)
            except (ValueError, TypeError) as err:
                if isinstance(err, ConfigError) and err.source is not None:
                    raise
                raise located(doc, ["campaign"], settings, err) from err
            if "desk" in doc.data:
                desk = DeskConfig.from_dict(args.name, doc.data["desk"])
            if "qa" in doc.data:
                qa = QaForm.from_dict(doc.data["qa"])
        except (ValueError, TypeError, ConfigError) as err:
            if isinstance(err, ConfigError) and err.source is not None:
                raise  # says its file and line already
            raise ConfigError(str(err), source=args.strategy) from err
    with _open(args) as store:
        store.create_campaign(args.name, strategy, config=settings, now=time.time())
        if desk is not None:
            store.save_desk_config(args.name, desk)
        if qa is not None:
            store.save_qa_form(args.name, qa.to_dict(), now=time.time(), by="cli")
    print(f"campaign {args.name!r} saved")
    return 0


def run_pause_codes(args: argparse.Namespace) -> int:
    from trunkline.dialer.desk.config import pause_codes_from
    from trunkline.tomlconf import load_toml

    codes = None
    if args.set:
        doc = load_toml(args.set)
        try:
            unknown = sorted(set(doc.data) - {"pause_code"})
            if unknown:
                raise ValueError(f"unknown tables {', '.join(unknown)}; expected "
                                 "[[pause_code]] entries")
            codes = pause_codes_from(doc.data.get("pause_code", []))
            if not codes:
                raise ValueError("no [[pause_code]] entries: agents need at least one")
        except (ValueError, TypeError) as err:
            # "pause_code N: ..." names an entry: say its line too
            entry = re.match(r"pause_code (\d+):", str(err))
            if entry:
                raise doc.error(str(err), ("pause_code", int(entry.group(1)) - 1)) from err
            raise ConfigError(str(err), source=args.set) from err
    with _open(args) as store:
        if codes is not None:
            store.save_pause_codes(codes)
        for code in store.pause_codes():
            limit = "-" if code.limit is None else f"{code.limit:g} s"
            print(f"{code.code:<16} {limit:>9}  {code.label}")
    return 0


def run_campaign_list(args: argparse.Namespace) -> int:
    with _open(args) as store:
        rows = store.query(
            "SELECT k.name, COUNT(c.id), SUM(c.state='ready'), SUM(c.state='done'), "
            "SUM(c.state='dnc') FROM campaign k LEFT JOIN contact c ON c.campaign_id=k.id "
            "GROUP BY k.id ORDER BY k.name")
    print(f"{'campaign':<24} {'contacts':>8} {'ready':>8} {'done':>8} {'dnc':>6}")
    for name, n, ready, done, dnc in rows:
        print(f"{name:<24} {n:>8} {ready or 0:>8} {done or 0:>8} {dnc or 0:>6}")
    return 0


def _lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang", choices=["en", "zh-CN"],
        help="the language of the rejected rows' reasons (FILE.rejected.csv's _reason) "
             "and of the summary (default: the locale, LC_ALL, LC_MESSAGES or LANG: "
             "zh_CN.UTF-8 or any zh reads zh-CN, anything else en); the _code column "
             "and --json's reasons stay the same in every language")


def run_import(args: argparse.Namespace) -> int:
    from trunkline.dialer.campaigns.lists import import_file
    from trunkline.dialer.campaigns.refusal_words import cli_language, import_summary

    if Path(args.file).is_dir():
        raise ConfigError("is a folder, not a list file (a folder of lists: 'dialer "
                          "watch')", source=args.file)
    if not Path(args.file).is_file():
        raise ConfigError("no such file", source=args.file)
    lang = cli_language(args.lang, os.environ)
    with _open(args) as store:
        report = import_file(store, args.campaign, args.file, now=time.time(),
                             encoding=args.encoding, number_column=args.number_column,
                             default_area=args.default_area, refuse_if_imported=True,
                             lang=lang)
    if args.json:
        summary = report.summary()
        summary["errors"] = [{"line": e.line, "code": e.code, "reason": e.reason}
                             for e in report.errors]
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for err in report.errors:
            print(f"{args.file}:{err.line}: {err.reason_in(lang)} [{err.code}]",
                  file=sys.stderr)
        print(import_summary(rows=report.rows, added=report.added, merged=report.merged,
                             rejected=len(report.errors),
                             rejected_file=(str(report.rejected_file)
                                            if report.rejected_file else None), lang=lang))
    return exit_status.status(len(report.errors))


def run_watch(args: argparse.Namespace) -> int:
    from trunkline.dialer.campaigns.lists import watch_once
    from trunkline.dialer.campaigns.refusal_words import cli_language

    said: set[tuple[str, str]] = set()   # a folder without a campaign: said once
    with _open(args) as store:
        while True:
            reports = watch_once(store, args.root, now=time.time(),
                                 lang=cli_language(args.lang, os.environ))
            for report in reports:
                if report.failed is not None:
                    if (report.source, report.failed) in said:
                        continue
                    said.add((report.source, report.failed))
                    print(f"trunkline: warning: {report.failed}", file=sys.stderr,
                          flush=True)
                print(json.dumps(report.summary(), ensure_ascii=False), flush=True)
            if args.once:
                # one rule with 'dialer import': a pass run from cron exited 0 though a
                # file was set aside unimported or a folder named no campaign
                if any(r.failed is not None for r in reports):
                    return exit_status.FAILED
                return exit_status.status(sum(len(r.errors) for r in reports))
            time.sleep(args.interval)


def run_dnc(args: argparse.Namespace) -> int:
    if args.dnc_action != "check":
        return _run_dnc(args)
    from trunkline.errors import TrunklineError

    # A check's status 1 means "barred": a check that could not be made (an unknown
    # --campaign, a database that cannot be opened) is 2, "no answer", as a number that
    # could not be read is, so `dnc check "$n" --campaign typo` is not read as barred
    try:
        return _run_dnc(args)
    except TrunklineError as err:
        print(f"trunkline: error: {err}", file=sys.stderr)
        return 2


def _run_dnc(args: argparse.Namespace) -> int:
    from trunkline.dialer.campaigns.dnc import (
        add_dnc_entries,
        parse_entries,
        parse_numbers,
        read_dnc_file,
    )
    from trunkline.dialer.campaigns.refusal_words import (
        cli_language,
        dnc_count,
        dnc_import_summary,
        dnc_refusal_line,
    )

    lang = cli_language(getattr(args, "lang", None), os.environ)
    with _open(args) as store:
        if args.campaign:
            # said before anything is read or changed, as every other --campaign does: a
            # check against an unknown campaign checked the global list only and said
            # "allowed"; a remove said "0 removed"
            store.campaign_id(args.campaign)
        if args.dnc_action == "list":
            return _dnc_list(store, args)
        if args.dnc_action == "import":
            rejected = 0
            # every file read before any is added: one that cannot be read fails the
            # command with nothing taken (exit 1), not after the files before it
            read = [(path, *read_dnc_file(path, allow_broad=args.allow_broad_prefix))
                    for path in args.items]
            for path, entries, errors in read:
                result = add_dnc_entries(store, entries, errors, now=time.time(),
                                         source=Path(path).name, campaign=args.campaign,
                                         kind=args.kind, allow_broad=args.allow_broad_prefix)
                for refusal in result.errors:
                    print(dnc_refusal_line(refusal.line, refusal.code, refusal.reason,
                                           lang, path=path), file=sys.stderr)
                print(dnc_import_summary(path, added=result.added, already=result.already,
                                         rejected=len(result.errors), lang=lang))
                rejected += len(result.errors)
            # a refused line is a number that is NOT barred: a script must notice
            return exit_status.status(rejected)
        adding = args.dnc_action == "add"
        allow_broad = not adding or args.allow_broad_prefix  # removing one is never refused
        if args.dnc_action == "check":   # whole numbers only: a prefix has no one answer
            entries, errors = parse_numbers(args.items)
        else:
            entries, errors = parse_entries(args.items, allow_broad=allow_broad)
        for refusal in errors:
            print(dnc_refusal_line(refusal.line, refusal.code, refusal.reason, lang),
                  file=sys.stderr)
        if adding:
            n = store.add_dnc(entries, now=time.time(), campaign=args.campaign, kind=args.kind,
                              allow_broad=allow_broad)
            print(dnc_count("added", n, lang))
            return exit_status.status(len(errors))
        elif args.dnc_action == "remove":
            print(dnc_count("removed", store.remove_dnc(entries, campaign=args.campaign),
                            lang))
            # the others removed, as add adds them: 3, not the 1 of "nothing taken"
            return exit_status.status(len(errors))
        else:
            barred = False
            for number in entries:
                hit = store.dnc_hit(number, args.campaign or "")
                barred = barred or hit is not None
                print(f"{number}: {hit or 'allowed'}")
            # a number that could not be read is neither allowed nor barred: a script's
            # `dnc check "$n" && dial` must not take it for allowed
            return 2 if errors else 1 if barred else 0
    return 1 if errors else 0


def _dnc_list(store: Store, args: argparse.Namespace) -> int:
    rows = store.dnc_entries(campaign=args.campaign, prefixes_only=args.prefixes)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        shape = ("prefix, BROAD" if row["broad"] else "prefix") if row["prefix"] else "number"
        print(f"{row['entry']:<18} {shape:<14} {row['kind']:<10} {row['scope']:<16} "
              f"{row['source'] or '-'}")
    broad = sum(row["broad"] for row in rows)
    print(f"{len(rows)} entries" + (f", {broad} broad prefix(es): each bars a whole "
                                    "country or more" if broad else ""), file=sys.stderr)
    return 0


def _when(text: str | None, time_zone: str, option: str) -> float | None:
    """An ISO 8601 date or date-time as epoch seconds; naive ones are in ``time_zone``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"{option} {text!r} is not an ISO 8601 date or time "
                          "(e.g. 2025-06-04 or 2025-06-04T09:00+08:00)") from err
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(time_zone))
    return when.timestamp()


def run_report(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from trunkline.dialer.campaigns import reports

    try:
        ZoneInfo(args.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(f"--time-zone {args.time_zone!r} is not a known time zone "
                          "(an IANA name such as Asia/Shanghai)") from err
    since = _when(args.since, args.time_zone, "--since")
    until = _when(args.until, args.time_zone, "--until")
    if since is not None and until is not None and since >= until:
        # swapped, they gave "(no finished calls or agent sessions)": read as no calls
        raise ConfigError(f"--since {args.since} must be before --until {args.until}")
    with _open(args) as store:
        if args.by == "call":
            # Each call's own delays, as issue 15 item 3 asks ("both delays reported per
            # call"); the campaign rows carry only the worst of each.
            if args.campaign is not None:
                store.campaign_id(args.campaign)   # an unknown name is an error
            rows = store.agent_delays(args.campaign, since=0.0 if since is None else since,
                                      until=float("inf") if until is None else until)
        else:
            rows = reports.report(store, by=args.by, campaign=args.campaign,
                                  time_zone=args.time_zone, now=time.time(),
                                  since=0.0 if since is None else since,
                                  until=float("inf") if until is None else until)
    text = {"table": reports.to_table, "csv": reports.to_csv,
            "json": reports.to_json}[args.format](rows)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0
