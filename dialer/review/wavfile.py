"""Reading the gateway's recordings: the WAV header, byte ranges for playback, and a
waveform summary (the peaks of each channel in N buckets) so a page draws the waveform
of an hour-long call from a few kilobytes instead of decoding the file in JavaScript.

The gateway writes stereo 8 kHz WAV (docs/recording.md): the customer on the left, the
agent and prompts on the right, as PCM16 or G.711 A-law / mu-law (WAVE format tags 1, 6
and 7, RFC 2361), with a ``fact`` chunk for the G.711 ones. The header is parsed here
(the standard library's ``wave`` reads PCM only); G.711 is expanded with the tables of
ITU-T G.711 (1988), section 2 (A-law: even bits inverted, segment and mantissa; mu-law:
all bits inverted, bias 33).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: WAVE format tags (RFC 2361) this module reads, and their bytes per sample.
FORMATS = {1: ("pcm16", 2), 6: ("alaw", 1), 7: ("ulaw", 1)}
#: The most buckets a waveform may have (a screen is a few thousand pixels wide).
MAX_BUCKETS = 10_000
#: Frames read at a time when summarising (about 33 s of audio at 8 kHz: bounded memory).
_CHUNK_FRAMES = 262_144


class WavError(ValueError):
    """The file is not a WAV this module reads; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What the header says: where the samples are and how they are coded."""

    encoding: str
    channels: int
    sample_rate: int
    width: int            # bytes per sample
    data_offset: int      # where the samples start in the file
    data_bytes: int       # bytes of whole frames (a header that says more is cut back)

    @property
    def frames(self) -> int:
        return self.data_bytes // (self.width * self.channels)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def read_info(f: BinaryIO, size: int) -> WavInfo:
    """Parse the RIFF header of ``f`` (``size`` bytes long). Raises :class:`WavError`."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        chunk = f.read(8)
        if len(chunk) < 8:
            break
        kind, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind == b"fmt ":
            body = f.read(min(length, 64))
            if len(body) < 16:
                raise WavError("the fmt chunk is shorter than 16 bytes")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            fmt = (tag, channels, rate, bits)
        elif kind == b"data":
            if fmt is None:
                raise WavError("the data chunk comes before the fmt chunk")
            tag, channels, rate, _bits = fmt
            if tag not in FORMATS:
                raise WavError(f"WAVE format tag {tag} (only PCM 1, A-law 6, mu-law 7)")
            if not 1 <= channels <= 8 or not 1 <= rate <= 192_000:
                raise WavError(f"{channels} channels at {rate} Hz is not a recording")
            encoding, width = FORMATS[tag]
            start = pos + 8
            # a .part or a recording still being written: trust the file's length over
            # a header the writer has not updated yet, cut to whole frames
            available = max(0, size - start)
            data = min(length, available) if length else available
            data -= data % (width * channels)
            return WavInfo(encoding, channels, rate, width, start, data)
        pos += 8 + length + (length & 1)
    raise WavError("no data chunk")


def info(path: str | Path) -> WavInfo:
    """The header of the WAV file at ``path``."""
    p = Path(path)
    with p.open("rb") as f:
        return read_info(f, p.stat().st_size)


def _alaw_table() -> np.ndarray:
    """G.711 A-law to linear (16-bit scale), all 256 codes."""
    out = np.zeros(256, dtype=np.int16)
    for code in range(256):
        a = code ^ 0x55
        seg = (a >> 4) & 0x07
        mant = a & 0x0F
        mag = (mant << 4) + 8 if seg == 0 else ((mant << 4) + 0x108) << (seg - 1)
        out[code] = mag if a & 0x80 else -mag
    return out


def _ulaw_table() -> np.ndarray:
    """G.711 mu-law to linear (16-bit scale), all 256 codes."""
    out = np.zeros(256, dtype=np.int16)
    for code in range(256):
        u = ~code & 0xFF
        seg = (u >> 4) & 0x07
        mant = u & 0x0F
        mag = (((mant << 3) + 0x84) << seg) - 0x84
        out[code] = -mag if u & 0x80 else mag
    return out


_TABLES = {"alaw": _alaw_table(), "ulaw": _ulaw_table()}


