"""Caller ID on analog lines: the message, its FSK signal, and a streaming receiver.

An exchange tells an analog line who is calling by sending a short data message in the
silence between the first and second rings (or, in the DTMF variants, as digits before
the first ring). Inbound calls on FXO ports need it to show the caller, and agents'
phones on FXS ports show it when we ring them, so both directions are here:

- **The message** (Telcordia GR-30-CORE; ETSI EN 300 659-3 uses the same layout):
  message type (0x04 SDMF or 0x80 MDMF), length, data words, and a checksum that makes
  the modulo-256 sum of every word zero. MDMF carries parameters as (type, length,
  value): 0x01 date and time ``MMDDHHMM``, 0x02 the calling number, 0x04 why it is
  absent (``O`` unavailable, ``P`` private), 0x07 the name, 0x08 why the name is absent.
- **The signal**: 1200 baud FSK, each byte framed by a start bit (0) and a stop bit (1),
  after a channel seizure of 300 alternating bits and 180 mark bits. Bell 202 (GR-30:
  North America, and China, Taiwan and Hong Kong, as spandsp's adsi.h lists them) has
  mark 1200 Hz and space 2200 Hz; ITU-T V.23 (ETSI CLIP, Europe) has 1300 and 2100 Hz.
- **The DTMF variants** (EN 300 659-1 annex B, as spandsp's adsi.h describes them):
  ``A`` + number + ``C`` (or ``#``); ``B``/``D`` + an absence code.

:class:`FskReceiver` is sans-IO: samples in, messages out, with its state carried from
one 20 ms frame to the next. It demodulates with a quadrature discriminator around the
1700 Hz centre both standards share (so one receiver hears either), and frames bytes by
their start and stop bits, so it works on a line whose level and noise it cannot know in
advance. It is checked against spandsp's ADSI transmitter and receiver
(tests/detector/test_callerid.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.signal import firwin, lfilter

from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.errors import TrunklineError

__all__ = [
    "FSK_STANDARDS", "STANDARDS", "CallerId", "CallerIdError", "CallerIdEvent", "FskReceiver",
    "decode_message", "dtmf_caller_id", "dtmf_signal", "encode_message", "modulate",
]

RATE = 8000
BAUD = 1200
#: (mark, space) in Hz: GR-30-CORE (Bell 202) and ITU-T V.23 mode 2.
FSK_STANDARDS: dict[str, tuple[float, float]] = {"bell202": (1200.0, 2200.0),
                                                 "v23": (1300.0, 2100.0)}
STANDARDS = (*FSK_STANDARDS, "dtmf")
SDMF, MDMF = 0x04, 0x80
#: MDMF parameter types (GR-30-CORE; EN 300 659-3 gives the same numbers).
P_DATETIME, P_NUMBER, P_NUMBER_ABSENT, P_NAME, P_NAME_ABSENT = 0x01, 0x02, 0x04, 0x07, 0x08
#: GR-30-CORE: channel seizure and mark before the message, in bits.
SEIZURE_BITS, MARK_BITS = 300, 180
#: Transmit level: GR-30-CORE's -13.5 dBm into the line; ETSI EN 300 659-1 allows
#: -5.5 to -13.5 dBV. dBm0 here is the level of a sine against G.711's full scale.
DEFAULT_DBM0 = -13.0
#: A-law's 0 dBm0 sine amplitude (G.711: +3.14 dBm0 is full scale 32767).
_DBM0_AMPLITUDE = 32767 / 10 ** (3.14 / 20)
_CENTRE = 1700.0       # both standards' centre frequency
_SPB = RATE / BAUD     # samples per bit (6.67)
#: The receiver decodes only while the band holds this much power (≈ -45 dBm0): below
#: it the discriminator's sign is noise.
_CARRIER_POWER = (_DBM0_AMPLITUDE * 10 ** (-45 / 20)) ** 2 / 2
_LOWPASS = firwin(31, 1100.0, fs=RATE)
_PRINTABLE = bytes(range(0x20, 0x7F))


class CallerIdError(TrunklineError):
    """A caller ID message that cannot be read (bad checksum, length, or layout)."""


@dataclass(frozen=True, slots=True)
class CallerId:
    """Who is calling, as the exchange said it (fields it did not send are empty)."""

    number: str = ""
    name: str = ""
    when: str = ""
    """``MMDDHHMM`` as sent (the exchange's local time; no year)."""
    number_absent: str = ""
    """``O`` (out of area, unavailable) or ``P`` (private) when no number is given."""
    name_absent: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("number", self.number), ("name", self.name),
                                  ("when", self.when), ("number_absent", self.number_absent),
                                  ("name_absent", self.name_absent)) if v}


@dataclass(frozen=True, slots=True)
class CallerIdEvent(DetectionEvent):
    """A caller ID message read on a channel (the line loop's FSK receivers)."""

    kind: ClassVar[str] = "callerid"
    caller: CallerId


# -- the message ----------------------------------------------------------------------

