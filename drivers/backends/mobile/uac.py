"""Voice on a USB Audio Class interface: the module's ALSA card, and 20 ms frames from it.

Some modules carry the call's audio as a USB sound card instead of a serial port:
Quectel's EC2x/EG9x after ``AT+QPCMV=1,2`` with UAC enabled in their USB composition
(Quectel's "Voice over USB and UAC" note; asterisk-chan-quectel's ``uac/quectel.conf``
opens it as ``hw:CARD=Android,DEV=0``, mono signed 16-bit little-endian at 8000 Hz).
The kernel's snd-usb-audio driver makes it an ALSA card; which card number it gets
depends on the order things were plugged, so the card is found from the module's USB
port path in sysfs, the same path the udev rules and ``trunkline scan`` use:

* :func:`usb_port_of_tty` - the USB port path (``1-1.4``) of the module's AT tty
  (``/sys/class/tty/ttyUSB2/device`` resolves into ``.../1-1.4/1-1.4:1.2/ttyUSB2``);
* :func:`find_uac_card` - that device's sound card (``<interface>/sound/card<n>``, its
  ALSA id in ``/sys/class/sound/card<n>/id``);
* :func:`choose_audio` - ``audio = "auto"``: the module's audio port from trunkline's
  USB table (firmware-profiles/usb/) and what the kernel made of its interfaces: its
  sound card when it has one and may use it, else the tty of the table's audio
  interface;
* :class:`UacPacer` - sans-IO: whatever sizes of periods ALSA hands over, 160-sample
  frames at 8 kHz come out (a card at 16 kHz is decimated, with a low-pass first, and
  what we send is interpolated back), with a bounded backlog;
* :class:`AlsaAudio` - the only part doing I/O: the card opened with pyalsaaudio,
  non-blocking both ways.

What this machine can test: the sysfs lookup against trees in the kernel's layout, the
pacer and resampler, and AlsaAudio on ALSA's ``null`` device. Only a module proves the
rest: that its card opens at the rate asked, how its clock drifts against ours, and how
much it buffers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.drivers.commissioning.usbdevices.discover import discover_usb
from trunkline.drivers.commissioning.usbdevices.sysfs import read_usb_devices
from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.errors import CardNotFound

__all__ = ["AlsaAudio", "AudioChoice", "UacCard", "UacPacer", "choose_audio", "find_uac_card",
           "usb_port_of_tty"]

#: The rates a module's card may run at: 8 kHz (Quectel UAC, as chan_quectel opens it)
#: or 16 kHz (wideband cards), decimated to our 8 kHz frames.
RATES = (8000, 16000)
#: Frames (20 ms each) kept for a card that delivers in bursts; beyond that the oldest
#: go (as the serial audio path's JITTER_FRAMES).
BACKLOG_FRAMES = 6

#: Periods read at most per call (1.28 s at 20 ms each).
READ_PERIODS = 64

_INTERFACE = re.compile(r"^(\d+-[\d.]+):\d+\.\d+$")


@dataclass(frozen=True, slots=True)
class UacCard:
    """A module's sound card: its USB port, ALSA card number and id."""

    usb_port: str
    index: int
    id: str

    @property
    def device(self) -> str:
        """The ALSA device name, by the card's id so a renumbering cannot swap modules."""
        return f"hw:CARD={self.id},DEV=0"


def usb_port_of_tty(tty: str, sysfs: str | Path = "/sys") -> str:
    """The USB port path of the device a tty belongs to (``/dev/ttyUSB2`` or a udev
    symlink to it -> ``1-1.4``); CardNotFound when sysfs does not place it on USB."""
    name = os.path.basename(os.path.realpath(tty))
    device = Path(sysfs) / "class" / "tty" / name / "device"
    real = Path(os.path.realpath(device))
    for part in reversed(real.parts):
        match = _INTERFACE.match(part)
        if match:
            return match.group(1)
    raise CardNotFound(f"{tty} ({name}) is not a USB serial port in {sysfs} (no USB "
                       "interface above it): give the module's USB port instead")


