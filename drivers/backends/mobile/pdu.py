"""SMS transfer-layer PDUs in and out (3GPP TS 23.040 §9.2, data coding per TS 23.038).

What a GSM/LTE module takes and gives in PDU mode (``AT+CMGF=0``, TS 27.005 §3.2.3): an
optional service centre address (SMSC) followed by the TPDU, written as hexadecimal.

* :func:`encode_submit` turns a number and a text into one SMS-SUBMIT per part: GSM-7
  when the default alphabet and its extension table can carry the text, UCS-2 (really
  UTF-16, as every handset reads it) otherwise; long texts are split into concatenated
  parts (user data header IEI 0x00, 8-bit reference, 153 septets or 67 UCS-2 units a
  part; or IEI 0x08, 16-bit reference, 152 or 66), never between an escape and its
  character nor between the halves of a surrogate pair.
* :func:`decode` reads an SMS-DELIVER or SMS-STATUS-REPORT (network to module), or an
  SMS-SUBMIT (module to network: a stored outgoing message, or what an emulated network
  receives).
* :func:`encode_deliver` and :func:`encode_status_report` build what the network sends;
  the emulated module and the tests use them.

Every function is pure. Anything malformed raises :class:`PduError` (a ValueError) naming
the field and the octet offset; nothing else escapes from :func:`decode`, whatever the
bytes (a property test holds it to that).

Why one module of this size: it is one codec (TS 23.040 PDUs, field by field, in the
order the standard lays them out); the GSM-7 alphabet and text splitting are apart
(drivers/gsm7.py, drivers/sms.py), the AT flows in sms.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from trunkline.drivers import gsm7
from trunkline.drivers.sms import split_text
from trunkline.errors import TrunklineError

__all__ = [
    "Address",
    "Concat",
    "Dcs",
    "Deliver",
    "PduError",
    "StatusReport",
    "Submit",
    "SubmitPdu",
    "UserData",
    "decode",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
]


class PduError(TrunklineError, ValueError):
    """A PDU that cannot be read or a message that cannot be encoded."""


# -- type of number / numbering plan (TS 23.040 §9.1.2.5) ----------------------------
TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NATIONAL = 2
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1  # ISDN/telephone numbering plan (E.164/E.163)

#: Semi-octet digits (TS 23.040 §9.1.2.3, TS 24.008 table 10.5.118): 0-9, *, #, a, b, c.
_DIGITS = "0123456789*#abc"

#: A single part holds 160 septets (TS 23.040 §9.2.3.24: 140 octets of user data).
GSM7_SINGLE = 160


@dataclass(frozen=True, slots=True)
class Address:
    """A TP-OA/TP-DA/RP-SC address: digits (``+`` first when international) or, with type
    of number alphanumeric, a name such as ``BANK``."""

    number: str
    ton: int = TON_UNKNOWN
    npi: int = NPI_ISDN

    def __post_init__(self) -> None:
        if not 0 <= self.ton <= 7 or not 0 <= self.npi <= 15:
            raise PduError(f"address {self.number!r}: type of number {self.ton} must be 0..7 "
                           f"and numbering plan {self.npi} 0..15")

    @classmethod
    def parse(cls, text: str) -> Address:
        """``"+8613800138000"`` international E.164; ``"10086"`` unknown type, E.164 plan;
        anything else with letters an alphanumeric originator (at most 11 characters,
        the 10 octets TS 23.040 §9.1.2.5 allows)."""
        if not text:
            raise PduError("an address cannot be empty")
        if text.startswith("+") and len(text) > 1 and all(c in _DIGITS for c in text[1:]):
            return cls(text, TON_INTERNATIONAL, NPI_ISDN)
        if all(c in _DIGITS for c in text):
            return cls(text, TON_UNKNOWN, NPI_ISDN)
        if not gsm7.is_gsm7(text):
            raise PduError(f"address {text!r} is neither a number nor GSM 7-bit text")
        if len(gsm7.encode_septets(text)) > 11:
            raise PduError(f"alphanumeric address {text!r} is longer than 11 septets")
        return cls(text, TON_ALPHANUMERIC, NPI_UNKNOWN)

    @property
    def toa(self) -> int:
        """The type-of-address octet: bit 7 set, type of number, numbering plan."""
        return 0x80 | self.ton << 4 | self.npi

    @property
    def digits(self) -> str:
        return self.number[1:] if self.number.startswith("+") else self.number

    def __str__(self) -> str:
        return self.number


@dataclass(frozen=True, slots=True)
class Concat:
    """One part of a concatenated message (TS 23.040 §9.2.3.24.1 and .8)."""

    reference: int
    total: int
    sequence: int
    wide: bool = False  # IEI 0x08, 16-bit reference


@dataclass(frozen=True, slots=True)
class Dcs:
    """What TP-DCS says (TS 23.038 §4): the alphabet, the message class, compression."""

    encoding: str  # "gsm7" | "8bit" | "ucs2"
    message_class: int | None = None
    compressed: bool = False


@dataclass(frozen=True, slots=True)
class UserData:
    """TP-UD read: its text, the raw payload (septet values for GSM-7, octets otherwise,
    kept so reassembly joins parts before decoding), the header's elements and the
    concatenation element if there is one."""

    encoding: str
    text: str
    payload: bytes
    header: tuple[tuple[int, bytes], ...] = ()
    concat: Concat | None = None


@dataclass(frozen=True, slots=True)
class Deliver:
    """SMS-DELIVER (TS 23.040 §9.2.2.1): a message from the network."""

    sender: Address
    timestamp: dt.datetime | None
    user_data: UserData
    dcs: Dcs
    pid: int = 0
    smsc: Address | None = None
    more_messages: bool = False
    status_report_indication: bool = False
    reply_path: bool = False

    @property
    def text(self) -> str:
        return self.user_data.text


@dataclass(frozen=True, slots=True)
class Submit:
    """SMS-SUBMIT (TS 23.040 §9.2.2.2): a message to the network."""

    reference: int
    destination: Address
    user_data: UserData
    dcs: Dcs
    pid: int = 0
    smsc: Address | None = None
    validity: dt.timedelta | None = None
    status_report_request: bool = False
    reject_duplicates: bool = False
    reply_path: bool = False

    @property
    def text(self) -> str:
        return self.user_data.text


#: TP-ST (TS 23.040 §9.2.3.15), the values the standard names.
STATUS_TEXT = {
    0x00: "received by the recipient",
    0x01: "forwarded, delivery not confirmed",
    0x02: "replaced by the service centre",
    0x20: "congestion, still trying", 0x21: "recipient busy, still trying",
    0x22: "no response from the recipient, still trying",
    0x23: "service rejected, still trying",
    0x24: "quality of service not available, still trying",
    0x25: "error in the recipient, still trying",
    0x40: "remote procedure error", 0x41: "incompatible destination",
    0x42: "connection rejected by the recipient", 0x43: "not obtainable",
    0x44: "quality of service not available", 0x45: "no interworking available",
    0x46: "validity period expired", 0x47: "deleted by the sender",
    0x48: "deleted by the service centre", 0x49: "message does not exist",
    0x60: "congestion, given up", 0x61: "recipient busy, given up",
    0x62: "no response from the recipient, given up", 0x63: "service rejected, given up",
    0x64: "quality of service not available, given up",
    0x65: "error in the recipient, given up",
}


@dataclass(frozen=True, slots=True)
class StatusReport:
    """SMS-STATUS-REPORT (TS 23.040 §9.2.2.3): what became of a message we sent."""

    reference: int
    recipient: Address
    timestamp: dt.datetime | None
    discharge: dt.datetime | None
    status: int
    smsc: Address | None = None

    @property
    def outcome(self) -> str:
        """``delivered`` (0x00-0x1F), ``pending`` (0x20-0x3F, the centre still tries) or
        ``failed`` (0x40-0x7F permanent or given up; reserved values above 0x7F are
        read as failures too: nothing says the message arrived)."""
        if self.status < 0x20:
            return "delivered"
        if self.status < 0x40:
            return "pending"
        return "failed"

    @property
    def reason(self) -> str:
        return STATUS_TEXT.get(self.status, f"status 0x{self.status:02X}")


@dataclass(frozen=True, slots=True)
class SubmitPdu:
    """One part ready for ``AT+CMGS``: the octets (SMSC prefix included) and the length
    ``AT+CMGS=<length>`` takes, which counts the TPDU only (TS 27.005 §3.5.1)."""

    data: bytes
    tpdu_length: int
    part: int = 1
    parts: int = 1

    @property
    def hex(self) -> str:
        return self.data.hex().upper()


# -- reading ---------------------------------------------------------------------------
@dataclass
class _Reader:
    data: bytes
    pos: int = 0
    what: list[str] = field(default_factory=list)

    def take(self, n: int, name: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise PduError(f"PDU ends at octet {len(self.data)} inside {name} "
                           f"(needs {n} octets from offset {self.pos})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def octet(self, name: str) -> int:
        return self.take(1, name)[0]

    @property
    def rest(self) -> bytes:
        return self.data[self.pos:]


def _as_bytes(pdu: bytes | str) -> bytes:
    if isinstance(pdu, bytes | bytearray):
        return bytes(pdu)
    text = "".join(pdu.split())
    try:
        return bytes.fromhex(text)
    except ValueError:
        bad = next((c for c in text if c not in "0123456789abcdefABCDEF"), None)
        why = f"character {bad!r}" if bad else f"odd length {len(text)}"
        raise PduError(f"PDU is not hexadecimal: {why}") from None


def _semi_octets(data: bytes, count: int, name: str) -> str:
    out = []
    for i in range(count):
        nibble = data[i // 2] >> 4 if i % 2 else data[i // 2] & 0x0F
        if nibble == 0x0F:
            raise PduError(f"{name}: filler nibble F at digit {i + 1} of {count}")
        out.append(_DIGITS[nibble])
    return "".join(out)


def _encode_semi_octets(digits: str) -> bytes:
    out = bytearray()
    for i in range(0, len(digits), 2):
        lo = _DIGITS.index(digits[i])
        hi = _DIGITS.index(digits[i + 1]) if i + 1 < len(digits) else 0x0F
        out.append(hi << 4 | lo)
    return bytes(out)


def _address_value(toa: int, raw: bytes, semis: int, name: str) -> Address:
    ton, npi = (toa >> 4) & 0x07, toa & 0x0F
    if ton == TON_ALPHANUMERIC:
        septets = gsm7.unpack_septets(raw, semis * 4 // 7)
        return Address(gsm7.decode_septets(septets), ton, npi)
    digits = _semi_octets(raw, semis, name)
    return Address(("+" if ton == TON_INTERNATIONAL else "") + digits, ton, npi)


def _read_address(r: _Reader, name: str) -> Address:
    """TP-OA/TP-DA/TP-RA: length in useful semi-octets, type of address, value."""
    semis = r.octet(f"{name} length")
    if semis > 20:
        raise PduError(f"{name} is {semis} digits long; TS 23.040 §9.1.2.5 allows 20")
    toa = r.octet(f"{name} type")
    raw = r.take((semis + 1) // 2, name)
    return _address_value(toa, raw, semis, name)


def _read_smsc(r: _Reader) -> Address | None:
    """The SMSC prefix (TS 24.011 §8.2.5.1 RP address): length in octets, 0 = none."""
    length = r.octet("SMSC length")
    if length == 0:
        return None
    if length > 11:
        raise PduError(f"SMSC address is {length} octets; at most 11 are allowed")
    toa = r.octet("SMSC type")
    raw = r.take(length - 1, "SMSC address")
    semis = 2 * len(raw)
    if raw and raw[-1] >> 4 == 0x0F:
        semis -= 1
    return _address_value(toa, raw, semis, "SMSC address")


def _read_dcs(value: int) -> Dcs:
    """TS 23.038 §4. Reserved codings are read as the default alphabet, as §4 says a
    receiver shall."""
    group = value >> 4
    if group <= 0x07:  # 00xx general data coding, 01xx the same marked for deletion
        compressed = bool(value & 0x20)
        alphabet = (value >> 2) & 0x03
        cls = value & 0x03 if value & 0x10 else None
        encoding = {0: "gsm7", 1: "8bit", 2: "ucs2"}.get(alphabet, "gsm7")
        return Dcs(encoding, cls, compressed)
    if group in (0x0C, 0x0D):  # message waiting, GSM-7
        return Dcs("gsm7")
    if group == 0x0E:  # message waiting, UCS-2
        return Dcs("ucs2")
    if group == 0x0F:  # data coding / message class
        return Dcs("8bit" if value & 0x04 else "gsm7", value & 0x03)
    return Dcs("gsm7")  # 1000..1011 reserved


def _dcs_octet(encoding: str, message_class: int | None) -> int:
    alphabet = {"gsm7": 0, "8bit": 1, "ucs2": 2}[encoding]
    if message_class is None:
        return alphabet << 2
    if not 0 <= message_class <= 3:
        raise PduError(f"message class must be 0..3, got {message_class}")
    return 0x10 | alphabet << 2 | message_class


def _bcd(octet: int, name: str) -> int:
    lo, hi = octet & 0x0F, octet >> 4
    if lo > 9 or hi > 9:
        raise PduError(f"{name}: 0x{octet:02X} is not two decimal semi-octets")
    return lo * 10 + hi


def _read_timestamp(raw: bytes) -> dt.datetime | None:
    """TP-SCTS/TP-DT (TS 23.040 §9.2.3.11): swapped BCD year..second, then the zone in
    quarter hours with its sign in bit 3. Two-digit years 90-99 are read as the 1990s,
    the rest as 20xx. A date that does not exist gives None: the message is still good."""
    try:
        year, month, day, hour, minute, second = (
            _bcd(b, "timestamp") for b in raw[:6])
        tz = raw[6]
        quarters = _bcd(tz & 0xF7, "time zone")
        if tz & 0x08:
            quarters = -quarters
        zone = dt.timezone(dt.timedelta(minutes=15 * quarters))
        return dt.datetime(1900 + year if year >= 90 else 2000 + year, month, day, hour,
                           minute, second, tzinfo=zone)
    except (PduError, ValueError):
        return None


def _encode_timestamp(when: dt.datetime) -> bytes:
    if when.tzinfo is None:
        raise PduError("a timestamp needs a time zone")
    offset = when.utcoffset() or dt.timedelta(0)
    quarters, rest = divmod(int(offset.total_seconds()), 900)
    if rest:
        raise PduError(f"time zone {offset} is not a whole number of quarter hours")

    def bcd(v: int) -> int:
        return (v % 10) << 4 | (v // 10) % 10

    sign = 0x08 if quarters < 0 else 0
    q = abs(quarters)
    if q > 79:
        raise PduError(f"time zone {offset} is beyond what TP-SCTS can say")
    return bytes([bcd(when.year % 100), bcd(when.month), bcd(when.day), bcd(when.hour),
                  bcd(when.minute), bcd(when.second), bcd(q) | sign])


def validity_octet(period: dt.timedelta) -> int:
    """TP-VP relative (TS 23.040 §9.2.3.12.1): the smallest value not shorter than
    ``period`` (5 minutes to 63 weeks; longer asks for the maximum)."""
    minutes = period.total_seconds() / 60
    if minutes <= 0:
        raise PduError(f"validity period must be positive, got {period}")
    for vp in range(256):
        if validity_period(vp).total_seconds() / 60 >= minutes:
            return vp
    return 255


def validity_period(vp: int) -> dt.timedelta:
    """The period a relative TP-VP octet stands for (TS 23.040 §9.2.3.12.1)."""
    if vp <= 143:
        return dt.timedelta(minutes=(vp + 1) * 5)
    if vp <= 167:
        return dt.timedelta(hours=12, minutes=(vp - 143) * 30)
    if vp <= 196:
        return dt.timedelta(days=vp - 166)
    return dt.timedelta(weeks=vp - 192)


def _read_header(data: bytes) -> tuple[tuple[tuple[int, bytes], ...], Concat | None]:
    """The information elements of a user data header (TS 23.040 §9.2.3.24)."""
    elements: list[tuple[int, bytes]] = []
    concat: Concat | None = None
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise PduError(f"user data header: element at octet {i} has no length")
        iei, length = data[i], data[i + 1]
        value = data[i + 2:i + 2 + length]
        if len(value) != length:
            raise PduError(f"user data header: element 0x{iei:02X} claims {length} octets, "
                           f"{len(value)} remain")
        elements.append((iei, value))
        i += 2 + length
        # §9.2.3.24.1: a sequence number of 0 or above the total voids the element.
        if iei == 0x00 and length == 3 and 1 <= value[2] <= value[1]:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and length == 4 and 1 <= value[3] <= value[2]:
            concat = Concat(value[0] << 8 | value[1], value[2], value[3], wide=True)
    return tuple(elements), concat


def decode_payload(encoding: str, payload: bytes) -> str:
    """Text from a payload (septet values or octets): joined parts decode through here."""
    if encoding == "gsm7":
        return gsm7.decode_septets(payload)
    if encoding == "ucs2":
        # UTF-16 as handsets send it; a lone surrogate or an odd octet (a sender that
        # split a pair) becomes U+FFFD rather than losing the message.
        return payload.decode("utf-16-be", errors="replace")
    return ""


def _read_user_data(r: _Reader, dcs: Dcs, udhi: bool) -> UserData:
    udl = r.octet("TP-UDL")
    if dcs.compressed:
        raise PduError("compressed user data (TS 23.042) is not supported")
    if dcs.encoding == "gsm7":
        if udl > GSM7_SINGLE:
            raise PduError(f"TP-UDL {udl} septets exceeds {GSM7_SINGLE}")
        raw = r.take((udl * 7 + 7) // 8, "TP-UD")
        header: tuple[tuple[int, bytes], ...] = ()
        concat = None
        fill = 0
        skip = 0
        if udhi:
            if not raw:
                raise PduError("TP-UDHI is set but the user data is empty")
            hlen = 1 + raw[0]
            if hlen > len(raw):
                raise PduError(f"user data header of {hlen} octets is longer than the "
                               f"user data ({len(raw)} octets)")
            header, concat = _read_header(raw[1:hlen])
            fill = (7 - (hlen * 8) % 7) % 7
            skip = (hlen * 8 + fill) // 7
            if skip > udl:
                raise PduError(f"user data header of {hlen} octets leaves no room in "
                               f"TP-UDL {udl}")
            raw = raw[hlen:]
        septets = gsm7.unpack_septets(raw, udl - skip, fill)
        return UserData("gsm7", gsm7.decode_septets(septets), septets, header, concat)
    if udl > 140:
        raise PduError(f"TP-UDL {udl} octets exceeds 140")
    raw = r.take(udl, "TP-UD")
    header = ()
    concat = None
    if udhi:
        if not raw:
            raise PduError("TP-UDHI is set but the user data is empty")
        hlen = 1 + raw[0]
        if hlen > len(raw):
            raise PduError(f"user data header of {hlen} octets is longer than the user "
                           f"data ({len(raw)} octets)")
        header, concat = _read_header(raw[1:hlen])
        raw = raw[hlen:]
    return UserData(dcs.encoding, decode_payload(dcs.encoding, raw), raw, header, concat)


def decode(pdu: bytes | str, *, direction: str = "mt", smsc: bool = True
           ) -> Deliver | StatusReport | Submit:
    """Read one PDU (hex text or octets).

    ``direction`` is ``"mt"`` for what the network sends (SMS-DELIVER, SMS-STATUS-REPORT)
    and ``"mo"`` for what a module sends (SMS-SUBMIT): TP-MTI means different things
    each way (TS 23.040 §9.2.3.1). ``smsc`` says whether the SMSC prefix leads, as it
    does in everything ``AT+CMGR``, ``+CMT`` and ``+CDS`` give (TS 27.005 §3.1).
    """
    if direction not in ("mt", "mo"):
        raise ValueError(f"direction must be 'mt' or 'mo', got {direction!r}")
    r = _Reader(_as_bytes(pdu))
    try:
        centre = _read_smsc(r) if smsc else None
        first = r.octet("first octet")
        mti = first & 0x03
        if direction == "mt" and mti == 0:
            return _read_deliver(r, first, centre)
        if direction == "mt" and mti == 2:
            return _read_status_report(r, first, centre)
        if direction == "mo" and mti == 1:
            return _read_submit(r, first, centre)
    except gsm7.Gsm7Error as err:
        raise PduError(str(err)) from err
    names = {("mt", 1): "SMS-SUBMIT-REPORT", ("mt", 3): "reserved",
             ("mo", 0): "SMS-DELIVER-REPORT", ("mo", 2): "SMS-COMMAND", ("mo", 3): "reserved"}
    raise PduError(f"TP-MTI {mti} ({names[direction, mti]}) is not a message this reads "
                   f"in direction {direction}")


def _read_deliver(r: _Reader, first: int, centre: Address | None) -> Deliver:
    sender = _read_address(r, "TP-OA")
    pid = r.octet("TP-PID")
    dcs = _read_dcs(r.octet("TP-DCS"))
    stamp = _read_timestamp(r.take(7, "TP-SCTS"))
    ud = _read_user_data(r, dcs, bool(first & 0x40))
    return Deliver(sender, stamp, ud, dcs, pid, centre, more_messages=not first & 0x04,
                   status_report_indication=bool(first & 0x20), reply_path=bool(first & 0x80))


def _read_submit(r: _Reader, first: int, centre: Address | None) -> Submit:
    mr = r.octet("TP-MR")
    dest = _read_address(r, "TP-DA")
    pid = r.octet("TP-PID")
    dcs = _read_dcs(r.octet("TP-DCS"))
    vpf = (first >> 3) & 0x03
    validity = None
    if vpf == 2:
        validity = validity_period(r.octet("TP-VP"))
    elif vpf in (1, 3):
        r.take(7, "TP-VP")  # enhanced or absolute: read past, not interpreted
    ud = _read_user_data(r, dcs, bool(first & 0x40))
    return Submit(mr, dest, ud, dcs, pid, centre, validity,
                  status_report_request=bool(first & 0x20),
                  reject_duplicates=bool(first & 0x04), reply_path=bool(first & 0x80))


def _read_status_report(r: _Reader, first: int, centre: Address | None) -> StatusReport:
    mr = r.octet("TP-MR")
    recipient = _read_address(r, "TP-RA")
    stamp = _read_timestamp(r.take(7, "TP-SCTS"))
    discharge = _read_timestamp(r.take(7, "TP-DT"))
    status = r.octet("TP-ST")
    # TP-PI and what it announces (PID, DCS, UD) may follow; none of it is needed.
    return StatusReport(mr, recipient, stamp, discharge, status, centre)


# -- writing ---------------------------------------------------------------------------
def _encode_address(addr: Address) -> bytes:
    if addr.ton == TON_ALPHANUMERIC:
        packed = gsm7.pack_septets(gsm7.encode_septets(addr.number))
        semis = (len(gsm7.encode_septets(addr.number)) * 7 + 3) // 4
        return bytes([semis, addr.toa]) + packed
    digits = addr.digits
    if not digits or any(c not in _DIGITS for c in digits) or len(digits) > 20:
        raise PduError(f"address {addr.number!r} must be 1 to 20 digits (0-9 * # a b c)")
    return bytes([len(digits), addr.toa]) + _encode_semi_octets(digits)


def _encode_smsc(addr: Address | None) -> bytes:
    if addr is None:
        return b"\x00"
    digits = addr.digits
    if not digits or any(c not in _DIGITS for c in digits) or len(digits) > 20:
        raise PduError(f"SMSC address {addr.number!r} must be 1 to 20 digits")
    body = bytes([addr.toa]) + _encode_semi_octets(digits)
    return bytes([len(body)]) + body


def _user_data(encoding: str, text: str, concat: Concat | None) -> tuple[int, bytes, bool]:
    """(TP-UDL, TP-UD, UDHI) for one part."""
    header = b""
    if concat is not None:
        if concat.wide:
            ie = bytes([0x08, 4, concat.reference >> 8, concat.reference & 0xFF,
                        concat.total, concat.sequence])
        else:
            ie = bytes([0x00, 3, concat.reference, concat.total, concat.sequence])
        header = bytes([len(ie)]) + ie
    if encoding == "gsm7":
        septets = gsm7.encode_septets(text)
        fill = (7 - (len(header) * 8) % 7) % 7 if header else 0
        udl = (len(header) * 8 + fill) // 7 + len(septets)
        if udl > GSM7_SINGLE:
            raise PduError(f"part of {udl} septets exceeds {GSM7_SINGLE}")
        return udl, header + gsm7.pack_septets(septets, fill), bool(header)
    octets = text.encode("utf-16-be")
    udl = len(header) + len(octets)
    if udl > 140:
        raise PduError(f"part of {udl} octets exceeds 140")
    return udl, header + octets, bool(header)


def _parts(text: str, reference: int, wide_reference: bool
           ) -> tuple[str, list[tuple[str, Concat | None]]]:
    limit = 0xFFFF if wide_reference else 0xFF
    if not 0 <= reference <= limit:
        raise PduError(f"concatenation reference must be 0..{limit}, got {reference}")
    try:
        encoding, texts = split_text(text, wide_reference=wide_reference)
    except ValueError as err:
        raise PduError(str(err)) from None
    if len(texts) == 1:
        return encoding, [(texts[0], None)]
    return encoding, [(t, Concat(reference, len(texts), i, wide_reference))
                      for i, t in enumerate(texts, start=1)]


def encode_submit(destination: str | Address, text: str, *, reference: int = 0,
                  concat_reference: int = 0, wide_reference: bool = False,
                  smsc: str | Address | None = None,
                  validity: dt.timedelta | None = dt.timedelta(days=2),
                  status_report: bool = True, reject_duplicates: bool = False,
                  message_class: int | None = None) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for ``text`` to ``destination``, one per part.

    ``reference`` is TP-MR (modules commonly put their own counter there and report it
    in ``+CMGS: <mr>``: match status reports to that one). ``concat_reference`` ties the
    parts together and must differ from other long messages in flight to the same
    recipient. ``smsc`` None leaves the SMSC to the SIM's (the prefix is ``00``).
    """
    dest = destination if isinstance(destination, Address) else Address.parse(destination)
    if dest.ton == TON_ALPHANUMERIC:
        raise PduError(f"cannot send to {dest.number!r}: a destination must be a number")
    centre = smsc if isinstance(smsc, Address) or smsc is None else Address.parse(smsc)
    if not 0 <= reference <= 255:
        raise PduError(f"TP-MR must be 0..255, got {reference}")
    encoding, parts = _parts(text, concat_reference, wide_reference)
    dcs = _dcs_octet(encoding, message_class)
    vp = b"" if validity is None else bytes([validity_octet(validity)])
    out = []
    for n, (chunk, concat) in enumerate(parts, start=1):
        udl, ud, udhi = _user_data(encoding, chunk, concat)
        first = (0x01 | (0x04 if reject_duplicates else 0) | (0x10 if vp else 0)
                 | (0x20 if status_report else 0) | (0x40 if udhi else 0))
        tpdu = (bytes([first, reference]) + _encode_address(dest) + bytes([0, dcs]) + vp
                + bytes([udl]) + ud)
        out.append(SubmitPdu(_encode_smsc(centre) + tpdu, len(tpdu), n, len(parts)))
    return out


