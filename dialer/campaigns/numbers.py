"""Telephone numbers from customer lists: normalise to E.164, or say exactly why not.

Lists come from host systems and spreadsheets, so the same person appears as
``138 0013 8000``, ``+86-138-0013-8000``, ``008613800138000``, ``13800138000.0`` (a
spreadsheet float) or in full-width digits. :func:`normalise` turns all of these into one
E.164 key (``+8613800138000``), which is what duplicates, DNC lists and redial lockouts
are matched on, and raises :class:`InvalidNumber` with a reason an operator can act on.

Numbering facts used (no third-party package: ``phonenumbers`` is not a dependency, and
the rules we need are few and stable):

- E.164 (ITU-T Rec. E.164, 11/2010, clause 6): at most 15 digits after the ``+``,
  country code of 1 to 3 digits, never starting with 0.
- China (+86), from MIIT 《电信网编号计划（2017年版）》 and China's national numbering plan
  notified to the ITU (ITU-T Operational Bulletin, "National numbering plan: China"):

  * mobile numbers are 11 digits ``1[3-9]XXXXXXXXX`` (the 13x-19x network codes);
  * fixed lines are dialled nationally as trunk prefix ``0`` + area code + local number;
    area codes are 2 digits (``10`` Beijing, ``2X`` the large cities) followed by an
    8-digit local number, or 3 digits beginning 3-9 followed by a 7- or 8-digit local
    number; local numbers do not begin with 0 or 1 (0 is the trunk prefix and 1
    begins service codes);
  * ``400``/``800`` numbers are freephone/shared-cost service numbers, not subscribers.

- NANP (+1): 10 digits, area code and exchange each ``[2-9]XX`` (NANPA, "About the
  NANP"). UK (+44): national significant numbers of 9 or 10 digits (Ofcom, National
  Telephone Numbering Plan).

Other countries are checked only against the E.164 structure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Chinese 2-digit area codes (all of them; 26 is unassigned).
CN_AREA_CODES_2: dict[str, str] = {
    "10": "Beijing", "20": "Guangzhou", "21": "Shanghai", "22": "Tianjin",
    "23": "Chongqing", "24": "Shenyang", "25": "Nanjing", "27": "Wuhan", "28": "Chengdu",
    "29": "Xi'an",
}

#: Chinese 3-digit area codes of the provincial capitals and other large cities. Numbers
#: with a 3-digit code not in this table are accepted (the table is not exhaustive) and
#: reported with ``region=None``; ``strict_area=True`` rejects them.
CN_AREA_CODES_3: dict[str, str] = {
    "311": "Shijiazhuang", "312": "Baoding", "315": "Tangshan", "351": "Taiyuan",
    "371": "Zhengzhou", "379": "Luoyang", "411": "Dalian", "431": "Changchun",
    "451": "Harbin", "471": "Hohhot", "472": "Baotou", "510": "Wuxi", "511": "Zhenjiang",
    "512": "Suzhou", "513": "Nantong", "516": "Xuzhou", "519": "Changzhou", "531": "Jinan",
    "532": "Qingdao", "535": "Yantai", "551": "Hefei", "571": "Hangzhou", "574": "Ningbo",
    "577": "Wenzhou", "579": "Jinhua", "591": "Fuzhou", "592": "Xiamen", "595": "Quanzhou",
    "731": "Changsha", "755": "Shenzhen", "756": "Zhuhai", "757": "Foshan",
    "760": "Zhongshan", "769": "Dongguan", "771": "Nanning", "773": "Guilin",
    "791": "Nanchang", "851": "Guiyang", "871": "Kunming", "891": "Lhasa", "898": "Haikou",
    "931": "Lanzhou", "951": "Yinchuan", "971": "Xining", "991": "Urumqi",
}

#: A default time zone per country code, where the country has only one.
COUNTRY_TIME_ZONES: dict[str, str] = {
    "86": "Asia/Shanghai", "852": "Asia/Hong_Kong", "853": "Asia/Macau",
    "886": "Asia/Taipei", "44": "Europe/London", "81": "Asia/Tokyo",
    "82": "Asia/Seoul", "65": "Asia/Singapore", "49": "Europe/Berlin",
    "33": "Europe/Paris", "91": "Asia/Kolkata",
}

#: Country codes of 1 and 2 digits (ITU-T E.164 list of assigned codes); any other
#: valid code has 3 digits. Used only to split a number for display and zone lookup.
_CC1 = {"1", "7"}
_CC2 = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
}

_SEPARATORS = re.compile(r"[\s\-./()\[\]]")
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
_EXTENSION = re.compile(r"(ext\.?|x|转|分机|#)\s*\d+$", re.IGNORECASE)


#: Why a number was refused, as a stable code beside the English ``reason``: pages show
#: their own words for it (the console's zh dictionary), as they do for pause reasons.
#: Kept small on purpose: one code per thing an operator fixes differently in the list.
REFUSAL_CODES: dict[str, str] = {
    "number_empty": "the number cell is empty",
    "number_characters": "letters or other characters that are not digits",
    "number_spreadsheet": "a spreadsheet damaged it (scientific notation)",
    "number_extension": "it has an extension, which the dialer cannot dial",
    "number_length": "too many or too few digits for its kind of number",
    "number_prefix": "a prefix that does not exist (mobile, country code, local number)",
    "number_area": "the area code is missing, unassigned or not in the table",
    "number_service": "a 400/800 service number, not a subscriber line",
}


class InvalidNumber(ValueError):
    """A number that cannot be dialled; ``reason`` says why in words an operator acts on,
    ``code`` (one of :data:`REFUSAL_CODES`) says it for pages that translate."""

    def __init__(self, raw: str, reason: str, code: str) -> None:
        assert code in REFUSAL_CODES, code
        self.raw = raw
        self.reason = reason
        self.code = code
        super().__init__(f"{raw!r}: {reason}")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A validated number. ``e164`` is the key; ``kind`` is mobile, fixed or other."""

    e164: str
    country: str
    kind: str
    area: str | None = None
    region: str | None = None

    @property
    def time_zone(self) -> str | None:
        """The country's only time zone, or None where it has several (or is unknown)."""
        return COUNTRY_TIME_ZONES.get(self.country)

    def national(self) -> str:
        """The number as dialled inside its country (China: ``0`` + area for fixed lines)."""
        rest = self.e164[1 + len(self.country):]
        if self.country == "86" and self.kind == "fixed":
            return "0" + rest
        if self.country == "44":
            return "0" + rest
        return rest

    def dial_string(self, home_country: str = "86", international_prefix: str = "00") -> str:
        """What to send on a trunk in ``home_country``: national form, or international."""
        if self.country == home_country:
            return self.national()
        return international_prefix + self.e164[1:]


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFKC", str(raw)).strip()  # full-width digits and '＋'
    if text.startswith("'"):
        text = text[1:]  # a spreadsheet's text mark (trunkline.csvsafe writes it too)
    if text.lower().startswith("tel:"):
        text = text[4:]
    if _SCIENTIFIC.match(text):
        raise InvalidNumber(raw, "number in scientific notation: the spreadsheet lost digits",
                            "number_spreadsheet")
    if m := _EXCEL_FLOAT.match(text):
        text = m.group(1)
    if _EXTENSION.search(text) and any(c.isdigit() for c in _EXTENSION.sub("", text)):
        raise InvalidNumber(raw, "number has an extension; the dialer cannot dial extensions",
                            "number_extension")
    text = _SEPARATORS.sub("", text)
    if not text:
        raise InvalidNumber(raw, "empty number", "number_empty")
    if text.startswith("+"):
        body = text[1:]
        if not body.isdigit():
            raise InvalidNumber(raw, f"illegal characters in {text!r}",
                                "number_characters")
        return "+" + body
    if not text.isdigit():
        bad = sorted({c for c in text if not c.isdigit()})
        raise InvalidNumber(raw, f"illegal characters {''.join(bad)!r}",
                            "number_characters")
    return text


