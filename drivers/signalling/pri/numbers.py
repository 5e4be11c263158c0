"""Party numbers for a Q.931 SETUP: checking them and encoding their type, plan and presentation.

Kept apart from the span so the rules can be checked (and property-tested) without
libpri: a number is refused here, with the field and the value named, before anything
reaches the D-channel. Nothing here does I/O.

Octet layout of the called party number (Q.931 4.5.8) and the calling party number
(Q.931 4.5.10): octet 3 holds the type of number (bits 7-5) and the numbering plan
identification (bits 4-1); octet 3a of the calling party number holds the presentation
indicator (bits 7-6) and the screening indicator (bits 2-1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import PriConfigError, PriNumberError

__all__ = [
    "MAX_DIGITS",
    "MAX_NAME_LENGTH",
    "NUMBERING_PLANS",
    "NUMBER_TYPES",
    "PRESENTATIONS",
    "SCREENINGS",
    "encode_plan",
    "encode_presentation",
    "validate_calling_name",
    "validate_number",
]

#: Type of number (Q.931 4.5.8 / 4.5.10, octet 3 bits 7-5).
NUMBER_TYPES: Mapping[str, int] = {
    "unknown": 0, "international": 1, "national": 2, "network_specific": 3,
    "subscriber": 4, "abbreviated": 6,
}
#: Numbering plan identification (octet 3 bits 4-1).
NUMBERING_PLANS: Mapping[str, int] = {
    "unknown": 0, "isdn": 1, "e164": 1, "data": 3, "telex": 4, "national": 8, "private": 9,
}
#: Presentation indicator (octet 3a bits 7-6) and screening indicator (bits 2-1).
PRESENTATIONS: Mapping[str, int] = {"allowed": 0x00, "restricted": 0x20, "unavailable": 0x40}
SCREENINGS: Mapping[str, int] = {
    "user_not_screened": 0, "user_passed": 1, "user_failed": 2, "network": 3,
}

#: Most digits a number may have (after a leading ``+`` is removed).
MAX_DIGITS = 32
#: Most characters (Latin-1 octets) of a calling name.
MAX_NAME_LENGTH = 50

_NUMBER = re.compile(r"[0-9*#]*")


def validate_number(value: str, *, field: str, allow_empty: bool = False) -> tuple[str, bool]:
    """Check a party number; return ``(digits, international)``.

    Digits, ``*`` and ``#`` are allowed; one leading ``+`` marks an international
    number and is removed. Raises :class:`PriNumberError` naming ``field`` and the
    value otherwise (not a string, empty unless ``allow_empty``, an illegal character,
    more than :data:`MAX_DIGITS` digits).
    """
    if not isinstance(value, str):
        raise PriNumberError(f"{field} must be a string of digits, got {value!r}")
    digits, international = value, False
    if digits.startswith("+"):
        digits, international = digits[1:], True
    if not digits and not allow_empty:
        raise PriNumberError(f"{field} {value!r} is empty")
    if not _NUMBER.fullmatch(digits):
        bad = next(ch for ch in digits if not (ch.isascii() and (ch.isdigit() or ch in "*#")))
        raise PriNumberError(
            f"{field} {value!r} has the illegal character {bad!r}: "
            "only digits 0-9, * and # (and one leading +) are allowed"
        )
    if len(digits) > MAX_DIGITS:
        raise PriNumberError(f"{field} {value!r} has {len(digits)} digits; at most "
                             f"{MAX_DIGITS} are allowed")
    return digits, international


def encode_plan(number_type: str, plan: str, *, field: str) -> int:
    """Q.931 octet 3 of a party number: type of number and numbering plan.

    Raises :class:`PriConfigError` (key ``<field>_type`` or ``<field>_plan``) for a name
    not in :data:`NUMBER_TYPES` / :data:`NUMBERING_PLANS`.
    """
    if number_type not in NUMBER_TYPES:
        raise PriConfigError(f"{field} type {number_type!r} is unknown; expected one of "
                             f"{sorted(NUMBER_TYPES)}", key=f"{field}_type")
    if plan not in NUMBERING_PLANS:
        raise PriConfigError(f"{field} numbering plan {plan!r} is unknown; expected one of "
                             f"{sorted(NUMBERING_PLANS)}", key=f"{field}_plan")
    return (NUMBER_TYPES[number_type] << 4) | NUMBERING_PLANS[plan]


def encode_presentation(presentation: str, screening: str) -> int:
    """Q.931 octet 3a of the calling party number: presentation and screening indicators.

    Raises :class:`PriConfigError` (key ``presentation`` or ``screening``) for a name not
    in :data:`PRESENTATIONS` / :data:`SCREENINGS`.
    """
    if presentation not in PRESENTATIONS:
        raise PriConfigError(f"presentation {presentation!r} is unknown; expected one of "
                             f"{sorted(PRESENTATIONS)}", key="presentation")
    if screening not in SCREENINGS:
        raise PriConfigError(f"screening {screening!r} is unknown; expected one of "
                             f"{sorted(SCREENINGS)}", key="screening")
    return PRESENTATIONS[presentation] | SCREENINGS[screening]


def validate_calling_name(name: str | None) -> bytes | None:
    """The calling name as the Latin-1 octets libpri sends (unencodable characters become
    ``?``), or None for no name. Raises :class:`PriNumberError` when it is longer than
    :data:`MAX_NAME_LENGTH` octets."""
    if name is None:
        return None
    octets = name.encode("latin-1", "replace")
    if len(octets) > MAX_NAME_LENGTH:
        raise PriNumberError(f"calling name {name!r} is longer than {MAX_NAME_LENGTH} "
                             "characters")
    return octets
