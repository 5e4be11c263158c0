"""Reading and writing telephone audio files.

Everything inside trunkline is linear int16 at 8 kHz. :func:`read_audio` accepts what
installers and carriers hand us (WAV as PCM16, A-law or mu-law, other WAV encodings,
FLAC, headerless GSM and raw files through sox) and converts it; anything it cannot read
raises :class:`~trunkline.errors.AudioFileError` naming the file and the problem.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile

from trunkline.errors import AudioFileError

RATE = 8000

Encoding = Literal["pcm16", "alaw", "ulaw"]
_SUBTYPES = {"pcm16": "PCM_16", "alaw": "ALAW", "ulaw": "ULAW"}


def resample(samples: np.ndarray, rate_in: int, rate_out: int = RATE) -> np.ndarray:
    """Band-limited resampling (polyphase, with an anti-alias filter) to ``rate_out``."""
    if rate_in == rate_out:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate_in, rate_out)
    return resample_poly(samples, rate_out // g, rate_in // g)


def _from_float(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)


def _read_with_sox(path: Path) -> np.ndarray:
    sox = shutil.which("sox")
    if sox is None:
        raise AudioFileError(f"{path}: reading this format needs sox (apt-get install sox)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.wav"
        args = [sox]
        if path.suffix.lower() == ".raw":
            args += ["-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1"]
        args += [str(path), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", str(out)]
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "sox failed"
            raise AudioFileError(f"{path}: cannot read audio: {reason}")
        data, _ = soundfile.read(str(out), dtype="int16", always_2d=True)
    return data[:, 0]


def read_audio(path: str | Path) -> np.ndarray:
    """The first channel of an audio file, as int16 at 8 kHz.

    Raises :class:`AudioFileError` for a missing, empty, corrupt or unsupported file.
    """
    return read_audio_channel(path)[0]


def read_audio_channel(path: str | Path, channel: int | None = None) -> tuple[np.ndarray, int]:
    """One channel of an audio file as int16 at 8 kHz, and how many channels it has.

    ``channel`` counts from 1 (1 is the left of a stereo file: a trunkline recording's
    line side, 2 its sent side); None reads the first. ``.gsm`` and ``.raw`` files are
    mono. Raises :class:`AudioFileError` for a missing, empty, corrupt or unsupported
    file, or a channel the file does not have.
    """
    path = Path(path)
    if channel is not None and channel < 1:
        raise AudioFileError(f"{path}: channels are counted from 1, not {channel}")
    if not path.exists():
        raise AudioFileError(f"{path}: no such file")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty")
    index = 0 if channel is None else channel - 1
    if path.suffix.lower() in (".gsm", ".raw"):
        channels = 1
        _check_channel(path, index, channels)
        samples = _read_with_sox(path)
    else:
        try:
            info = soundfile.info(str(path))
            data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
        except (RuntimeError, soundfile.LibsndfileError) as err:
            raise AudioFileError(f"{path}: not a readable audio file ({err})") from err
        channels = int(data.shape[1])
        _check_channel(path, index, channels)
        if data.shape[0] == 0:
            raise AudioFileError(f"{path}: the file holds no audio samples")
        mono = data[:, index]
        if rate != RATE:
            mono = resample(mono, int(rate), RATE)
        elif info.subtype in ("PCM_16", "ALAW", "ULAW"):
            # Exact: these decode to integers that float64 carries without loss.
            return _from_float(mono), channels
        samples = _from_float(mono)
    if samples.size == 0:
        raise AudioFileError(f"{path}: the file holds no audio samples")
    return samples, channels


def _check_channel(path: Path, index: int, channels: int) -> None:
    if index >= channels:
        raise AudioFileError(f"{path}: has {channels} channel{'s' if channels > 1 else ''}, "
                             f"no channel {index + 1}")


def write_audio(path: str | Path, samples: np.ndarray, encoding: Encoding = "pcm16",
                rate: int = RATE) -> None:
    """Write mono (n,) or multi-channel (n, channels) int16 samples as a WAV file."""
    try:
        subtype = _SUBTYPES[encoding]
    except KeyError:
        raise ValueError(
            f"unknown encoding {encoding!r}; expected one of {list(_SUBTYPES)}"
        ) from None
    soundfile.write(str(path), np.asarray(samples, dtype=np.int16), rate, subtype=subtype,
                    format="WAV")
