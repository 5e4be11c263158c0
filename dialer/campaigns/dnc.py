"""Do-not-call lists and blacklists (谢绝来电 / 黑名单): import and check.

Entries live in the campaign store (:class:`~trunkline.dialer.store.Store`), global or
per campaign, as E.164 numbers or prefixes (``+86400*``). They are checked inside the
transaction that hands a contact out and again when the originate is committed
(:meth:`Store.mark_dialing`), so a number added while a campaign runs is honoured from
the next dial on, with no reload (issue 7 item 4; VICIdial's hopper checks its DNC lists
only when it loads leads, up to a minute earlier: dialer-anchors.md section 1).

Regulatory context (dialer-anchors.md section 3): the US TSR requires the national DNC
data to be no older than 31 days (16 CFR 310.4(b)(3)(iv)); China's 2018 plan requires
stopping after a refusal, which an agent records by adding the number here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from trunkline.dialer.campaigns.dnc_prefixes import broad_prefix_reason
from trunkline.dialer.campaigns.lists import ListImportError, decode
from trunkline.dialer.campaigns.numbers import REFUSAL_CODES as NUMBER_REFUSALS
from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.store import Store

KINDS = ("dnc", "blacklist", "refused")

#: Every :attr:`Refusal.code`: a number's own refusals, as a list import's, and the
#: prefixes'. A stable code beside the English reason, so the CLI (by locale or
#: ``--lang``) and the admin page say it in the operator's language, as they say a
#: list's refused rows (``refusal_words``; console-strings.js ``adm.dnc.refusal.*``).
DNC_REFUSAL_CODES: dict[str, str] = {
    **NUMBER_REFUSALS,
    "prefix_form": "a prefix is + and digits, then *",
    "prefix_broad": "a prefix broader than a country code and 3 digits, not confirmed",
    "prefix_in_check": "a prefix given to a check, which takes whole numbers",
}


class Refusal(NamedTuple):
    """An entry refused: its ``line`` (of a file, or its place among the arguments),
    ``reason`` in English (naming the entry and what to do), ``code`` one of
    :data:`DNC_REFUSAL_CODES`."""

    line: int
    reason: str
    code: str


@dataclass(slots=True)
class DncImport:
    added: int = 0
    already: int = 0
    errors: list[Refusal] = field(default_factory=list)


def parse_entries(lines: Iterable[str], *, default_country: str = "86",
                  header: bool = False, allow_broad: bool = False,
                  confirm: str = "--allow-broad-prefix"
                  ) -> tuple[list[str], list[Refusal]]:
    """Numbers (E.164) and prefixes (``+86400*``) from text lines; ``#`` starts a comment.

    Without ``allow_broad``, a prefix shorter than a country code and three digits is
    refused as a line of its own (:mod:`~trunkline.dialer.campaigns.dnc_prefixes`; the
    reason names ``confirm``); callers that remove or check entries pass ``allow_broad``,
    so an entry stored before the rule stays removable.

    The first field of a CSV line is taken. With ``header`` (a file), a first line
    without digits is a header and skipped; without it (numbers typed as arguments),
    such a line is refused as any other: ``dnc add '*'`` and ``dnc check abc`` did
    nothing and exited 0, the first argument taken for a header.
    Returns ``(entries, [Refusal, ...])``.
    """
    entries: list[str] = []
    errors: list[Refusal] = []
    for n, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        text = text.split(",")[0].split(";")[0].split("\t")[0].strip().strip('"')
        if header and n == 1 and not any(c.isdigit() for c in text):
            continue  # a header
        if text.endswith("*"):
            digits = text[:-1].replace(" ", "").replace("-", "")
            if not digits.startswith("+") or not digits[1:].isdigit():
                errors.append(Refusal(n, f"prefix {text!r} must be + and digits, then *",
                                      "prefix_form"))
                continue
            reason = None if allow_broad else broad_prefix_reason(digits + "*",
                                                                   confirm=confirm)
            if reason is not None:
                errors.append(Refusal(n, reason, "prefix_broad"))
                continue
            entries.append(digits + "*")
            continue
        try:
            entries.append(normalise(text, default_country=default_country).e164)
        except InvalidNumber as err:
            errors.append(Refusal(n, err.reason, err.code))
    return entries, errors


#: Where an operator sees the prefix entries, named when a check is given a prefix.
PREFIX_LISTING = "trunkline dialer dnc list --prefixes"


def parse_numbers(lines: Iterable[str], *, default_country: str = "86",
                  listing: str = PREFIX_LISTING) -> tuple[list[str], list[Refusal]]:
    """Whole numbers (E.164) to check against the lists, one a line; anything else is
    refused as a line of its own, naming what is wrong.

    A check answers "would this number be dialled?", and only a whole number has an
    answer: ``dnc check '+86*'`` was taken as the text ``+86*`` and said "allowed" (no
    stored number begins with a ``*``), though a listed ``+86400*`` bars part of it and
    ``+86138*`` another. A prefix is therefore refused, pointing at ``listing`` (where
    the prefix entries are shown). An empty line is refused too: ``dnc check "$n"`` with
    ``$n`` unset checked nothing and exited 0, which a script reads as "allowed".
    Returns ``(numbers, [Refusal, ...])``.
    """
    numbers: list[str] = []
    errors: list[Refusal] = []
    for n, raw in enumerate(lines, start=1):
        entries, refused = parse_entries([raw], default_country=default_country,
                                         allow_broad=True)
        errors += [r._replace(line=n) for r in refused]
        for entry in entries:
            if entry.endswith("*"):
                errors.append(Refusal(n, f"{raw.strip()!r} is a prefix, not a number: a "
                                         f"check takes whole numbers (the prefix entries: "
                                         f"{listing})", "prefix_in_check"))
            else:
                numbers.append(entry)
        if not entries and not refused:
            errors.append(Refusal(n, f"{raw!r} holds no number (empty, or only a # "
                                     "comment)", "number_empty"))
    return numbers, errors


def read_dnc_file(path: str | Path, *, default_country: str = "86",
                  allow_broad: bool = False) -> tuple[list[str], list[Refusal]]:
    """The entries of a DNC file and its refused lines, adding nothing: a file that
    cannot be read or decoded raises :class:`ListImportError` naming it, so a caller
    given several files reads them all before adding any (``dnc import a.csv b.csv``
    with ``b.csv`` missing added ``a.csv``, then exited 1 as if nothing was taken)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:   # missing, a folder, unreadable: said, not a traceback
        raise ListImportError(f"cannot read the file: {err.strerror or err}",
                              source=str(path)) from err
    text, _ = decode(data, source=str(path))
    return parse_entries(text.splitlines(), default_country=default_country, header=True,
                         allow_broad=allow_broad)