def find_uac_card(usb_port: str, sysfs: str | Path = "/sys") -> UacCard:
    """The ALSA card of the USB device at ``usb_port``; CardNotFound saying why not (no
    device there, or a device without a sound card and what to do about it)."""
    devices = {d.name: d for d in read_usb_devices(sysfs)}
    device = devices.get(usb_port)
    if device is None:
        present = ", ".join(sorted(devices)) or "none"
        raise CardNotFound(f"no USB device at port {usb_port} (devices: {present}); is the "
                           "module plugged in there? (trunkline scan lists the ports)")
    cards = [card for i in device.interfaces for card in i.sound_cards]
    if not cards:
        ident = f"{device.vendor_id:04x}:{device.product_id:04x}"
        raise CardNotFound(
            f"the USB device at port {usb_port} ({ident}) has no sound card: UAC is not "
            "enabled in its USB composition (Quectel: AT+QCFG=\"USBCFG\" with UAC on, then "
            "AT+CFUN=1,1; docs/mobile.md) or the snd-usb-audio driver is not loaded "
            "(modprobe snd-usb-audio)")
    card = cards[0]
    index = int(card[4:]) if card[4:].isdigit() else -1
    try:
        ident = (Path(sysfs) / "class" / "sound" / card / "id").read_text().strip()
    except OSError:
        ident = ""
    return UacCard(usb_port, index, ident or str(index))


@dataclass(frozen=True, slots=True)
class AudioChoice:
    """Where a module's voice is: ``uac`` (an ALSA device) or ``serial`` (a tty)."""

    kind: str
    device: str
    why: str


def choose_audio(at_path: str, *, uac_allowed: bool, sysfs: str | Path = "/sys"
                 ) -> AudioChoice:
    """The audio port of the module whose AT port is ``at_path``, chosen per device:
    its USB Audio Class card when it has one and its profile may use it (Quectel), else
    the tty of the audio interface trunkline's USB table gives for its vendor:product
    id (Huawei's voice port, SIMCom's audio port, Quectel's NMEA port). CardNotFound
    names the device and why there is no audio port (not in the table, a data module)."""
    port = usb_port_of_tty(at_path, sysfs)
    found = {d.name: d for d in discover_usb(sysfs, use_pyusb=False).devices}
    device = found.get(port)
    if device is None:
        raise CardNotFound(f"the USB device at port {port} (the AT port {at_path}) is no "
                           "telephony device trunkline knows: set audio = \"/dev/...\" "
                           "yourself")
    if uac_allowed and device.sound_card:
        card = find_uac_card(port, sysfs)
        return AudioChoice("uac", card.device,
                           f"{device.description}: USB audio card {card.device}")
    if device.audio_port:
        return AudioChoice("serial", device.audio_port,
                           f"{device.description}: audio port {device.audio_port} "
                           "(interface "
                           f"{device.profile.audio_interface if device.profile else '?'})")
    if device.profile is None:
        raise CardNotFound(f"{device.description} at port {port}: set audio = "
                           "\"/dev/...\" yourself (trunkline scan lists its ttys)")
    voice = device.profile.voice
    raise CardNotFound(f"{device.description} at port {port} has no audio port in "
                       f"trunkline's USB table (voice: {voice}): SMS only, or set audio "
                       "yourself")