def encode_deliver(sender: str | Address, text: str, timestamp: dt.datetime, *,
                   smsc: str | Address | None = None, concat_reference: int = 0,
                   wide_reference: bool = False, status_report_indication: bool = False,
                   message_class: int | None = None) -> list[bytes]:
    """SMS-DELIVER PDUs (SMSC prefix first), one per part: what a network sends."""
    orig = sender if isinstance(sender, Address) else Address.parse(sender)
    centre = smsc if isinstance(smsc, Address) or smsc is None else Address.parse(smsc)
    encoding, parts = _parts(text, concat_reference, wide_reference)
    dcs = _dcs_octet(encoding, message_class)
    stamp = _encode_timestamp(timestamp)
    out = []
    for n, (chunk, concat) in enumerate(parts, start=1):
        udl, ud, udhi = _user_data(encoding, chunk, concat)
        # TP-MMS set means no more messages are waiting (§9.2.3.2).
        first = (0x00 | (0x04 if n == len(parts) else 0)
                 | (0x20 if status_report_indication else 0) | (0x40 if udhi else 0))
        tpdu = bytes([first]) + _encode_address(orig) + bytes([0, dcs]) + stamp + \
            bytes([udl]) + ud
        out.append(_encode_smsc(centre) + tpdu)
    return out


def encode_status_report(reference: int, recipient: str | Address, status: int,
                         timestamp: dt.datetime, discharge: dt.datetime, *,
                         smsc: str | Address | None = None) -> bytes:
    """An SMS-STATUS-REPORT (SMSC prefix first) for message ``reference``."""
    rcpt = recipient if isinstance(recipient, Address) else Address.parse(recipient)
    centre = smsc if isinstance(smsc, Address) or smsc is None else Address.parse(smsc)
    if not 0 <= reference <= 255 or not 0 <= status <= 255:
        raise PduError(f"TP-MR {reference} and TP-ST {status} must be 0..255")
    tpdu = bytes([0x06, reference]) + _encode_address(rcpt) + _encode_timestamp(timestamp) \
        + _encode_timestamp(discharge) + bytes([status])
    return _encode_smsc(centre) + tpdu


def join_parts(parts: Sequence[UserData]) -> str:
    """The text of parts given in sequence order (their payloads joined, then decoded:
    a surrogate pair or escape a sender split across parts still reads right)."""
    if not parts:
        return ""
    encoding = parts[0].encoding
    if any(p.encoding != encoding for p in parts):
        return "".join(p.text for p in parts)
    return decode_payload(encoding, b"".join(p.payload for p in parts))
