"""What a site and a campaign configure for the agent's desk: pause codes, dispositions
with their typed fields, the script, wrap-up limits.

A campaign's TOML file (``trunkline dialer campaign create NAME --strategy FILE``) may
carry a ``[desk]`` table; the site's pause codes are a ``[[pause_code]]`` list (see
docs/agent-desk.md). Everything is checked when built, so a bad file is refused before
anything is saved, with the key that is wrong; an agent's disposition is checked against
its campaign's definition and a refusal names the field (:class:`FieldError`).

Dispositions are the "result codes and summaries" (结果码/小结) of the field notes: a
collections team records a promise to pay with an amount, a date and a reason; the
fields are typed so reports can add amounts and sort dates, not parse free text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from trunkline.dialer.campaigns.bounds import DESK, check_bounds

#: The disposition saved when an agent lets wrap-up run out (``max_wrap_up``).
AUTO_DISPOSITION = "wrap_timeout"
#: Its label unless the campaign names it: pages show their own words for it instead
#: (web_recordings), so a Chinese console does not show this English.
AUTO_DISPOSITION_LABEL = "Wrap-up time ran out"
#: The pause reason an agent has right after logging in (before the first "ready").
LOGIN_REASON = "login"
#: Codes and field names: letters (any script), digits, ``_`` and ``-``.
_NAME = re.compile(r"^[\w-]{1,64}$")
#: ISO 4217 currency codes are three capital letters.
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: The longest SMS template: what the gateway's ``sms.send`` takes (255 UCS-2 parts).
MAX_SMS = 39_015
#: The gateway group SMS are sent from by default: every mobile module.
SMS_GROUP = "mobile"


class FieldError(ValueError):
    """A value an agent entered that its field refuses; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    BOOL = "bool"


