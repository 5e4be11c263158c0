"""G.711 A-law and mu-law, vectorised and bit-exact with ITU-T G.711.

Encoding goes through a 65,536-entry table (one code per int16 value) and decoding
through a 256-entry table, so converting a (channels x 160) frame is two numpy gathers.
The tables are built once from the segment rules of G.711 (the A-law and mu-law
segment tables of Recommendation G.711, Tables 1a/1b and 2a/2b), with the same rounding
as the reference encoder (inputs truncated to 13 bits for A-law and 14 bits for mu-law).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import numpy as np

Law = Literal["alaw", "ulaw"]
LAWS: tuple[Law, ...] = ("alaw", "ulaw")

#: The A-law code of a zero sample (the idle pattern on an E1 B-channel).
ALAW_SILENCE = 0xD5
#: The mu-law code of a zero sample.
ULAW_SILENCE = 0xFF


def _segment(values: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Index of the first segment end >= value (8 when beyond the last)."""
    return np.searchsorted(ends, values, side="left")


@cache
def _alaw_encode_table() -> np.ndarray:
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit magnitude domain
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    ends = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    seg = _segment(magnitude, ends)
    shift = np.where(seg < 2, 1, seg)
    mantissa = (magnitude >> shift) & 0x0F
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | mantissa)
    return (code ^ mask).astype(np.uint8)


@cache
def _ulaw_encode_table() -> np.ndarray:
    bias = 0x84
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2  # 14-bit domain
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), 8159) + (bias >> 2)
    ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    seg = _segment(magnitude, ends)
    mantissa = (magnitude >> (np.minimum(seg, 7) + 1)) & 0x0F
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | mantissa)
    return (code ^ mask).astype(np.uint8)


@cache
def _alaw_decode_table() -> np.ndarray:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    t = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(code & 0x80, t, -t).astype(np.int16)


@cache
def _ulaw_decode_table() -> np.ndarray:
    bias = 0x84
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    t = ((code & 0x0F) << 3) + bias
    t = t << ((code & 0x70) >> 4)
    return np.where(code & 0x80, bias - t, t - bias).astype(np.int16)


def encode_table(law: Law) -> np.ndarray:
    """The uint8 code for each int16 value, indexed by ``value + 32768``."""
    if law == "alaw":
        return _alaw_encode_table()
    if law == "ulaw":
        return _ulaw_encode_table()
    raise ValueError(f"unknown G.711 law {law!r}; expected 'alaw' or 'ulaw'")


def decode_table(law: Law) -> np.ndarray:
    """The int16 value of each of the 256 codes."""
    if law == "alaw":
        return _alaw_decode_table()
    if law == "ulaw":
        return _ulaw_decode_table()
    raise ValueError(f"unknown G.711 law {law!r}; expected 'alaw' or 'ulaw'")


def encode(samples: np.ndarray, law: Law = "alaw") -> np.ndarray:
    """Linear int16 samples (any shape) to G.711 codes (uint8, same shape)."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        samples = np.clip(np.rint(samples), -32768, 32767).astype(np.int16)
    return encode_table(law)[samples.astype(np.int32) + 32768]


def decode(codes: np.ndarray, law: Law = "alaw") -> np.ndarray:
    """G.711 codes (uint8, any shape) to linear int16 samples."""
    return decode_table(law)[np.asarray(codes, dtype=np.uint8)]


def decode_mixed(codes: np.ndarray, is_ulaw: np.ndarray) -> np.ndarray:
    """Decode a (channels x samples) block whose rows may use different laws.

    ``is_ulaw`` is a boolean vector, one entry per row.
    """
    codes = np.asarray(codes, dtype=np.uint8)
    a = _alaw_decode_table()[codes]
    if not np.any(is_ulaw):
        return a
    u = _ulaw_decode_table()[codes]
    return np.where(np.asarray(is_ulaw)[:, None], u, a)


def encode_mixed(samples: np.ndarray, is_ulaw: np.ndarray) -> np.ndarray:
    """Encode a (channels x samples) int16 block whose rows may use different laws."""
    index = np.asarray(samples, dtype=np.int16).astype(np.int32) + 32768
    a = _alaw_encode_table()[index]
    if not np.any(is_ulaw):
        return a
    u = _ulaw_encode_table()[index]
    return np.where(np.asarray(is_ulaw)[:, None], u, a)
