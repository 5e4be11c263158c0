"""ISUP messages and parameters (ITU-T Q.763, 12/1999), encoded and decoded.

A message is its CIC (Q.763 1.2: 12 bits in two octets, 4 spare bits), its type code
(Table 4), the mandatory fixed parameters, one pointer per mandatory variable parameter
and one to the optional part (when the message has one), the variable parameters (a length
octet each) and the optional parameters (code, length, value; ended by a 0 octet)
(Q.763 1.3-1.8). Each message class declares that layout in ``SPEC`` beside the Q.763
table it follows; one encoder and one decoder read the specs.

:func:`decode_isup` raises only :class:`~.errors.Ss7CodecError`, naming the field; a
message type we do not implement decodes to :class:`Unknown` (Q.764 2.9.5 decides what to
do with it). Unknown optional parameters are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final

from trunkline.causes import cause_name

from .errors import Ss7CodecError

__all__ = [
    "CATEGORY_ORDINARY", "MESSAGE_TYPES", "Acm", "Anm", "Bla", "Blo", "Cause", "Cgb", "Cgba",
    "Cgu", "Cgua", "Con", "Cpg", "Gra", "Grs", "Iam", "IsupMessage", "PartyNumber", "Rel",
    "Res", "Rlc", "Rsc", "Sus", "Uba", "Ubl", "Unknown", "decode_isup",
]

#: Calling party's category: ordinary calling subscriber (Q.763 3.11).
CATEGORY_ORDINARY: Final = 0x0A

# Address signals (Q.763 3.9 f): digits 0-9, code 11 and code 12 (written * and #, as
# DSS1 interworking maps them), ST (end of pulsing, 1111) marks the number complete.
_DIGIT_CODES: Final = {**{str(d): d for d in range(10)}, "*": 0xB, "#": 0xC}
#: libss7 sends * as 1110 (a spare code): read it as * too.
_CODE_DIGITS: Final = {v: k for k, v in _DIGIT_CODES.items()} | {0xE: "*"}
ST: Final = 0xF


@dataclass(frozen=True, slots=True)
class PartyNumber:
    """A called or calling party number (Q.763 3.9, 3.10).

    ``nai`` nature of address (1 subscriber, 2 unknown, 3 national, 4 international);
    ``plan`` numbering plan (1 E.164); ``complete`` (called number) whether ST ends it;
    ``inn`` (called) internal network number indicator; ``presentation`` and
    ``screening`` (calling, Q.763 3.10 d, e); ``incomplete`` (calling, NI bit).
    """

    digits: str
    nai: int = 3
    plan: int = 1
    complete: bool = True
    inn: int = 0
    presentation: int = 0
    screening: int = 3
    incomplete: bool = False

    def __post_init__(self) -> None:
        bad = [c for c in self.digits if c not in _DIGIT_CODES]
        if bad:
            raise Ss7CodecError(f"number {self.digits!r}: address signals are 0-9, * and #, "
                                f"not {''.join(bad)!r}")
        if len(self.digits) > 40:
            raise Ss7CodecError(f"number {self.digits!r}: at most 40 address signals")
        for name, limit in (("nai", 127), ("plan", 7), ("inn", 1), ("presentation", 3),
                            ("screening", 3)):
            value = getattr(self, name)
            if isinstance(value, bool) or not 0 <= value <= limit:
                raise Ss7CodecError(f"number {self.digits!r}: {name} must be 0..{limit}, "
                                    f"got {value!r}")

    def _signals(self, with_st: bool) -> tuple[bytes, bytes]:
        codes = [_DIGIT_CODES[c] for c in self.digits] + ([ST] if with_st else [])
        odd = len(codes) % 2
        if odd:
            codes.append(0)
        out = bytes(codes[i] | codes[i + 1] << 4 for i in range(0, len(codes), 2))
        return bytes([odd << 7 | self.nai]), out

    def encode_called(self) -> bytes:
        first, signals = self._signals(self.complete)
        return first + bytes([self.inn << 7 | self.plan << 4]) + signals

    def encode_calling(self) -> bytes:
        first, signals = self._signals(False)
        second = self.incomplete << 7 | self.plan << 4 | self.presentation << 2 | self.screening
        return first + bytes([second]) + signals

    @staticmethod
    def _digits(data: bytes, what: str) -> tuple[str, bool]:
        if len(data) < 2:
            raise Ss7CodecError(f"{what}: {len(data)} octets, at least 2")
        odd = data[0] >> 7
        codes: list[int] = []
        for octet in data[2:]:
            codes += [octet & 0x0F, octet >> 4]
        if odd:
            if not codes:
                raise Ss7CodecError(f"{what}: odd indicator set but no address signals")
            codes.pop()
        complete = bool(codes) and codes[-1] == ST
        if complete:
            codes.pop()
        if ST in codes:
            raise Ss7CodecError(f"{what}: ST before the last address signal")
        try:
            return "".join(_CODE_DIGITS[c] for c in codes), complete
        except KeyError as err:
            raise Ss7CodecError(f"{what}: address signal {err.args[0]:#x} is spare") from None

    @classmethod
    def decode_called(cls, data: bytes) -> PartyNumber:
        digits, complete = cls._digits(data, "called party number")
        return cls(digits, nai=data[0] & 0x7F, plan=data[1] >> 4 & 7, complete=complete,
                   inn=data[1] >> 7)

    @classmethod
    def decode_calling(cls, data: bytes) -> PartyNumber:
        digits, _ = cls._digits(data, "calling party number")
        return cls(digits, nai=data[0] & 0x7F, plan=data[1] >> 4 & 7, complete=False,
                   presentation=data[1] >> 2 & 3, screening=data[1] & 3,
                   incomplete=bool(data[1] >> 7))


@dataclass(frozen=True, slots=True)
class Cause:
    """Cause indicators (Q.763 3.12 refers to Q.850 2.1): the cause value, its location
    (0 user, 1 private network serving the local user, 2 public network serving the local
    user...) and coding standard (0 ITU-T, 2 national)."""

    value: int
    location: int = 0
    coding: int = 0
    diagnostic: bytes = b""

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not 0 <= self.value <= 127:
            raise Ss7CodecError(f"cause value must be 0..127, got {self.value!r}")
        if not 0 <= self.location <= 15 or not 0 <= self.coding <= 3:
            raise Ss7CodecError(f"cause location {self.location} (0..15) or coding "
                                f"{self.coding} (0..3) out of range")

    @property
    def name(self) -> str:
        return cause_name(self.value)

    def encode(self) -> bytes:
        return bytes([0x80 | self.coding << 5 | self.location, 0x80 | self.value]) \
            + self.diagnostic

    @classmethod
    def decode(cls, data: bytes) -> Cause:
        if len(data) < 2:
            raise Ss7CodecError(f"cause indicators: {len(data)} octets, at least 2")
        index = 1
        if not data[0] & 0x80:   # octet 1a (recommendation) present
            index = 2
            if len(data) < 3:
                raise Ss7CodecError("cause indicators: octet 1a present but no cause value")
        return cls(data[index] & 0x7F, data[0] & 0x0F, data[0] >> 5 & 3,
                   bytes(data[index + 1:]))


# -- parameter codecs --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Param:
    """One parameter: its code (Q.763 Table 5), fixed length (None: variable), and how
    its value is built from and turned into octets."""

    code: int
    name: str
    length: int | None
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def _int_param(code: int, name: str, length: int) -> _Param:
    def enc(value: int) -> bytes:
        if isinstance(value, bool) or not 0 <= value < 1 << 8 * length:
            raise Ss7CodecError(f"{name} must be 0..{(1 << 8 * length) - 1}, got {value!r}")
        return int(value).to_bytes(length, "little")

    def dec(data: bytes) -> int:
        if len(data) != length:
            raise Ss7CodecError(f"{name}: {len(data)} octets, expected {length}")
        return int.from_bytes(data, "little")

    return _Param(code, name, length, enc, dec)


def _range_encode(value: tuple[int, tuple[bool, ...] | None]) -> bytes:
    rng, status = value
    if not 0 <= rng <= 255:
        raise Ss7CodecError(f"range and status: range must be 0..255, got {rng}")
    if status is None:
        return bytes([rng])
    if len(status) != rng + 1:
        raise Ss7CodecError(f"range and status: range {rng} needs {rng + 1} status bits, "
                            f"got {len(status)}")
    bits = sum(1 << i for i, flag in enumerate(status) if flag)
    return bytes([rng]) + bits.to_bytes((rng + 8) // 8, "little")


def _range_decode(data: bytes) -> tuple[int, tuple[bool, ...] | None]:
    if not data:
        raise Ss7CodecError("range and status: empty")
    rng = data[0]
    if len(data) == 1:
        return rng, None
    need = (rng + 8) // 8
    if len(data) - 1 < need:
        raise Ss7CodecError(f"range and status: range {rng} needs {need} status octets, "
                            f"got {len(data) - 1}")
    bits = int.from_bytes(data[1:1 + need], "little")
    return rng, tuple(bool(bits >> i & 1) for i in range(rng + 1))


def _raw(code: int, name: str) -> _Param:
    return _Param(code, name, None, bytes, bytes)


NATURE = _int_param(0x06, "nature of connection indicators", 1)
FORWARD = _int_param(0x07, "forward call indicators", 2)
CATEGORY = _int_param(0x09, "calling party's category", 1)
MEDIUM = _int_param(0x02, "transmission medium requirement", 1)
BACKWARD = _int_param(0x11, "backward call indicators", 2)
EVENT = _int_param(0x24, "event information", 1)
SUSPEND = _int_param(0x22, "suspend/resume indicators", 1)
GROUP_TYPE = _int_param(0x15, "circuit group supervision message type", 1)
CALLED = _Param(0x04, "called party number", None, PartyNumber.encode_called,
                PartyNumber.decode_called)
CALLING = _Param(0x0A, "calling party number", None, PartyNumber.encode_calling,
                 PartyNumber.decode_calling)
CAUSE = _Param(0x12, "cause indicators", None, Cause.encode, Cause.decode)
RANGE = _Param(0x16, "range and status", None, _range_encode, _range_decode)
CONNECTED = _raw(0x21, "connected number")
OPT_BACKWARD = _int_param(0x29, "optional backward call indicators", 1)


@dataclass(frozen=True, slots=True)
class Spec:
    """A message's layout: (field, parameter) for the mandatory fixed, mandatory variable
    and optional parts; ``optional_part`` whether it has one (a pointer) at all."""

    fixed: tuple[tuple[str, _Param], ...] = ()
    variable: tuple[tuple[str, _Param], ...] = ()
    optional: tuple[tuple[str, _Param], ...] = ()
    optional_part: bool = True


# -- messages ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IsupMessage:
    """Base of every ISUP message: its circuit identification code."""

    cic: int
    TYPE: ClassVar[int] = -1
    NAME: ClassVar[str] = ""
    SPEC: ClassVar[Spec] = Spec()

    def __post_init__(self) -> None:
        if isinstance(self.cic, bool) or not 0 <= self.cic <= 0xFFF:
            raise Ss7CodecError(f"{self.NAME or 'ISUP message'}: CIC must be 0..4095, "
                                f"got {self.cic!r}")

    def encode(self) -> bytes:
        """CIC, message type and parameters (the MTP3 user part body)."""
        spec = self.SPEC
        out = bytearray(self.cic.to_bytes(2, "little"))
        out.append(self.TYPE)
        for name, param in spec.fixed:
            value = param.encode(getattr(self, name))
            if len(value) != param.length:
                raise Ss7CodecError(f"{self.NAME}: {param.name} is {len(value)} octets, "
                                    f"expected {param.length}")
            out += value
        variables = [param.encode(getattr(self, name)) for name, param in spec.variable]
        optionals = b"".join(
            bytes([param.code, len(data)]) + data
            for name, param in spec.optional
            if getattr(self, name) is not None
            for data in [param.encode(getattr(self, name))])
        pointers = len(variables) + spec.optional_part
        body = bytearray()
        position = pointers   # offset of the next parameter from the first pointer
        pointer_octets = bytearray()
        for index, value in enumerate(variables):
            if len(value) > 255:
                raise Ss7CodecError(f"{self.NAME}: {spec.variable[index][1].name} is longer "
                                    f"than 255 octets")
            pointer_octets.append(position - index)
            body += bytes([len(value)]) + value
            position += 1 + len(value)
        if spec.optional_part:
            pointer_octets.append((position - len(variables)) if optionals else 0)
            if optionals:
                body += optionals + b"\x00"
        if any(p > 255 for p in pointer_octets):
            raise Ss7CodecError(f"{self.NAME}: message too long for its pointers")
        return bytes(out + pointer_octets + body)

    def detail(self) -> dict[str, Any]:
        """Fields for traces (numbers as digits, causes as values)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, PartyNumber):
                value = value.digits
            elif isinstance(value, Cause):
                value = value.value
            out[f.name] = value
        return out