def encode_message(cid: CallerId, *, mdmf: bool = True) -> bytes:
    """The message words with their checksum. SDMF carries only the time and the
    number (or its absence code); MDMF carries every field given."""
    if cid.when and (len(cid.when) != 8 or not cid.when.isdigit()):
        raise CallerIdError(f"the time {cid.when!r} is not MMDDHHMM")
    for label, text in (("number", cid.number), ("name", cid.name)):
        if not text.isascii() or not set(text.encode()) <= set(_PRINTABLE):
            raise CallerIdError(f"the {label} {text!r} is not printable ASCII")
    if mdmf:
        body = b""
        for kind, value in ((P_DATETIME, cid.when), (P_NUMBER, cid.number),
                            (P_NUMBER_ABSENT, cid.number_absent), (P_NAME, cid.name),
                            (P_NAME_ABSENT, cid.name_absent)):
            if value:
                raw = value.encode("ascii")
                if len(raw) > 255:
                    raise CallerIdError(f"parameter {kind:#04x} is longer than 255 bytes")
                body += bytes([kind, len(raw)]) + raw
        kind_word = MDMF
    else:
        body = (cid.when or "00000000").encode() + (cid.number or cid.number_absent or "O"
                                                    ).encode()
        kind_word = SDMF
    if len(body) > 255:
        raise CallerIdError("the message is longer than 255 words")
    words = bytes([kind_word, len(body)]) + body
    return words + bytes([(-sum(words)) & 0xFF])


def decode_message(data: bytes) -> CallerId:
    """A message's fields; CallerIdError names what is wrong with a bad one."""
    if len(data) < 3:
        raise CallerIdError(f"a message of {len(data)} bytes is too short")
    kind, length = data[0], data[1]
    if len(data) != length + 3:
        raise CallerIdError(f"the length word says {length} data words, "
                            f"{len(data) - 3} came")
    if sum(data) & 0xFF:
        raise CallerIdError("the checksum does not match")
    body = data[2:-1]
    if kind == SDMF:
        if length < 8:
            raise CallerIdError("an SDMF message needs the date and time")
        when, rest = body[:8].decode("latin-1"), body[8:].decode("latin-1")
        if rest in ("O", "P"):
            return CallerId(when=when, number_absent=rest)
        return CallerId(number=rest, when=when)
    if kind != MDMF:
        raise CallerIdError(f"message type {kind:#04x} is not caller ID (0x04 or 0x80)")
    fields: dict[int, str] = {}
    at = 0
    while at < len(body):
        if at + 2 > len(body) or at + 2 + body[at + 1] > len(body):
            raise CallerIdError(f"parameter at word {at} runs past the message")
        kind_p, size = body[at], body[at + 1]
        fields[kind_p] = body[at + 2: at + 2 + size].decode("latin-1")
        at += 2 + size
    return CallerId(number=fields.get(P_NUMBER, ""), name=fields.get(P_NAME, ""),
                    when=fields.get(P_DATETIME, ""),
                    number_absent=fields.get(P_NUMBER_ABSENT, ""),
                    name_absent=fields.get(P_NAME_ABSENT, ""))


# -- DTMF caller ID ---------------------------------------------------------------------

def dtmf_signal(cid: CallerId) -> str:
    """The digits an exchange sends for ``cid`` (EN 300 659-1 annex B: ``A`` number
    ``C``; ``B`` + ``00`` unavailable or ``10`` private, then ``C``)."""
    if cid.number:
        if not set(cid.number) <= set("0123456789"):
            raise CallerIdError(f"the number {cid.number!r} cannot be sent as DTMF")
        return f"A{cid.number}C"
    return "B10C" if cid.number_absent == "P" else "B00C"


def dtmf_caller_id(digits: str) -> CallerId | None:
    """The caller ID in a string of received digits, None when it holds none. Both
    terminations are read (``C`` and ``#``), and ``D`` as a start as the variants of
    EN 300 659-1 annex B use it."""
    for start in ("A", "D", "B"):
        at = digits.find(start)
        if at < 0:
            continue
        rest = digits[at + 1:]
        end = min((i for i in (rest.find("C"), rest.find("#")) if i >= 0), default=-1)
        if end < 0:
            continue
        value = rest[:end]
        if start == "B":
            return CallerId(number_absent="P" if value == "10" else "O")
        if value.isdigit():
            return CallerId(number=value)
    return None


# -- the FSK signal -------------------------------------------------------------------

def _bits(message: bytes, seizure: int, mark: int, stop_bits: int) -> np.ndarray:
    bits = [i % 2 for i in range(seizure)] + [1] * mark
    for byte in message:
        bits += [0] + [(byte >> k) & 1 for k in range(8)] + [1] * stop_bits
    bits += [1] * 8  # the line settles on mark before the transmitter stops
    return np.array(bits, dtype=np.int8)


