"""The backend interface every card implements, and the shared logic above it.

Following python-can's ``BusABC``, :class:`CardABC` owns the public methods: they check
arguments and state, convert between G.711 codes and linear audio, and keep the
channel bookkeeping. A backend implements only the ``_..._internal`` methods, which
deal in G.711 codes exactly as the hardware does.

Timing belongs to the card, as it does with real boards: :meth:`CardABC.read_frames`
returns when the next 20 ms frame is due on the card's clock (a DAHDI read blocks the
same way), so the media loop above needs no clock of its own.

Everything the layers above use is declared here (DESIGN.md, principle 1: above the
backend, nothing knows which one runs): the URL argument and common options
(:meth:`CardABC.from_url_argument`), the card's clock, its tone zone, each line's
options (:meth:`CardABC.line_options`), overrun counts, alarm simulation, and the number
plan of a simulated network behind the card (None for real boards).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from trunkline.clock import Clock, RealClock
from trunkline.drivers.dsp import g711
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    CardEvent,
    ChannelInfo,
    ChannelState,
    HookOp,
    LineOptions,
    SpanInfo,
    SpanStatus,
)
from trunkline.errors import (
    BackendError,
    ChannelError,
    ChannelStateError,
    NoSuchChannel,
    Unsupported,
)

if TYPE_CHECKING:
    from trunkline.drivers.backends.emulated.plan import NumberPlan
    from trunkline.drivers.modem import ModemLink
    from trunkline.drivers.sms import SmsLink


class HdlcLink(Protocol):
    """A D-channel: whole HDLC frames (without FCS) in both directions."""

    def send(self, frame: bytes) -> None: ...

    def receive(self) -> bytes | None: ...

    @property
    def up(self) -> bool: ...


DialMode = Literal["dtmf", "pulse"]

#: Span maintenance modes (DAHDI_MAINT_* in dahdi/user.h): "local" loops our transmit
#: back to our receive inside the card; "network_line" / "network_payload" loop what the
#: line sends back towards the network (whole line, or payload only); "off" ends a loop.
MAINTENANCE_MODES = ("off", "local", "network_line", "network_payload")


#: What :meth:`CardABC.take_audio_gaps` returns when no audio was lost.
_NO_GAPS: frozenset[int] = frozenset()


class CardABC(ABC):
    """A telephony card: spans of channels moving 160-sample frames every 20 ms.

    The card is a context manager; :meth:`close` may be called more than once.
    """

    #: Short backend name ("emulated", "dahdi").
    backend: str = ""
    #: Frames the card could not deliver in time since it opened.
    overruns: int = 0
    #: Whether a span's D-channel link (:meth:`dchannel`) may be read and written from a
    #: thread other than the media tick's, as a PRI span's D-channel keeper does in real
    #: time (drivers/signalling/pri/keeper.py). A board's D-channel is its own file
    #: descriptor; the emulated card's network is stepped by the tick, so it says no.
    dchannels_in_thread: bool = False

    def __init__(self, spans: Sequence[SpanInfo], channels: Sequence[ChannelInfo], *,
                 clock: Clock | None = None, tone_zone: str | None = None) -> None:
        self.spans: tuple[SpanInfo, ...] = tuple(spans)
        self.channels: dict[int, ChannelInfo] = {c.number: c for c in channels}
        #: The card's time (a board's own clock is real time; the emulation's may be
        #: virtual): everything driving the card takes its time from here.
        self.clock: Clock = clock or RealClock()
        self._tone_zone = tone_zone
        self._line_options: dict[int, LineOptions] = {}
        self._open: list[int] = []
        self._row: dict[int, int] = {}
        self._is_ulaw = np.zeros(0, dtype=bool)
        self._closed = False
        #: Channels whose received audio had a gap since :meth:`take_audio_gaps`.
        self._audio_gaps: set[int] = set()

    # -- channels -------------------------------------------------------------------
    @property
    def open_channels(self) -> tuple[int, ...]:
        """Open channels, in the row order of the frame arrays."""
        return tuple(self._open)

    def channel(self, number: int) -> ChannelInfo:
        try:
            return self.channels[number]
        except KeyError:
            raise NoSuchChannel(
                f"card {self.name} has no channel {number}; channels are "
                f"{min(self.channels)}..{max(self.channels)}"
            ) from None

    def span(self, number: int) -> SpanInfo:
        for span in self.spans:
            if span.number == number:
                return span
        raise NoSuchChannel(f"card {self.name} has no span {number}; it has "
                            f"{len(self.spans)}")

    def open(self, channels: int | Iterable[int]) -> None:
        """Start moving frames for ``channels`` (already open ones are left as they are).

        Every channel is checked before any is opened: a list with an unknown channel or
        a D-channel in it opens nothing.
        """
        self._check_open()
        numbers = [channels] if isinstance(channels, int) else list(channels)
        for number in numbers:
            info = self.channel(number)
            if info.signalling.value == "dchan":
                raise ChannelStateError(
                    f"channel {number} is the D-channel of span {info.span}: use dchannel()"
                )
        for number in numbers:
            if number not in self._row:
                self._open_internal(number)
                self._row[number] = len(self._open)
                self._open.append(number)
        self._is_ulaw = np.array([self.channels[n].law == "ulaw" for n in self._open], bool)

    def close_channel(self, channels: int | Iterable[int]) -> None:
        """Stop moving frames for ``channels``; the channel goes back on hook."""
        numbers = [channels] if isinstance(channels, int) else list(channels)
        for number in numbers:
            if number in self._row:
                self._close_internal(number)
                self._open.remove(number)
        self._row = {n: i for i, n in enumerate(self._open)}
        self._is_ulaw = np.array([self.channels[n].law == "ulaw" for n in self._open], bool)

    def row(self, channel: int) -> int:
        """The row of ``channel`` in the frame arrays."""
        try:
            return self._row[channel]
        except KeyError:
            raise ChannelStateError(f"channel {channel} is not open") from None

    # -- media ----------------------------------------------------------------------
    def read_frames(self) -> np.ndarray:
        """Wait for the next frame and return it: int16, (open channels x 160)."""
        self._check_open()
        codes = self._read_internal()
        if codes.shape != (len(self._open), FRAME_SAMPLES):
            raise BackendError(
                f"backend {self.backend} returned frames of shape {codes.shape}, "
                f"expected {(len(self._open), FRAME_SAMPLES)}"
            )
        return g711.decode_mixed(codes, self._is_ulaw)

    def take_audio_gaps(self) -> frozenset[int]:
        """Channels whose received audio had a gap since the last call: frames the card
        lost because they were read too late (a board's receive buffers overran, DAHDI's
        READ_OVERRUN). The frames read after it follow the gap directly, so what listens
        to them (AMD) must know that it did not hear everything (docs/detector.md,
        "Lost audio")."""
        if not self._audio_gaps:  # every tick but a late one: no set built
            return _NO_GAPS
        gaps = frozenset(self._audio_gaps)
        self._audio_gaps.clear()
        return gaps

    def write_frames(self, frames: np.ndarray) -> None:
        """Queue one frame for every open channel: int16, (open channels x 160)."""
        self._check_open()
        frames = np.asarray(frames)
        if frames.shape != (len(self._open), FRAME_SAMPLES):
            raise ValueError(
                f"frames must have shape (open channels, {FRAME_SAMPLES}) = "
                f"{(len(self._open), FRAME_SAMPLES)}, got {frames.shape}"
            )
        self._write_internal(g711.encode_mixed(frames, self._is_ulaw))

    # -- signalling -----------------------------------------------------------------
    def hook(self, channel: int, op: HookOp | str) -> None:
        """Change the hook state of an analog channel (DAHDI_HOOK)."""
        self._check_open()
        self.channel(channel)
        self._hook_internal(channel, HookOp(op))

    def dial(self, channel: int, digits: str, mode: DialMode = "dtmf") -> None:
        """Send ``digits`` on an off-hook analog channel; DIAL_COMPLETE follows.

        Like DAHDI_DIAL, the backend times the digits itself (DTMF 100 ms on / 100 ms
        off, or pulses at 10 pps with a 60/40 break/make ratio).
        """
        self._check_open()
        self.channel(channel)
        allowed = "0123456789*#ABCDabcd" if mode == "dtmf" else "0123456789"
        bad = [d for d in digits if d not in allowed]
        if not digits or bad:
            raise ValueError(
                f"cannot {mode}-dial {digits!r} on channel {channel}: "
                f"{'empty digit string' if not digits else 'illegal digits ' + repr(''.join(bad))}"
            )
        self._dial_internal(channel, digits.upper(), mode)

    def set_cas_bits(self, channel: int, bits: int) -> None:
        """Send ABCD bits on an open CAS channel (DAHDI_SETTXBITS); ``bits`` is 0..15."""
        self._check_open()
        info = self.channel(channel)
        if info.signalling.value != "cas":
            raise ChannelStateError(f"channel {channel} is not a CAS channel "
                                    f"({info.signalling.value})")
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 15:
            raise ValueError(f"CAS bits are ABCD as an integer 0..15, not {bits!r}")
        self._set_cas_bits_internal(channel, bits)

    def cas_bits(self, channel: int) -> int:
        """The ABCD bits received on an open CAS channel (DAHDI_GETRXBITS)."""
        info = self.channel(channel)
        if info.signalling.value != "cas":
            raise ChannelStateError(f"channel {channel} is not a CAS channel "
                                    f"({info.signalling.value})")
        return self._cas_bits_internal(channel)

    def poll_events(self) -> list[CardEvent]:
        """Out-of-band events since the last call, oldest first."""
        self._check_open()
        return self._poll_events_internal()

    def channel_state(self, channel: int) -> ChannelState:
        self._check_open()
        self.channel(channel)
        return self._channel_state_internal(channel)

    def span_status(self, span: int) -> SpanStatus:
        self._check_open()
        self.span(span)
        return self._span_status_internal(span)

    def dchannel(self, span: int) -> HdlcLink:
        """The D-channel of a PRI span, as an HDLC link."""
        self._check_open()
        info = self.span(span)
        if info.dchannel is None:
            raise ChannelError(f"span {span} ({info.kind}/{info.signalling}) has no D-channel")
        return self._dchannel_internal(span)

    def modem(self, span: int) -> ModemLink:
        """The call control of a mobile span's module (drivers/modem.py), as
        :meth:`dchannel` is a PRI span's signalling link."""
        self._check_open()
        info = self.span(span)
        if info.signalling.value != "mobile":
            raise ChannelError(f"span {span} ({info.kind}/{info.signalling}) is no mobile "
                               "module")
        return self._modem_internal(span)

    def sms(self, span: int) -> SmsLink:
        """The short messages of a mobile span's module (drivers/sms.py)."""
        self._check_open()
        info = self.span(span)
        if info.signalling.value != "mobile":
            raise ChannelError(f"span {span} ({info.kind}/{info.signalling}) is no mobile "
                               "module: it carries no SMS")
        return self._sms_internal(span)

    def set_maintenance(self, span: int, mode: str) -> None:
        """Loop a digital span back for commissioning (DAHDI_MAINT), or end the loop.

        ``mode`` is one of :data:`MAINTENANCE_MODES`. Raises ChannelStateError for an
        analog span or a backend without maintenance.
        """
        self._check_open()
        info = self.span(span)
        if mode not in MAINTENANCE_MODES:
            raise ValueError(f"maintenance mode must be one of {', '.join(MAINTENANCE_MODES)}, "
                             f"not {mode!r}")
        if info.kind.value not in ("e1", "t1"):
            raise ChannelStateError(f"span {span} is an analog {info.kind.value} span: "
                                    "loopbacks are for E1/T1 spans")
        self._maintenance_internal(span, mode)

    # -- what the card knows of its lines ---------------------------------------------
    @classmethod
    @abstractmethod
    def from_url_argument(cls, argument: str, *, clock: Clock | None = None,
                          network: Any = None, seed: int | None = None,
                          **options: Any) -> CardABC:
        """Open the card named by the part of its URL after ``name:``.

        Common options: ``clock`` (the time the card keeps: a real board ignores it
        unless it simulates its hardware), ``network`` (a number plan for a simulated
        network; a ConfigError for a backend without one), ``seed``. Backend options
        follow; unknown ones raise ConfigError naming them.
        """

    @property
    def tone_zone(self) -> str | None:
        """The tone zone the card's lines use (``cn``, ``us``...), None when unknown."""
        return self._tone_zone

    def line_options(self, channel: int) -> LineOptions:
        """How the analog line on ``channel`` behaves (defaults when nobody said)."""
        self.channel(channel)
        return self._line_options.get(channel, LineOptions())

    def set_line_options(self, channel: int, options: LineOptions) -> None:
        """Say how the line on ``channel`` behaves (the installer's configuration)."""
        self.channel(channel)
        self._line_options[channel] = options

    def hardware(self) -> list[dict[str, Any]]:
        """Board facts per hardware span (name, location, manufacturer...) for
        ``trunkline scan``; a card with no boards behind it has none."""
        return []

    def version(self) -> tuple[str, str] | None:
        """The driver's version and its echo cancellers, where the backend has a driver
        that says (DAHDI_GETVERSION); None otherwise."""
        return None

    def alarm_detail(self, span: int) -> list[str]:
        """The detailed alarm conditions of ``span`` (LOS, LFA, LMFA) where the backend
        reports more than :class:`~trunkline.drivers.model.Alarm`'s colours."""
        self.span(span)
        return []

    @property
    def number_plan(self) -> NumberPlan | None:
        """The number plan of the simulated network behind the card; None for a card
        on real lines."""
        return None

    def simulate_alarm(self, span: int, alarm: str, *, on: bool = True,
                       duration: float | None = None) -> None:
        """Raise alarm ``alarm`` (``red``, ``yellow``, ``blue``) on ``span`` for
        ``duration`` seconds (None: until cleared), or clear it (``on`` False).
        Raises Unsupported on cards that cannot (real boards)."""
        self.span(span)
        raise Unsupported(f"{self.backend} cards cannot simulate alarms")

    # -- lifecycle ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.backend

    def close(self) -> None:
        """Release the card; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for number in list(self._open):
            with contextlib.suppress(BackendError):
                self._close_internal(number)
        self._open.clear()
        self._row.clear()
        self._close_internal_card()

    def __enter__(self) -> CardABC:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BackendError(f"card {self.name} is closed")

    # -- what a backend implements --------------------------------------------------
    @abstractmethod
    def _open_internal(self, channel: int) -> None: ...

    @abstractmethod
    def _close_internal(self, channel: int) -> None: ...

    @abstractmethod
    def _read_internal(self) -> np.ndarray:
        """Block until the next frame; uint8 G.711 codes, (open channels x 160)."""

    @abstractmethod
    def _write_internal(self, codes: np.ndarray) -> None: ...

    @abstractmethod
    def _hook_internal(self, channel: int, op: HookOp) -> None: ...

    @abstractmethod
    def _dial_internal(self, channel: int, digits: str, mode: DialMode) -> None: ...

    @abstractmethod
    def _poll_events_internal(self) -> list[CardEvent]: ...

    @abstractmethod
    def _channel_state_internal(self, channel: int) -> ChannelState: ...

    @abstractmethod
    def _span_status_internal(self, span: int) -> SpanStatus: ...

    @abstractmethod
    def _dchannel_internal(self, span: int) -> HdlcLink: ...

    def _set_cas_bits_internal(self, channel: int, bits: int) -> None:
        raise ChannelStateError(f"backend {self.backend} has no CAS signalling")

    def _cas_bits_internal(self, channel: int) -> int:
        raise ChannelStateError(f"backend {self.backend} has no CAS signalling")

    def _modem_internal(self, span: int) -> ModemLink:
        raise ChannelError(f"backend {self.backend} has no mobile modules")

    def _sms_internal(self, span: int) -> SmsLink:
        raise ChannelError(f"backend {self.backend} has no mobile modules")

    def _maintenance_internal(self, span: int, mode: str) -> None:
        raise ChannelStateError(f"backend {self.backend} has no span maintenance (loopbacks)")

    def _close_internal_card(self) -> None:  # noqa: B027 - optional hook
        """Release backend resources (optional)."""