def _message(type_code: int, name: str, spec: Spec) -> Callable[[type[IsupMessage]],
                                                                  type[IsupMessage]]:
    def wrap(cls: type[IsupMessage]) -> type[IsupMessage]:
        cls.TYPE, cls.NAME, cls.SPEC = type_code, name, spec
        MESSAGE_TYPES[type_code] = cls
        return cls
    return wrap


#: Message classes by type code (Q.763 Table 4).
MESSAGE_TYPES: dict[int, type[IsupMessage]] = {}


@_message(0x01, "IAM", Spec(  # Q.763 Table 32
    fixed=(("nature", NATURE), ("forward", FORWARD), ("category", CATEGORY),
           ("medium", MEDIUM)),
    variable=(("called", CALLED),), optional=(("calling", CALLING),)))
@dataclass(frozen=True, slots=True)
class Iam(IsupMessage):
    """Initial address. ``forward`` is the two octets of the forward call indicators,
    first octet in the low byte (Q.763 3.23: 0x0020 = national call, ISUP all the way,
    ISUP preferred, non-ISDN access); ``medium`` 0 speech, 3 3.1 kHz audio (3.54)."""

    called: PartyNumber = PartyNumber("0")
    calling: PartyNumber | None = None
    category: int = CATEGORY_ORDINARY
    nature: int = 0
    forward: int = 0x0020
    medium: int = 0