def modulate(message: bytes, standard: str = "bell202", *, seizure_bits: int = SEIZURE_BITS,
             mark_bits: int = MARK_BITS, dbm0: float = DEFAULT_DBM0,
             stop_bits: int = 1) -> np.ndarray:
    """The FSK signal (float samples at 8 kHz, phase continuous) carrying ``message``."""
    if standard not in FSK_STANDARDS:
        raise CallerIdError(f"{standard!r} is not one of {sorted(FSK_STANDARDS)}")
    mark, space = FSK_STANDARDS[standard]
    bits = _bits(message, seizure_bits, mark_bits, stop_bits)
    # Each sample takes the bit its time falls in (bit k spans [k, k+1) * SPB).
    index = np.minimum((np.arange(int(np.ceil(len(bits) * _SPB))) / _SPB).astype(int),
                       len(bits) - 1)
    freq = np.where(bits[index] == 1, mark, space)
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    return _DBM0_AMPLITUDE * 10 ** (dbm0 / 20) * np.sin(phase)


class FskReceiver:
    """Caller ID messages out of a stream of samples (sans-IO; see the module docstring).

    :meth:`feed` takes any number of samples (int16 or float) and returns the messages
    completed in them, each as its words (checked: type, length and checksum). Bytes
    that never make a valid message are counted in :attr:`bad_bytes`.
    """

    def __init__(self) -> None:
        self._n = 0                                 # samples mixed so far (the phase)
        self._zi = np.zeros(len(_LOWPASS) - 1, complex)
        self._last = 0j
        self._power = 0.0
        self._bits = np.zeros(0, np.int8)            # 1 mark, 0 space, -1 no carrier
        self._base = 0                               # the stream index of _bits[0]
        self._at = 1                                 # where the next start is looked for
        self._stop: int | None = None                # the last byte's stop bit (index)
        self._words: list[int] = []
        self.bad_bytes = 0

    @property
    def samples(self) -> int:
        """Samples fed so far (event times are counted in them)."""
        return self._n

    def feed(self, samples: np.ndarray) -> list[bytes]:
        x = np.asarray(samples, dtype=np.float64)
        if not len(x):
            return []
        t = (self._n + np.arange(len(x))) / RATE
        self._n += len(x)
        mixed = x * np.exp(-2j * np.pi * _CENTRE * t)
        z, self._zi = lfilter(_LOWPASS, 1.0, mixed, zi=self._zi)
        prev = np.concatenate(([self._last], z[:-1]))
        self._last = z[-1]
        freq = np.angle(z * np.conj(prev))          # > 0: above 1700 Hz, a space
        power = np.abs(z) ** 2
        # One-pole smoothing of the band's power, carried from frame to frame.
        smooth = lfilter([0.05], [1, -0.95], power, zi=[0.95 * self._power])[0]
        self._power = float(smooth[-1])
        bits = np.where(smooth > _CARRIER_POWER, (freq < 0).astype(np.int8), -1)
        self._bits = np.concatenate((self._bits, bits.astype(np.int8)))
        return self._frame_bytes()

    def _frame_bytes(self) -> list[bytes]:
        out: list[bytes] = []
        bits = self._bits
        at = max(self._at - self._base, 1)
        while True:
            # The next start bit: a space after a mark.
            edges = np.flatnonzero((bits[at:] == 0) & (bits[at - 1:-1] == 1)) + at
            lost = np.flatnonzero(bits[at:] < 0)
            if len(lost) and (not len(edges) or lost[0] + at < edges[0]):
                self._end_of_carrier()
            if not len(edges):
                at = max(at, len(bits) - 1)
                break
            start = int(edges[0])
            if start + int(9.5 * _SPB) + 1 >= len(bits):
                at = start
                break
            sample = [bits[start + int((k + 0.5) * _SPB)] for k in range(10)]
            if sample[0] != 0 or sample[9] != 1 or min(sample) < 0:
                at = start + 1  # a glitch, not a start bit
                continue
            byte = sum(int(b) << k for k, b in enumerate(sample[1:9]))
            idle = (self._base + start - self._stop) / _SPB if self._stop is not None \
                else float("inf")
            message = self._word(byte, idle)
            if message is not None:
                out.append(message)
            at = start + int(9.5 * _SPB)
            self._stop = self._base + at
        keep = max(at - 1, 0)
        self._bits = bits[keep:]
        self._base += keep
        self._at = self._base + at - keep
        return out

    def _word(self, byte: int, idle_bits: float) -> bytes | None:
        """Add one received word; a message when it completes a valid one. A word after
        a long mark (the 180 bits before a message) starts a new message."""
        if idle_bits >= 10 and self._words:
            self.bad_bytes += len(self._words)
            self._words = []
        if not self._words and byte not in (SDMF, MDMF):
            self.bad_bytes += 1  # channel seizure, or noise
            return None
        self._words.append(byte)
        words = self._words
        if len(words) >= 2 and len(words) == words[1] + 3:
            self._words = []
            data = bytes(words)
            if sum(data) & 0xFF:
                self.bad_bytes += len(data)
                return None
            return data
        return None

    def _end_of_carrier(self) -> None:
        if self._words:
            self.bad_bytes += len(self._words)
            self._words = []
        self._stop = None
