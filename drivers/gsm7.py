"""The GSM 7-bit default alphabet and its septet packing (3GPP TS 23.038 §6.1.2, §6.2.1).

SMS text goes out in GSM-7 when every character is in the default alphabet or its
extension table, and in UCS-2 otherwise (``drivers/sms.py`` splits a text into parts, the
mobile backend's ``pdu.py`` encodes them). Characters of the extension table cost two
septets, the escape 0x1B and the character's code: a message splitter must count them as
two and never put the escape and its character in different parts (:func:`septet_cost`).
It sits beside the SMS link rather than in the backend because the gateway counts SMS
limits in parts, and may not import backends.

Pure functions, no I/O. Errors are :class:`Gsm7Error` (a ValueError) naming the character
or septet at fault.
"""

from __future__ import annotations

from trunkline.errors import TrunklineError

__all__ = [
    "ESCAPE",
    "Gsm7Error",
    "decode_septets",
    "encode_septets",
    "is_gsm7",
    "pack_septets",
    "septet_cost",
    "unpack_septets",
]

ESCAPE = 0x1B

#: TS 23.038 §6.2.1, the default alphabet, code 0x00 to 0x7F in order. 0x1B is the
#: escape to the extension table and has no character of its own (here a placeholder
#: that no encoder looks up: ``_ENCODE`` leaves it out).
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(DEFAULT_ALPHABET) == 128

#: TS 23.038 §6.2.1.1, the default alphabet extension table: code after 0x1B -> character.
#: 0x0A is a page break (form feed); 0x1B would escape to a further table, not yet defined.
EXTENSION = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
    0x3E: "]", 0x40: "|", 0x65: "€",
}

_ENCODE: dict[str, tuple[int, ...]] = {
    ch: (code,) for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESCAPE
}
_ENCODE.update({ch: (ESCAPE, code) for code, ch in EXTENSION.items()})


class Gsm7Error(TrunklineError, ValueError):
    """Text that the GSM 7-bit alphabet cannot carry, or septets that are not septets."""


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet or its extension."""
    return all(ch in _ENCODE for ch in text)


def septet_cost(ch: str) -> int:
    """Septets one character takes: 1, or 2 for the extension table (escape + code)."""
    try:
        return len(_ENCODE[ch])
    except KeyError:
        raise Gsm7Error(f"character {ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit "
                        "alphabet") from None


def encode_septets(text: str) -> bytes:
    """``text`` as septet values (one byte each, 0..127)."""
    out = bytearray()
    for ch in text:
        try:
            out.extend(_ENCODE[ch])
        except KeyError:
            raise Gsm7Error(f"character {ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit "
                            "alphabet") from None
    return bytes(out)


def decode_septets(septets: bytes) -> str:
    """Septet values back to text.

    An escape before a code the extension table does not define shows the default
    alphabet's character for that code, and an escape before another escape shows a
    space, as TS 23.038 §6.2.1.1 tells a receiver to; a lone escape at the very end (a
    sender that split a pair) shows nothing.
    """
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        code = septets[i]
        if code > 0x7F:
            raise Gsm7Error(f"septet {i} has value 0x{code:02X}, more than 7 bits")
        if code != ESCAPE:
            out.append(DEFAULT_ALPHABET[code])
            i += 1
            continue
        if i + 1 >= n:
            break
        nxt = septets[i + 1]
        if nxt > 0x7F:
            raise Gsm7Error(f"septet {i + 1} has value 0x{nxt:02X}, more than 7 bits")
        if nxt == ESCAPE:
            out.append(" ")
        else:
            out.append(EXTENSION.get(nxt, DEFAULT_ALPHABET[nxt]))
        i += 2
    return "".join(out)


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets into octets, least significant bit first (TS 23.038 §6.1.2.1.1).

    ``fill_bits`` zero bits come first: after a user data header the first septet must
    start on a septet boundary counted from the start of the user data (TS 23.040
    §9.2.3.24), so the caller passes ``(7 - (8 * header_octets) % 7) % 7``.
    """
    if not 0 <= fill_bits <= 6:
        raise Gsm7Error(f"fill_bits must be 0..6, got {fill_bits}")
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for i, s in enumerate(septets):
        if s > 0x7F:
            raise Gsm7Error(f"septet {i} has value 0x{s:02X}, more than 7 bits")
        acc |= s << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """The first ``count`` septets packed in ``data`` after ``fill_bits`` bits."""
    if not 0 <= fill_bits <= 6:
        raise Gsm7Error(f"fill_bits must be 0..6, got {fill_bits}")
    needed = (fill_bits + 7 * count + 7) // 8
    if needed > len(data):
        raise Gsm7Error(f"{count} septets need {needed} octets, only {len(data)} present")
    value = int.from_bytes(data[:needed], "little") >> fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))