@_message(0x06, "ACM", Spec(fixed=(("backward", BACKWARD),)))  # Q.763 Table 21
@dataclass(frozen=True, slots=True)
class Acm(IsupMessage):
    """Address complete. ``backward`` (Q.763 3.5): bits D-C of the first octet are the
    called party's status (1 subscriber free), bits F-E its category (1 ordinary)."""

    backward: int = 0x0016   # charge, subscriber free, ordinary subscriber

    @property
    def subscriber_free(self) -> bool:
        return (self.backward >> 2 & 3) == 1


@_message(0x07, "CON", Spec(fixed=(("backward", BACKWARD),)))  # Q.763 Table 24
@dataclass(frozen=True, slots=True)
class Con(IsupMessage):
    """Connect (answered without an ACM first)."""

    backward: int = 0x0016


@_message(0x09, "ANM", Spec())  # Q.763 Table 22: optional part only
@dataclass(frozen=True, slots=True)
class Anm(IsupMessage):
    """Answer."""


@_message(0x2C, "CPG", Spec(fixed=(("event", EVENT),)))  # Q.763 Table 23
@dataclass(frozen=True, slots=True)
class Cpg(IsupMessage):
    """Call progress. ``event`` (Q.763 3.21): 1 alerting, 2 progress, 3 in-band
    information available, 4-6 call forwarded (busy, no reply, unconditional)."""

    event: int = 1