def _name(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{kind} {value!r} must be 1-64 letters, digits, '_' or '-'")
    return value


def _text(what: str, value: object) -> str:
    """A text setting: a string, or a number written without quotes (``hotkey = 1``,
    ``choices = [1, 2]``) as its text; anything else refused naming ``what``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value):
        return str(value)
    raise ValueError(f"{what} must be text, not {value!r:.40}")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a disposition. ``money`` values are decimal strings with at most
    two places in ``currency``; ``date`` values are ISO dates (YYYY-MM-DD); ``number``
    and ``money`` may be bounded by ``min``/``max``; ``text`` by ``max_length``."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    label: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    currency: str = "CNY"
    min: float | None = None
    max: float | None = None
    max_length: int = 500

    def __post_init__(self) -> None:
        _name("field", self.name)
        if self.kind not in set(FieldKind):
            raise ValueError(f"field {self.name!r}: kind {self.kind!r} is not one of "
                             f"{', '.join(FieldKind)}")
        object.__setattr__(self, "kind", FieldKind(self.kind))
        where = f"field {self.name!r}"
        if not isinstance(self.choices, list | tuple):
            raise ValueError(f"{where}: choices must be a list of texts, not "
                             f"{self.choices!r:.40}")
        # `choices = [1, 2]` was kept as numbers: the page sends "1", never equal to 1,
        # so the disposition could not be saved, and the refusal's own message failed
        # (", ".join of numbers). Numbers are taken as their text (stored ones too).
        object.__setattr__(self, "choices", tuple(
            _text(f"{where}: a choice", c) for c in self.choices))
        if any(not c for c in self.choices):
            raise ValueError(f"{where}: a choice is empty")
        object.__setattr__(self, "label", _text(f"{where}: label", self.label))
        if self.kind is FieldKind.CHOICE and not self.choices:
            raise ValueError(f"{where}: a choice field needs choices")
        if self.kind is not FieldKind.CHOICE and self.choices:
            raise ValueError(f"{where}: only a choice field has choices")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError(f"{where}: a choice is listed twice")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"{where}: currency {self.currency!r} is not an ISO 4217 code")
        for bound in (self.min, self.max):
            if bound is not None and (isinstance(bound, bool) or not isinstance(
                    bound, int | float) or not math.isfinite(bound)):
                raise ValueError(f"{where}: min and max must be finite numbers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{where}: min {self.min} is above max {self.max}")
        if not isinstance(self.max_length, int) or not 1 <= self.max_length <= 10_000:
            raise ValueError(f"{where}: max_length must be in [1, 10000]")

    def check(self, value: Any) -> Any:
        """The value as stored (JSON-friendly), or :class:`FieldError` naming the field.

        ``None`` and ``""`` are "not given": refused when required, else left out by
        the caller."""
        name, kind = self.name, self.kind
        if kind is FieldKind.TEXT:
            if not isinstance(value, str):
                raise FieldError(name, f"expected text, got {value!r}")
            if len(value) > self.max_length:
                raise FieldError(name, f"at most {self.max_length} characters, got "
                                       f"{len(value)}")
            return value
        if kind is FieldKind.NUMBER:
            number = value
            if isinstance(value, str):
                try:
                    number = float(value) if any(c in value for c in ".eE") else int(value)
                except ValueError:
                    raise FieldError(name, f"{value!r} is not a number") from None
            if isinstance(number, bool) or not isinstance(number, int | float) \
                    or not math.isfinite(number):
                raise FieldError(name, f"{value!r} is not a number")
            self._bounds(number)
            return number
        if kind is FieldKind.MONEY:
            amount = value.get("amount") if isinstance(value, Mapping) else value
            currency = value.get("currency", self.currency) \
                if isinstance(value, Mapping) else self.currency
            if currency != self.currency:
                raise FieldError(name, f"the amount is in {self.currency}, not {currency!r}")
            if isinstance(amount, bool) or not isinstance(amount, str | int | float):
                raise FieldError(name, f"{amount!r} is not an amount")
            try:
                dec = Decimal(str(amount).replace(",", "").strip())
            except InvalidOperation:
                raise FieldError(name, f"{amount!r} is not an amount") from None
            if not dec.is_finite() or dec.as_tuple().exponent < -2:  # type: ignore[operator]
                raise FieldError(name, f"{amount!r} is not an amount with at most two "
                                       "decimal places")
            self._bounds(float(dec))
            return {"amount": f"{dec.quantize(Decimal('0.01'))}", "currency": self.currency}
        if kind is FieldKind.DATE:
            if isinstance(value, date):
                return value.isoformat()
            try:
                return date.fromisoformat(str(value)).isoformat() \
                    if isinstance(value, str) and len(value) == 10 else _bad_date(name, value)
            except ValueError:
                return _bad_date(name, value)
        if kind is FieldKind.CHOICE:
            if value not in self.choices:
                raise FieldError(name, f"{value!r} is not one of {', '.join(self.choices)}")
            return value
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise FieldError(name, f"expected true or false, got {value!r}")

    def _bounds(self, number: float) -> None:
        if self.min is not None and number < self.min:
            raise FieldError(self.name, f"{number} is below the minimum {self.min}")
        if self.max is not None and number > self.max:
            raise FieldError(self.name, f"{number} is above the maximum {self.max}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": str(self.kind), "label": self.label,
                               "required": self.required}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.kind is FieldKind.MONEY:
            out["currency"] = self.currency
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.kind is FieldKind.TEXT:
            out["max_length"] = self.max_length
        return out


def _bad_date(name: str, value: object) -> Any:
    raise FieldError(name, f"{value!r} is not a date YYYY-MM-DD")


class CallbackRule(StrEnum):
    """Whether saving a disposition asks for a callback time."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class Disposition:
    """A result code of a campaign: its fields, whether it schedules a callback, and a
    keyboard shortcut for the desktop (``hotkey``, one character).

    ``sms``: a text sent to the contact when the disposition is saved (a collections
    reminder), its ``{{placeholders}}`` filled from the contact's columns and this
    disposition's fields (see :mod:`~trunkline.dialer.desk.script`); it goes to the
    number that was called, or to the number in column ``sms_to``."""

    code: str
    label: str = ""
    fields: tuple[FieldSpec, ...] = ()
    callback: CallbackRule = CallbackRule.NONE
    hotkey: str = ""
    sms: str = ""
    sms_to: str = ""

    def __post_init__(self) -> None:
        _name("disposition", self.code)
        if self.callback not in set(CallbackRule):
            raise ValueError(f"disposition {self.code!r}: callback {self.callback!r} is not "
                             f"one of {', '.join(CallbackRule)}")
        object.__setattr__(self, "callback", CallbackRule(self.callback))
        object.__setattr__(self, "fields", tuple(self.fields))
        for key in ("label", "hotkey"):       # `hotkey = 1` means the key 1
            object.__setattr__(self, key, _text(f"disposition {self.code!r}: {key}",
                                                getattr(self, key)))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"disposition {self.code!r} lists a field twice: {names}")
        if len(self.hotkey) > 1:
            raise ValueError(f"disposition {self.code!r}: hotkey is one character")
        if not isinstance(self.sms, str) or len(self.sms) > MAX_SMS:
            raise ValueError(f"disposition {self.code!r}: sms is a text of at most "
                             f"{MAX_SMS} characters")
        if not isinstance(self.sms_to, str) or len(self.sms_to) > 64:
            raise ValueError(f"disposition {self.code!r}: sms_to names a list column")
        if self.sms_to and not self.sms:
            raise ValueError(f"disposition {self.code!r}: sms_to without an sms text")

    def check(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The values as stored, in the definition's order; raises :class:`FieldError`
        for the first field that is wrong, missing, or not one of this disposition's."""
        known = {f.name: f for f in self.fields}
        for name in values:
            if name not in known:
                raise FieldError(name, f"disposition {self.code!r} has no such field; it "
                                       f"has {', '.join(known) or 'none'}")
        out: dict[str, Any] = {}
        for spec in self.fields:
            value = values.get(spec.name)
            if value is None or value == "":
                if spec.required:
                    raise FieldError(spec.name, "required")
                continue
            out[spec.name] = spec.check(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "label": self.label,
                               "callback": str(self.callback), "hotkey": self.hotkey,
                               "fields": [f.to_dict() for f in self.fields]}
        if self.sms:
            out["sms"] = self.sms
        if self.sms_to:
            out["sms_to"] = self.sms_to
        return out


@dataclass(frozen=True, slots=True)
class PauseCode:
    """A not-ready reason of the site (示忙原因): lunch, training, after-call work...
    ``limit`` (seconds) marks a pause that lasts longer as overrun for supervisors."""

    code: str
    label: str = ""
    limit: float | None = None

    def __post_init__(self) -> None:
        _name("pause code", self.code)
        # `label = 5` was saved as a number, then the admin API's answer failed (a 500
        # after the change was stored): a number is its text, as for dispositions
        object.__setattr__(self, "label", _text(f"pause code {self.code!r}: label",
                                                self.label))
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(
                self.limit, int | float) or not 0 < self.limit <= 86_400):
            raise ValueError(f"pause code {self.code!r}: limit must be in (0, 86400] s")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "limit": self.limit}