def _split_country(digits: str) -> str:
    if digits[:1] in _CC1:
        return digits[:1]
    if digits[:2] in _CC2:
        return digits[:2]
    return digits[:3]


def country_code(digits: str) -> str | None:
    """The country code the E.164 ``digits`` (after the ``+``) begin with, or None when
    they are too few to hold a whole one (``8``, ``88``: a DNC prefix cut short)."""
    if digits[:1] in _CC1 or digits[:2] in _CC2 or len(digits) >= 3:
        return _split_country(digits)
    return None


def _china(raw: str, national: str, *, strict_area: bool) -> PhoneNumber:
    """``national`` is the number after +86, without the trunk prefix 0."""
    if not national:
        raise InvalidNumber(raw, "no digits after the country code 86", "number_length")
    if national[0] == "1" and not national.startswith("10"):
        if re.fullmatch(r"1[3-9]\d{9}", national):
            return PhoneNumber("+86" + national, "86", "mobile")
        if len(national) == 11 and national[1:2] in ("1", "2"):
            raise InvalidNumber(raw, f"mobile prefix 1{national[1]} does not exist "
                                "(mobile numbers begin 13-19)", "number_prefix")
        raise InvalidNumber(raw, f"a Chinese mobile number has 11 digits, got {len(national)}",
                            "number_length")
    if national.startswith(("400", "800")):
        raise InvalidNumber(raw, "400/800 service number, not a subscriber line",
                            "number_service")
    if national[0] == "2" or national.startswith("10"):
        area, local = national[:2], national[2:]
        if area not in CN_AREA_CODES_2:
            raise InvalidNumber(raw, f"area code 0{area} is not assigned", "number_area")
        lengths: tuple[int, ...] = (8,)
    elif national[0] in "3456789":
        area, local = national[:3], national[3:]
        lengths = (7, 8)
    else:
        raise InvalidNumber(raw, "a Chinese fixed-line number needs an area code after 0",
                            "number_area")
    if len(local) not in lengths:
        want = " or ".join(map(str, lengths))
        raise InvalidNumber(raw, f"area 0{area} has {want}-digit local numbers, "
                            f"got {len(local)} digits ({local})", "number_length")
    if local[0] in "01":
        raise InvalidNumber(raw, f"local number {local} cannot begin with {local[0]}",
                            "number_prefix")
    region = CN_AREA_CODES_2.get(area) or CN_AREA_CODES_3.get(area)
    if region is None and strict_area:
        raise InvalidNumber(raw, f"area code 0{area} is not in the area code table",
                            "number_area")
    return PhoneNumber("+86" + national, "86", "fixed", area, region)