@_message(0x0C, "REL", Spec(variable=(("cause", CAUSE),)))  # Q.763 Table 26
@dataclass(frozen=True, slots=True)
class Rel(IsupMessage):
    """Release with its cause."""

    cause: Cause = Cause(16)


@_message(0x10, "RLC", Spec())  # Q.763 Table 27
@dataclass(frozen=True, slots=True)
class Rlc(IsupMessage):
    """Release complete."""


@_message(0x0D, "SUS", Spec(fixed=(("indicator", SUSPEND),)))  # Q.763 Table 29
@dataclass(frozen=True, slots=True)
class Sus(IsupMessage):
    """Suspend; ``indicator`` 0 subscriber initiated, 1 network initiated (3.52)."""

    indicator: int = 0


@_message(0x0E, "RES", Spec(fixed=(("indicator", SUSPEND),)))  # Q.763 Table 29
@dataclass(frozen=True, slots=True)
class Res(IsupMessage):
    """Resume."""

    indicator: int = 0


def _no_params(code: int, name: str) -> Callable[[type[IsupMessage]], type[IsupMessage]]:
    return _message(code, name, Spec(optional_part=False))   # Q.763 Table 39


@_no_params(0x13, "BLO")
@dataclass(frozen=True, slots=True)
class Blo(IsupMessage):
    """Blocking."""