def _lowpass(taps: int = 47, cutoff: float = 3600.0, rate: float = 16000.0) -> np.ndarray:
    """A windowed-sinc low-pass (Blackman window): the anti-alias filter before halving
    16 kHz to 8 kHz and the image filter after doubling back."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff / rate * np.sinc(2 * cutoff / rate * n) * np.blackman(taps)
    return (h / h.sum()).astype(np.float64)


class _Fir:
    """A FIR filter that keeps its history between blocks (so block edges are seamless)."""

    def __init__(self, taps: np.ndarray) -> None:
        self.taps = taps
        self._history = np.zeros(len(taps) - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self._history, x.astype(np.float64)])
        self._history = joined[len(joined) - len(self._history):]
        return np.convolve(joined, self.taps, mode="valid")


class UacPacer:
    """Sans-IO pacing between a sound card and the card model's 20 ms frames.

    :meth:`capture` takes what ALSA read (any number of bytes, even an odd one: a
    sample split across reads is joined); :meth:`frame` gives the next 160 samples at
    8 kHz, or None when less than a frame has come (the caller counts the underrun).
    :meth:`playback` turns one of our frames into the card's bytes. More than
    BACKLOG_FRAMES waiting drops the oldest and counts an overrun, so a card that
    delivered a burst does not delay the call's audio for good.
    """

    def __init__(self, rate: int = 8000) -> None:
        if rate not in RATES:
            raise ValueError(f"a module's sound card runs at {' or '.join(map(str, RATES))} "
                             f"Hz here, not {rate}")
        self.rate = rate
        self.ratio = rate // 8000
        self._bytes = bytearray()
        self._samples = np.zeros(0, dtype=np.int16)
        self._down = _Fir(_lowpass()) if self.ratio == 2 else None
        self._up = _Fir(_lowpass()) if self.ratio == 2 else None
        self._phase = 0
        self.overruns = 0

    def capture(self, data: bytes) -> None:
        self._bytes += data
        whole = len(self._bytes) - len(self._bytes) % 2
        if not whole:
            return
        pcm = np.frombuffer(bytes(self._bytes[:whole]), dtype="<i2")
        del self._bytes[:whole]
        if self._down is not None:
            filtered = self._down(pcm)
            # Keep every other sample, counting across blocks.
            pcm = filtered[self._phase::2]
            self._phase = (self._phase + len(filtered)) % 2
            pcm = np.clip(np.rint(pcm), -32768, 32767).astype(np.int16)
        self._samples = np.concatenate([self._samples, pcm.astype(np.int16)])
        limit = BACKLOG_FRAMES * FRAME_SAMPLES
        if len(self._samples) > limit:
            self._samples = self._samples[len(self._samples) - limit:]
            self.overruns += 1

    def frame(self) -> np.ndarray | None:
        if len(self._samples) < FRAME_SAMPLES:
            return None
        out, self._samples = self._samples[:FRAME_SAMPLES], self._samples[FRAME_SAMPLES:]
        return out

    def playback(self, samples: np.ndarray) -> bytes:
        if self._up is not None:
            stuffed = np.zeros(len(samples) * 2)
            stuffed[::2] = samples
            up = self._up(stuffed) * 2  # zero-stuffing halves the level
            samples = np.clip(np.rint(up), -32768, 32767).astype(np.int16)
        return np.asarray(samples, dtype=np.int16).astype("<i2").tobytes()


class AlsaAudio:
    """A module's sound card opened with pyalsaaudio (capture and playback, mono S16_LE,
    non-blocking, 20 ms periods). :meth:`read` returns everything the card has;
    :meth:`write` never waits (a full buffer drops the frame and counts it)."""

    def __init__(self, device: str, rate: int = 8000) -> None:
        try:
            import alsaaudio  # type: ignore[import-not-found]
        except ImportError as err:
            raise CardNotFound("USB audio needs pyalsaaudio (pip install pyalsaaudio; it "
                               "builds against libasound2-dev)") from err
        self.device = device
        self.rate = rate
        self.write_drops = 0
        self.read_overruns = 0
        self._alsa: Any = alsaaudio
        self._capture: Any = None
        self._playback: Any = None
        try:
            self._capture = self._open(alsaaudio.PCM_CAPTURE)
            self._playback = self._open(alsaaudio.PCM_PLAYBACK)
        except alsaaudio.ALSAAudioError as err:
            self.close()
            raise CardNotFound(f"cannot open the sound card {device}: {err} (is the module "
                               "plugged in, and may this user open /dev/snd: group "
                               "audio?)") from err

    def _open(self, kind: int) -> Any:
        a = self._alsa
        return a.PCM(type=kind, mode=a.PCM_NONBLOCK, device=self.device, channels=1,
                     rate=self.rate, format=a.PCM_FORMAT_S16_LE, periodsize=self.rate // 50)

    def read(self) -> bytes:
        """Everything the card has captured (OSError when the card went away)."""
        try:
            return self._read()
        except self._alsa.ALSAAudioError as err:
            raise OSError(f"sound card {self.device}: {err}") from err

    def _read(self) -> bytes:
        chunks = []
        for _ in range(READ_PERIODS):  # a card that never runs dry cannot hold us
            length, data = self._capture.read()
            if length < 0:  # -EPIPE: the card overran while nobody read
                self.read_overruns += 1
                continue
            if length == 0:
                break
            chunks.append(data[:length * 2])  # <length> frames of one 16-bit sample
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        try:
            written = self._playback.write(data)
        except self._alsa.ALSAAudioError as err:
            raise OSError(f"sound card {self.device}: {err}") from err
        if written == 0:
            self.write_drops += 1

    def close(self) -> None:
        for pcm in (self._capture, self._playback):
            if pcm is not None:
                pcm.close()
        self._capture = self._playback = None