def decode(raw: bytes, encoding: str) -> np.ndarray:
    """Samples as int16 from the bytes of ``encoding``."""
    if encoding == "pcm16":
        return np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype="<i2").astype(
            np.int16, copy=False)
    return _TABLES[encoding][np.frombuffer(raw, dtype=np.uint8)]


def peaks(path: str | Path, buckets: int) -> dict[str, object]:
    """The waveform of ``path``: for each channel, the lowest and highest sample of each
    of ``buckets`` equal stretches of time, scaled to -1..1 (fewer buckets when the file
    has fewer frames). Reads the file once, a chunk at a time."""
    if not 1 <= buckets <= MAX_BUCKETS:
        raise ValueError(f"buckets must be 1 to {MAX_BUCKETS}, not {buckets}")
    p = Path(path)
    with p.open("rb") as f:
        wav = read_info(f, p.stat().st_size)
        frames = wav.frames
        n = max(1, min(buckets, frames)) if frames else 0
        lows = np.zeros((wav.channels, n), dtype=np.int32)
        highs = np.zeros((wav.channels, n), dtype=np.int32)
        if n:
            # bucket i holds frames [edges[i], edges[i+1])
            edges = (np.arange(n + 1, dtype=np.int64) * frames) // n
            f.seek(wav.data_offset)
            first = 0
            lows[:] = np.iinfo(np.int32).max
            highs[:] = np.iinfo(np.int32).min
            frame_bytes = wav.width * wav.channels
            while first < frames:
                count = min(_CHUNK_FRAMES, frames - first)
                raw = f.read(count * frame_bytes)
                count = len(raw) // frame_bytes
                if count == 0:
                    break
                samples = decode(raw[: count * frame_bytes], wav.encoding)
                block = samples.reshape(count, wav.channels).T
                # buckets are runs of frames: the ones this chunk touches start at the
                # chunk's first frame and at every bucket edge inside it
                lo = int(np.searchsorted(edges, first, side="right")) - 1
                hi = int(np.searchsorted(edges, first + count, side="left"))
                starts = np.maximum(edges[lo:hi] - first, 0)
                ids = np.arange(lo, hi)
                keep = np.r_[True, starts[1:] != starts[:-1]]  # empty buckets (n > frames)
                starts, ids = starts[keep], ids[keep]
                lows[:, ids] = np.minimum(lows[:, ids],
                                          np.minimum.reduceat(block, starts, axis=1))
                highs[:, ids] = np.maximum(highs[:, ids],
                                           np.maximum.reduceat(block, starts, axis=1))
                first += count
            empty = lows > highs  # a bucket no frame reached (the file was short)
            lows[empty] = 0
            highs[empty] = 0
    scale = 32768.0
    return {
        "encoding": wav.encoding, "channels": wav.channels, "sample_rate": wav.sample_rate,
        "duration": round(wav.duration, 3), "buckets": n,
        "bucket_seconds": round(wav.duration / n, 6) if n else 0.0,
        "peaks": [{"min": [round(float(v) / scale, 4) for v in lows[ch]],
                   "max": [round(float(v) / scale, 4) for v in highs[ch]]}
                  for ch in range(wav.channels)],
        "channel_names": ["customer", "agent"][: wav.channels] if wav.channels == 2
        else [f"channel {i + 1}" for i in range(wav.channels)],
    }


@dataclass(frozen=True, slots=True)
class ByteRange:
    """One satisfiable byte range of an HTTP Range request (RFC 9110 section 14.1.2)."""

    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(ValueError):
    """The Range header names no byte of the file (HTTP 416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range a ``Range`` header asks for, or None for the whole file (no header,
    another unit, or several ranges: RFC 9110 lets a server ignore a Range it does not
    support and send 200). Raises :class:`RangeNotSatisfiable` for a range outside the
    file, and ValueError for a malformed one (also answered 200: ignored)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        raise ValueError(f"malformed Range {header!r}")
    if first == "":  # suffix: the last N bytes
        if not last.isdigit():
            raise ValueError(f"malformed Range {header!r}")
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(f"{header!r} of a {size}-byte file")
        return ByteRange(max(0, size - n), size - 1)
    if not first.isdigit() or (last and not last.isdigit()):
        raise ValueError(f"malformed Range {header!r}")
    start = int(first)
    if last and int(last) < start:
        raise ValueError(f"malformed Range {header!r}")
    if start >= size:
        raise RangeNotSatisfiable(f"{header!r} of a {size}-byte file")
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1))