@_no_params(0x15, "BLA")
@dataclass(frozen=True, slots=True)
class Bla(IsupMessage):
    """Blocking acknowledgement."""


@_no_params(0x14, "UBL")
@dataclass(frozen=True, slots=True)
class Ubl(IsupMessage):
    """Unblocking."""


@_no_params(0x16, "UBA")
@dataclass(frozen=True, slots=True)
class Uba(IsupMessage):
    """Unblocking acknowledgement."""


@_no_params(0x12, "RSC")
@dataclass(frozen=True, slots=True)
class Rsc(IsupMessage):
    """Reset circuit."""


@_message(0x17, "GRS", Spec(variable=(("range_status", RANGE),), optional_part=False))
@dataclass(frozen=True, slots=True)
class Grs(IsupMessage):
    """Circuit group reset of CICs ``cic`` .. ``cic + range`` (Q.763 Table 41; range 1..31
    and no status field, 3.43)."""

    range_status: tuple[int, tuple[bool, ...] | None] = (1, None)

    @property
    def range(self) -> int:
        return self.range_status[0]


@_message(0x29, "GRA", Spec(variable=(("range_status", RANGE),), optional_part=False))
@dataclass(frozen=True, slots=True)
class Gra(IsupMessage):
    """Circuit group reset acknowledgement: a status bit per circuit, 1 when it is
    blocked for maintenance at the sender (Q.763 3.43)."""

    range_status: tuple[int, tuple[bool, ...] | None] = (1, (False, False))

    @property
    def range(self) -> int:
        return self.range_status[0]


def _group(code: int, name: str) -> Callable[[type[IsupMessage]], type[IsupMessage]]:
    return _message(code, name, Spec(fixed=(("kind", GROUP_TYPE),),   # Q.763 Table 40
                                     variable=(("range_status", RANGE),), optional_part=False))


@dataclass(frozen=True, slots=True)
class _GroupMessage(IsupMessage):
    """Group blocking family: ``kind`` 0 maintenance, 1 hardware failure (Q.763 3.13);
    status bit 1 for each circuit (un)blocked."""

    kind: int = 0
    range_status: tuple[int, tuple[bool, ...] | None] = (1, (True, True))

    @property
    def range(self) -> int:
        return self.range_status[0]

    def circuits(self) -> list[int]:
        status = self.range_status[1] or ()
        return [self.cic + i for i, flag in enumerate(status) if flag]