#: The pause codes of a site that configured none.
DEFAULT_PAUSE_CODES: tuple[PauseCode, ...] = (
    PauseCode("break", "Break", 900.0), PauseCode("lunch", "Lunch", 3_600.0),
    PauseCode("meeting", "Meeting"), PauseCode("training", "Training"),
    PauseCode("after_call", "After-call work", 300.0))


#: The keys of a ``[[pause_code]]`` entry.
PAUSE_CODE_KEYS = frozenset({"code", "label", "limit"})


def pause_codes_from(items: Sequence[Mapping[str, Any]]) -> tuple[PauseCode, ...]:
    """``[[pause_code]]`` entries of the site's TOML; codes must be unique."""
    out = []
    if not isinstance(items, list | tuple):
        raise ValueError(f"pause_code must be a list of entries, not {items!r:.40}")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"pause_code {i + 1}: expected a table (code, label, limit), "
                             f"got {item!r:.40}")
        unknown = sorted(set(item) - PAUSE_CODE_KEYS)
        if unknown:
            # was Python's "PauseCode.__init__() got an unexpected keyword argument"
            raise ValueError(f"pause_code {i + 1}: unknown key {unknown[0]!r}; expected "
                             f"one of: {', '.join(sorted(PAUSE_CODE_KEYS))}")
        try:
            out.append(PauseCode(**dict(item)))
        except (TypeError, ValueError) as err:
            raise ValueError(f"pause_code {i + 1}: {err}") from None
    codes = [p.code for p in out]
    if len(set(codes)) != len(codes):
        raise ValueError(f"a pause code is listed twice: {codes}")
    if LOGIN_REASON in codes:
        raise ValueError(f"{LOGIN_REASON!r} is the desk's own reason after login")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """A campaign's desk settings (the ``[desk]`` table).

    ``max_wrap_up``: after a call the agent has this long to save a disposition; then
    :data:`AUTO_DISPOSITION` is saved for it and it goes on as it chose (ready unless it
    asked to pause). ``script`` is the campaign's script (话术) with ``{{column}}``
    placeholders filled from the contact (see :mod:`~trunkline.dialer.desk.script`).
    ``sms_group``: the gateway's group of mobile modules a disposition's ``sms`` is sent
    from (``mobile``: all of them).
    """

    campaign: str
    dispositions: tuple[Disposition, ...] = ()
    script: str = ""
    max_wrap_up: float = 120.0
    sms_group: str = SMS_GROUP

    def __post_init__(self) -> None:
        if not self.campaign:
            raise ValueError("a desk config needs its campaign")
        dispositions = tuple(self.dispositions)
        codes = [d.code for d in dispositions]
        if len(set(codes)) != len(codes):
            raise ValueError(f"campaign {self.campaign!r}: a disposition is listed twice: "
                             f"{codes}")
        if AUTO_DISPOSITION not in codes:
            dispositions += (Disposition(AUTO_DISPOSITION, AUTO_DISPOSITION_LABEL),)
        auto = next(d for d in dispositions if d.code == AUTO_DISPOSITION)
        if any(f.required for f in auto.fields) or auto.callback is CallbackRule.REQUIRED:
            raise ValueError(f"campaign {self.campaign!r}: {AUTO_DISPOSITION!r} is saved "
                             "without an agent; it cannot require fields or a callback")
        hotkeys = [d.hotkey for d in dispositions if d.hotkey]
        if len(set(hotkeys)) != len(hotkeys):
            raise ValueError(f"campaign {self.campaign!r}: a hotkey is used twice")
        object.__setattr__(self, "dispositions", dispositions)
        check_bounds(DESK, {"max_wrap_up": self.max_wrap_up},
                     where=f"campaign {self.campaign!r}")
        if not isinstance(self.script, str) or len(self.script) > 100_000:
            raise ValueError(f"campaign {self.campaign!r}: the script is text up to 100000 "
                             "characters")
        if not isinstance(self.sms_group, str) or not _NAME.match(self.sms_group):
            raise ValueError(f"campaign {self.campaign!r}: sms_group must be a group name "
                             f"(letters, digits, '_' or '-'), got {self.sms_group!r}")

    def disposition(self, code: str) -> Disposition:
        for d in self.dispositions:
            if d.code == code:
                return d
        raise FieldError("code", f"{code!r} is not a disposition of campaign "
                                 f"{self.campaign!r}; it has "
                                 f"{', '.join(d.code for d in self.dispositions)}")

    @classmethod
    def from_dict(cls, campaign: str, spec: Mapping[str, Any]) -> DeskConfig:
        """The ``[desk]`` table: ``script``, ``max_wrap_up`` and ``[[desk.disposition]]``
        entries, each with ``[[desk.disposition.field]]`` entries. Unknown keys are
        refused, naming them."""
        spec = dict(spec)
        _only(f"[desk] of {campaign!r}", spec, {"script", "max_wrap_up", "disposition",
                                                "sms_group"})
        dispositions = []
        for i, item in enumerate(spec.get("disposition", [])):
            where = f"[desk] disposition {i + 1}"
            item = dict(item)
            _only(where, item, {"code", "label", "fields", "field", "callback", "hotkey",
                                "sms", "sms_to"})
            fields = []
            for j, f in enumerate(item.pop("field", item.pop("fields", []))):
                f = dict(f)
                _only(f"{where} field {j + 1}", f, {s for s in FieldSpec.__slots__})
                try:
                    fields.append(FieldSpec(**f))
                except (TypeError, ValueError) as err:
                    raise ValueError(f"{where} ({item.get('code')!r}) field {j + 1}: "
                                     f"{err}") from None
            try:
                dispositions.append(Disposition(fields=tuple(fields), **item))
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where}: {err}") from None
        return cls(campaign, tuple(dispositions), spec.get("script", ""),
                   spec.get("max_wrap_up", 120.0), spec.get("sms_group", SMS_GROUP))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly; :meth:`from_dict` reads it back (the store keeps this)."""
        return {"script": self.script, "max_wrap_up": self.max_wrap_up,
                "sms_group": self.sms_group,
                "disposition": [d.to_dict() for d in self.dispositions]}


def _only(where: str, spec: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known))}")


@dataclass(frozen=True, slots=True)
class SiteDesk:
    """The site's part: pause codes, shared by every campaign."""

    pause_codes: tuple[PauseCode, ...] = field(default=DEFAULT_PAUSE_CODES)

    def pause_code(self, code: str) -> PauseCode:
        for p in self.pause_codes:
            if p.code == code:
                return p
        raise FieldError("reason", f"{code!r} is not a pause code of this site; it has "
                                   f"{', '.join(p.code for p in self.pause_codes)}")