def _international(raw: str, digits: str, *, strict_area: bool) -> PhoneNumber:
    if not digits:
        raise InvalidNumber(raw, "no digits after the international prefix", "number_length")
    if digits[0] == "0":
        raise InvalidNumber(raw, "a country code cannot begin with 0", "number_prefix")
    if len(digits) > 15:
        raise InvalidNumber(raw, f"E.164 numbers have at most 15 digits, got {len(digits)}",
                            "number_length")
    if len(digits) < 8:
        raise InvalidNumber(raw, f"too short for an international number ({len(digits)} digits)",
                            "number_length")
    country = _split_country(digits)
    national = digits[len(country):]
    if country == "86":
        if national.startswith("0"):  # +86 0xx...: a stray trunk prefix, tolerated
            national = national[1:]
        return _china(raw, national, strict_area=strict_area)
    if country == "1" and not re.fullmatch(r"[2-9]\d{2}[2-9]\d{6}", national):
        raise InvalidNumber(raw, "a North American number is 10 digits, area code and "
                            "exchange beginning 2-9", "number_length")
    if country == "44":
        if national.startswith("0"):
            national = national[1:]
        if len(national) not in (9, 10):
            raise InvalidNumber(raw, f"a UK number has 9 or 10 digits after +44, "
                                f"got {len(national)}", "number_length")
    kind = "mobile" if country == "44" and national.startswith("7") else "other"
    return PhoneNumber(f"+{country}{national}", country, kind)


def normalise(raw: str, *, default_country: str = "86", default_area: str | None = None,
              strict_area: bool = False) -> PhoneNumber:
    """Parse ``raw`` into a :class:`PhoneNumber`, or raise :class:`InvalidNumber`.

    Numbers without ``+`` or ``00`` are read as national numbers of ``default_country``
    (only ``86`` has national rules here; for others the digits must be the full number
    after the country code). A bare 7- or 8-digit Chinese local number needs
    ``default_area`` (e.g. ``"21"``), because the list does not say which city it is in.
    """
    text = _clean(raw)
    if text.startswith("+"):
        return _international(raw, text[1:], strict_area=strict_area)
    if text.startswith("00"):
        return _international(raw, text[2:], strict_area=strict_area)
    if default_country == "86":
        if text.startswith("0"):
            return _china(raw, text[1:], strict_area=strict_area)
        if text.startswith("86") and len(text) >= 11:
            # 86 + national number written without '+' (common in exports); no national
            # number of 11 or more digits begins with 86 (mobiles begin with 1)
            return _international(raw, text, strict_area=strict_area)
        if len(text) in (7, 8) and text[0] not in "01":
            if default_area is None:
                raise InvalidNumber(raw, f"local number {text} without an area code",
                                    "number_area")
            return _china(raw, default_area + text, strict_area=strict_area)
        return _china(raw, text, strict_area=strict_area)
    if text.startswith("0"):
        if default_country == "44":
            return _international(raw, "44" + text[1:], strict_area=strict_area)
        raise InvalidNumber(raw, f"national trunk prefix 0 for country {default_country} "
                            "is not understood; write the number with +",
                            "number_prefix")
    return _international(raw, default_country + text, strict_area=strict_area)


def try_normalise(raw: str, **options) -> tuple[PhoneNumber | None, str | None]:
    """``(number, None)`` or ``(None, reason)``: for importers that must not raise."""
    try:
        return normalise(raw, **options), None
    except InvalidNumber as err:
        return None, err.reason
