"""The driver model: Card -> Span -> Channel, with the events a card reports.

Names follow what installers know from DAHDI (dahdi/user.h), so that the DAHDI backend
maps one to one, while the emulated backend produces exactly the same values. Channel
numbers are card-wide and start at 1, as DAHDI numbers them: an E1 span takes 31
numbers (timeslots 1-31, the D-channel of a PRI span on timeslot 16), a T1 span 24.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag, StrEnum
from typing import Any

FRAME_SAMPLES = 160
"""Samples per channel per media tick (20 ms at 8 kHz)."""
SAMPLE_RATE = 8000
TICK_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


class SpanKind(StrEnum):
    E1 = "e1"
    T1 = "t1"
    FXO = "fxo"
    """A group of analog FXO ports: lines from a central office plug in here."""
    FXS = "fxs"
    """A group of analog FXS ports: phones (agent positions) plug in here."""
    MOBILE = "mobile"
    """A GSM/LTE module: one voice channel, signalled by AT commands (issue 20)."""


class SpanSignalling(StrEnum):
    PRI = "pri"
    """ISDN PRI: Q.931 on a D-channel."""
    SS7 = "ss7"
    """SS7: MTP2/MTP3/ISUP on a signalling link (a D-channel in MTP2 mode)."""
    CAS = "cas"
    """Channel-associated signalling: ABCD bits per timeslot (MFC/R2)."""
    ANALOG = "analog"
    MOBILE = "mobile"
    """Call control over a module's AT port (3GPP TS 27.007); see drivers/modem.py."""


class Alarm(IntFlag):
    """Span alarm bits, with the values of DAHDI_ALARM_* in dahdi/user.h."""

    NONE = 0
    RECOVER = 1
    LOOPBACK = 2
    YELLOW = 4
    """RAI: the far end has lost our signal."""
    RED = 8
    """We have lost signal, framing or multiframe (LOS/LFA/LMFA)."""
    BLUE = 16
    """AIS (all ones): the fault is upstream of the far end."""
    NOTOPEN = 32


class ChannelSignalling(StrEnum):
    """How a channel signals; analog names are those of the port, not of the signalling."""

    FXO_LOOPSTART = "fxo_ls"
    FXO_KEWLSTART = "fxo_ks"
    FXS_LOOPSTART = "fxs_ls"
    FXS_KEWLSTART = "fxs_ks"
    BCHAN = "bchan"
    DCHAN = "dchan"
    MTP2 = "mtp2"
    """An SS7 signalling link: HDLC in the kernel's MTP2 mode (DAHDI_SIG_MTP2)."""
    CAS = "cas"
    CLEAR = "clear"


class ChannelState(StrEnum):
    IDLE = "idle"
    """On hook, nothing happening."""
    OFFHOOK = "offhook"
    """Seized: our side is off hook (FXO) or the phone is (FXS)."""
    DIALING = "dialing"
    """The backend is sending digits."""
    RINGING = "ringing"
    """An FXS port is ringing its phone, or an FXO port is being rung."""
    IN_USE = "in_use"
    """A digital channel carrying a call."""
    OUT_OF_SERVICE = "out_of_service"
    """Faulted, blocked, or its span is in alarm."""


class HookOp(StrEnum):
    """Hook operations, as DAHDI_HOOK takes them."""

    ONHOOK = "onhook"
    OFFHOOK = "offhook"
    FLASH = "flash"
    WINK = "wink"
    RING = "ring"
    RINGOFF = "ringoff"


class EventKind(StrEnum):
    """Out-of-band events (DAHDI_EVENT_* in dahdi/user.h, by meaning)."""

    ONHOOK = "onhook"
    """FXS: the phone hung up. FXO: loop current dropped (far-end disconnect)."""
    OFFHOOK = "offhook"
    """FXS: the phone went off hook (DAHDI_EVENT_RINGOFFHOOK)."""
    RING_BEGIN = "ring_begin"
    """FXO: ringing voltage began (an inbound call)."""
    RING_END = "ring_end"
    RINGER_OFF = "ringer_off"
    """FXS: our ringer's cadence entered a silent step (DAHDI_EVENT_RINGEROFF): the
    port is still ringing. Caller ID goes out in the first of these pauses."""
    POLARITY = "polarity"
    """FXO: battery polarity reversed (answer or far-end clear, where the line does it)."""
    WINKFLASH = "winkflash"
    DIAL_COMPLETE = "dial_complete"
    BITS_CHANGED = "bits_changed"
    """CAS: the received ABCD bits changed; ``value`` holds them."""
    ALARM = "alarm"
    """A span's alarms changed; ``value`` holds the new :class:`Alarm` bits."""
    NOALARM = "noalarm"