def add_dnc_entries(store: Store, entries: list[str], errors: list[Refusal], *,
                    now: float, source: str, campaign: str | None = None,
                    kind: str = "dnc", allow_broad: bool = False) -> DncImport:
    """Add what :func:`read_dnc_file` read; ``source`` is stored with each entry."""
    if kind not in KINDS:
        raise ValueError(f"DNC kind must be one of {', '.join(KINDS)}, got {kind!r}")
    added = store.add_dnc(entries, now=now, campaign=campaign, kind=kind, source=source,
                          allow_broad=allow_broad)
    return DncImport(added=added, already=len(set(entries)) - added, errors=errors)


def import_dnc(store: Store, path: str | Path, *, now: float, campaign: str | None = None,
               kind: str = "dnc", default_country: str = "86",
               allow_broad: bool = False) -> DncImport:
    """Add every number of a file to the global list (or ``campaign``'s).

    A line that cannot be read, or a prefix broader than a country code and three digits
    without ``allow_broad``, is refused (its line number and reason in ``errors``); the
    others are added, so a rerun after the file is fixed adds only what was refused.
    """
    if kind not in KINDS:
        raise ValueError(f"DNC kind must be one of {', '.join(KINDS)}, got {kind!r}")
    entries, errors = read_dnc_file(path, default_country=default_country,
                                    allow_broad=allow_broad)
    return add_dnc_entries(store, entries, errors, now=now, source=Path(path).name,
                           campaign=campaign, kind=kind, allow_broad=allow_broad)
