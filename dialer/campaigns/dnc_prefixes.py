"""How broad a do-not-call prefix may be before it has to be confirmed.

A prefix entry bars every number it begins: ``+86400*`` the service numbers of one
range. One slip of the keyboard there (``+8*``, ``+86*``, ``+861*``) bars a whole country,
or every mobile in it, and the campaign silently dials nothing; nothing in the list file
looks wrong. So a prefix shorter than its country code plus :data:`MIN_NATIONAL_DIGITS`
digits is refused, naming the entry and what it would bar, unless the operator confirms
it (``--allow-broad-prefix`` on ``trunkline dialer dnc add|import``, ``allow_broad_prefix``
in ``POST /api/admin/dnc``). Removing such an entry is never refused: an entry stored
before this rule must stay removable, and ``dnc list --prefixes`` marks it ``broad``.

Why three digits after the country code: the shortest ranges operators bar on purpose
have that length: a NANP area code or toll-free code such as 800 (NANPA, "About the
NANP": area codes are 3 digits), China's 400/800 service ranges and its 3-digit mobile
network codes such as 138 (MIIT 《电信网编号计划（2017年版）》). E.164 country codes are 1
to 3 digits (ITU-T E.164 clause 6); :func:`~trunkline.dialer.campaigns.numbers.country_code`
splits them off.
"""

from __future__ import annotations

from trunkline.dialer.campaigns.numbers import country_code

#: Digits a prefix needs after its country code to be listed without confirmation.
MIN_NATIONAL_DIGITS = 3


class BroadPrefixError(ValueError):
    """A DNC prefix that would bar a whole country (or more) was given unconfirmed."""


def is_prefix(entry: str) -> bool:
    return entry.endswith("*")


def broad_prefix_reason(entry: str, *, confirm: str = "--allow-broad-prefix") -> str | None:
    """Why the prefix ``entry`` (``+digits*``) is too broad to list unconfirmed, or None
    (also for a whole number, which bars only itself); ``confirm`` names how the caller
    confirms one (a command-line flag, an API field)."""
    if not is_prefix(entry):
        return None
    digits = entry.lstrip("+").rstrip("*")
    code = country_code(digits)
    if not digits:
        bars = "every number"
    elif code is None:
        bars = f"every number of every country code beginning {digits}"
    elif len(digits) - len(code) >= MIN_NATIONAL_DIGITS:
        return None
    elif len(digits) == len(code):
        bars = f"every number of country code +{code}"
    else:
        bars = f"every number of +{code} beginning {digits[len(code):]}"
    example = f"+{code or '86'}400*"
    return (f"prefix {entry!r} would bar {bars}; a prefix needs its country code and at "
            f"least {MIN_NATIONAL_DIGITS} more digits (such as {example}); {confirm} lists "
            f"it on purpose")


def broad_prefixes(entries: list[str]) -> list[str]:
    """The entries that are prefixes too broad to list unconfirmed (for the audit log)."""
    return [e for e in entries if broad_prefix_reason(e) is not None]


def check_prefixes(entries: list[str], *, allow_broad: bool,
                   confirm: str = "allow_broad=True") -> None:
    """Raise :class:`BroadPrefixError` naming every too-broad prefix of ``entries``,
    unless ``allow_broad``; the store's last line of defence (callers parse first)."""
    if allow_broad:
        return
    reasons = [r for r in (broad_prefix_reason(e, confirm=confirm) for e in entries) if r]
    if reasons:
        raise BroadPrefixError("; ".join(reasons))