@dataclass(frozen=True, slots=True)
class CardEvent:
    """One out-of-band event. ``channel`` is 0 for span events (alarms)."""

    t: float
    kind: EventKind
    channel: int = 0
    span: int = 0
    value: int | None = None


@dataclass(slots=True)
class SpanCounters:
    """Error counters of a digital span (struct dahdi_count, plus IRQ misses)."""

    bpv: int = 0
    crc4: int = 0
    fas: int = 0
    ebit: int = 0
    errsec: int = 0
    timingslips: int = 0
    irqmisses: int = 0
    read_overruns: int = 0
    """Times our reads fell so far behind that the kernel dropped received audio
    (DAHDI_EVENT_READ_OVERRUN, once per episode, on any of the span's channels)."""
    write_underruns: int = 0
    """Times the board had nothing of ours to send and sent silence
    (DAHDI_EVENT_WRITE_UNDERRUN, once per episode)."""


@dataclass(frozen=True, slots=True)
class SpanInfo:
    """A span's fixed description."""

    number: int
    kind: SpanKind
    signalling: SpanSignalling
    channels: tuple[int, ...]
    """Card-wide channel numbers of the span's bearer/analog channels."""
    dchannel: int | None = None
    framing: str = ""
    coding: str = ""
    crc4: bool = False
    law: str = "alaw"
    description: str = ""
    protocol: str = ""
    """What the span's signalling speaks where the card knows it (``mfcr2:cn``, an SS7
    linkset's name...): the emulated card's configuration says; on boards, the gateway's
    configuration does (empty here)."""
    options: tuple[tuple[str, Any], ...] = ()
    """The signalling module's settings the card knows for this span, as (key, value)
    pairs: the emulated card knows the point codes and circuit codes its network was
    given; a board knows none (they come from the gateway's ``[[span]]`` tables)."""


@dataclass(slots=True)
class SpanStatus:
    """A span's live state: alarms, counters, timing."""

    number: int
    alarms: Alarm = Alarm.NONE
    counters: SpanCounters = field(default_factory=SpanCounters)
    sync_source: int = 0
    """The span we take timing from (0: our own clock)."""
    loopback: str = ""


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A channel's fixed description."""

    number: int
    span: int
    signalling: ChannelSignalling
    law: str = "alaw"
    timeslot: int = 0
    """Timeslot on a digital span, port number (1-based) in an analog group."""


@dataclass(frozen=True, slots=True)
class LineOptions:
    """How an analog line behaves, as the installer knows it (or the emulation does).

    ``answer_on_polarity``: the line reverses polarity when the called party answers
    (chan_dahdi's ``answeronpolarityswitch``): then only the reversal is an answer, and
    sound before it is early media. Lines that do not get answers inferred from voice
    after ringback.
    """

    answer_on_polarity: bool = False
    caller_id: str = ""
    """How the exchange sends caller ID on this line, between the first and second
    rings: ``bell202`` (GR-30-CORE FSK: North America, China), ``v23`` (ETSI CLIP FSK);
    empty: the line has no caller ID service (the call is offered at the first ring).
    On an FXS port: the standard its phones read; a call to the phone that names who
    calls sends it in the first ring pause (drivers/signalling/fxs.py).
    chan_dahdi's ``usecallerid`` with ``cidsignalling`` (drivers/dsp/callerid.py)."""

    def __post_init__(self) -> None:
        if self.caller_id not in ("", "bell202", "v23"):
            raise ValueError(f"caller_id={self.caller_id!r} is not '', 'bell202' or 'v23'")