@_group(0x18, "CGB")
@dataclass(frozen=True, slots=True)
class Cgb(_GroupMessage):
    """Circuit group blocking."""


@_group(0x1A, "CGBA")
@dataclass(frozen=True, slots=True)
class Cgba(_GroupMessage):
    """Circuit group blocking acknowledgement."""


@_group(0x19, "CGU")
@dataclass(frozen=True, slots=True)
class Cgu(_GroupMessage):
    """Circuit group unblocking."""


@_group(0x1B, "CGUA")
@dataclass(frozen=True, slots=True)
class Cgua(_GroupMessage):
    """Circuit group unblocking acknowledgement."""


@dataclass(frozen=True, slots=True)
class Unknown(IsupMessage):
    """A message type we do not implement, kept raw."""

    type_code: int = 0
    data: bytes = b""
    NAME: ClassVar[str] = "UNKNOWN"

    def encode(self) -> bytes:
        return self.cic.to_bytes(2, "little") + bytes([self.type_code]) + self.data


def decode_isup(data: bytes) -> IsupMessage:
    """Decode an ISUP message (the MTP3 body after the routing label).

    Raises :class:`Ss7CodecError` naming the message and field on malformed input."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise Ss7CodecError(f"an ISUP message is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < 3:
        raise Ss7CodecError(f"ISUP message of {len(data)} octets: CIC and type need 3")
    cic = int.from_bytes(data[:2], "little") & 0x0FFF
    type_code = data[2]
    cls = MESSAGE_TYPES.get(type_code)
    if cls is None:
        return Unknown(cic, type_code, data[3:])
    spec = cls.SPEC
    values: dict[str, Any] = {}
    pos = 3
    for name, param in spec.fixed:
        assert param.length is not None
        chunk = data[pos:pos + param.length]
        if len(chunk) != param.length:
            raise Ss7CodecError(f"{cls.NAME}: truncated in {param.name}")
        values[name] = param.decode(chunk)
        pos += param.length
    pointer_count = len(spec.variable) + spec.optional_part
    if len(data) < pos + pointer_count:
        raise Ss7CodecError(f"{cls.NAME}: truncated in its pointers")
    for index, (name, param) in enumerate(spec.variable):
        where = pos + index + data[pos + index]
        if data[pos + index] == 0 or where >= len(data):
            raise Ss7CodecError(f"{cls.NAME}: pointer to {param.name} out of the message")
        length = data[where]
        chunk = data[where + 1:where + 1 + length]
        if len(chunk) != length:
            raise Ss7CodecError(f"{cls.NAME}: {param.name} of {length} octets is truncated")
        values[name] = param.decode(chunk)
    if spec.optional_part:
        pointer_at = pos + len(spec.variable)
        if data[pointer_at]:
            _decode_optional(cls, data, pointer_at + data[pointer_at], values)
    try:
        return cls(cic, **values)
    except (TypeError, ValueError) as err:
        raise Ss7CodecError(f"{cls.NAME}: {err}") from err


def _decode_optional(cls: type[IsupMessage], data: bytes, pos: int,
                     values: dict[str, Any]) -> None:
    known = {param.code: (name, param) for name, param in cls.SPEC.optional}
    while True:
        if pos >= len(data):
            raise Ss7CodecError(f"{cls.NAME}: optional part without its end octet")
        code = data[pos]
        if code == 0:
            return
        if pos + 1 >= len(data):
            raise Ss7CodecError(f"{cls.NAME}: optional parameter {code:#04x} without length")
        length = data[pos + 1]
        chunk = data[pos + 2:pos + 2 + length]
        if len(chunk) != length:
            raise Ss7CodecError(f"{cls.NAME}: optional parameter {code:#04x} is truncated")
        if code in known:
            name, param = known[code]
            values[name] = param.decode(chunk)
        pos += 2 + length
