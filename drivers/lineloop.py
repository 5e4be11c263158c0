"""The line loop: call legs driven on a card, one 20 ms frame at a time.

This is the one piece of I/O between a card and its call legs, used by the gateway's
media tick, ``trunkline call``, ``trunkline call-demo`` and the hil-tests alike. Each
tick it

1. reads a frame for every open channel (:meth:`LineLoop.read`; the card paces it);
2. hands card events to the leg holding their channel, or to the span's signalling
   module when no leg does (a call ringing in), and polls the modules that signal out of
   band (a PRI D-channel) (:meth:`LineLoop.signal`);
3. runs the legs' timers (:meth:`LineLoop.run_timers`);
4. runs the shared multi-channel detector once over every channel that detects, and
   hands each leg the events of its channel (:meth:`LineLoop.detect`);
5. writes the reply frames (:meth:`LineLoop.write`): silence, or what the owner mixed.

Whatever a leg returns is carried out at once: channel and detector actions here,
signalling actions by the leg's module; then its events go to the loop's listener
(``on_event(leg, event)``; span events come with ``leg`` None). A leg that has hung up
is let go of: its channel, its detection, its module's memory of it.

Each span's signalling module is chosen by what the span speaks
(:func:`~trunkline.drivers.signalling.base.module_spec`) or given (a name, or a
:class:`~trunkline.drivers.signalling.base.ModuleSpec` with options); spans given the same
module and group share one (the circuits of an SS7 linkset).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import numpy as np

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.callerid import (
    CallerIdError,
    CallerIdEvent,
    FskReceiver,
    decode_message,
)
from trunkline.drivers.dsp.detector import Detector
from trunkline.drivers.dsp.tones import sine
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import FRAME_SAMPLES, CardEvent, EventKind, SpanInfo
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    Action,
    ConfigureDetection,
    DetectCallerId,
    DetectMf,
    MarkAnswered,
    OpenAudio,
    PlayTone,
    ReleaseChannel,
    RestartDetection,
    SendAudio,
    StartDetection,
    StopAudio,
    StopDetection,
    StopTone,
    TakeChannel,
)
from trunkline.drivers.signalling.base import (
    InboundPolicy,
    ModuleSpec,
    Signalling,
    SignallingContext,
    module_spec,
    open_module,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import ChannelError

__all__ = ["LineLoop", "Listener", "ModuleSpec", "VirtualAudio"]


def _spec(given: ModuleSpec | str | None, span: SpanInfo) -> ModuleSpec | None:
    """The module for ``span``: the one given, over what the card says of the span (a
    given module of the same name keeps the card's options it does not set itself)."""
    default = module_spec(span)
    if given is None:
        return default
    spec = ModuleSpec(given) if isinstance(given, str) else given
    if default is None or default.name != spec.name:
        return spec
    return ModuleSpec(spec.name, {**default.options, **spec.options},
                      group=spec.group if spec.group is not None else default.group)


#: Who hears what legs and spans report: ``(leg, event)``, ``leg`` None for span events.
Listener = Callable[[Leg | None, Any], None]


class VirtualAudio(Protocol):
    """Channels whose audio does not pass through the card (a browser's WebRTC audio,
    issue 19), numbered after the card's: their frames join the tick's as extra rows,
    so detection, bridges, listening and recordings treat them as any channel."""

    def read_frames(self) -> tuple[tuple[int, ...], np.ndarray]:
        """The channels moving audio now and one 160-sample frame each (rows in order)."""
        ...

    def write_frames(self, channels: tuple[int, ...], frames: np.ndarray) -> None:
        """What each of ``channels`` sends this tick (float rows, in order)."""
        ...


class LineLoop:
    """Call legs on ``card`` (see the module docstring); a context manager.

    ``spans`` limits the spans driven (default: every span a module speaks for);
    ``signalling`` gives a module (a name or a ModuleSpec) per span number where the
    default is not wanted;
    ``options`` go to the modules (``pri_switchtype``, ``pri_trace``).
    """

    def __init__(self, card: CardABC, *, zone: Zone, clock: Clock | None = None,
                 listener: Listener | None = None, inbound: InboundPolicy | None = None,
                 options: Mapping[str, Any] | None = None, spans: Iterable[int] | None = None,
                 signalling: Mapping[int, ModuleSpec | str] | None = None) -> None:
        from trunkline.runtime import limit_blas_threads

        limit_blas_threads()
        self.card = card
        self.clock = clock or card.clock
        self.zone = zone
        self.listener: Listener = listener or (lambda leg, event: None)
        self.detector = Detector(zone, max_channels=max(card.channels) + 1)
        self._ids = itertools.count(1)
        self.context = SignallingContext(self.clock, zone, self.next_id,
                                         inbound or InboundPolicy(), dict(options or {}))
        wanted = None if spans is None else set(spans)
        self.modules: dict[int, Signalling] = {}
        self._span_of: dict[int, int] = {}
        shared: dict[tuple[str, str], Signalling] = {}
        try:
            for span in card.spans:
                spec = _spec((signalling or {}).get(span.number), span)
                if spec is None or (wanted is not None and span.number not in wanted):
                    continue
                key = (spec.name, spec.group) if spec.group is not None else None
                if key is not None and key in shared:
                    shared[key].add_span(span, spec.options)
                    self.modules[span.number] = shared[key]
                else:
                    self.modules[span.number] = open_module(spec, card, span, self.context)
                    if key is not None:
                        shared[key] = self.modules[span.number]
                self._span_of.update(dict.fromkeys(span.channels, span.number))
        except BaseException:
            for module in dict.fromkeys(self.modules.values()):
                module.close()
            raise
        self.legs: dict[int, Leg] = {}
        self.by_channel: dict[int, Leg] = {}
        self._audio: dict[int, Leg] = {}  # digital channels a leg opened
        self._tones: dict[int, list[Any]] = {}  # channel -> [ToneSpec, next sample]
        self._sending: dict[int, list[Any]] = {}  # channel -> [samples, next sample]
        self._caller_id: dict[int, FskReceiver] = {}  # channels listening for caller ID
        self._over: list[Leg] = []  # legs that hung up during the current step
        self._order: tuple[int, ...] = ()
        self.rows: dict[int, int] = {}
        self.ticks = 0
        self._closed = False
        self._virtual: VirtualAudio | None = None
        self._virtual_rows: tuple[int, ...] = ()
        self._always_open = [c for m in dict.fromkeys(self.modules.values()) if m.always_open
                             for c in m.channels]
        card.open(self._always_open)

    # -- calls --------------------------------------------------------------------------
    def next_id(self) -> int:
        """A new call id (ids are never reused in a loop's life)."""
        return next(self._ids)

    def module(self, span: int) -> Signalling:
        try:
            return self.modules[span]
        except KeyError:
            raise ChannelError(f"span {span} has no signalling module driving it") from None

    def module_of(self, channel: int) -> Signalling | None:
        span = self._span_of.get(channel)
        return None if span is None else self.modules[span]

    def originate(self, options: CallOptions, *, span: int, channel: int | None = None,
                  call_id: int | None = None) -> Leg:
        """Place a call on ``span`` (on ``channel``, or where the module hunts one).

        Raises NumberFormatError when the line cannot dial the number.
        """
        call_id = self.next_id() if call_id is None else call_id
        leg = self.module(span).outbound(call_id, channel, options)
        self.place(leg)
        return leg

    def place(self, leg: Leg) -> None:
        """Start driving ``leg`` (outbound, or offered by the line).

        When its signalling refuses the call as it starts (a PRI span with no free
        B-channel after all, its D-channel just gone down), the error is raised and the
        loop keeps nothing of the leg: no call was placed.
        """
        try:
            self._start(leg)
        except BaseException:
            self._over.append(leg)
            self._let_go_of_ended()
            raise
        self._let_go_of_ended()

    def answer(self, leg: Leg) -> None:
        self._run(leg, leg.answer(self.clock.now()))
        self._let_go_of_ended()

    def hangup(self, leg: Leg, cause: int = 16) -> None:
        self._run(leg, leg.hangup(self.clock.now(), cause))
        self._let_go_of_ended()

    def send_digits(self, leg: Leg, digits: str) -> None:
        """DTMF out of band, where the leg's signalling carries it (Leg.send_digits)."""
        self._run(leg, leg.send_digits(self.clock.now(), digits))
        self._let_go_of_ended()

    def _start(self, leg: Leg) -> None:
        self.legs[leg.id] = leg
        if leg.channel is not None:
            self.by_channel[leg.channel] = leg
        self._run(leg, leg.start(self.clock.now()))

    def busy(self, channel: int) -> bool:
        """True while a leg holds ``channel``."""
        return channel in self.by_channel

    def add_virtual_span(self, span: int, module: Signalling, audio: VirtualAudio,
                         channels: Iterable[int]) -> None:
        """Drive calls on ``channels`` that are not the card's: ``module`` builds and
        signals their legs as a span's module does, ``audio`` moves their frames (one
        virtual span per loop). Their rows follow the card's in :meth:`read`; the
        detector grows to cover them (only before any channel detects)."""
        numbers = tuple(channels)
        if span in self.modules or self._virtual is not None:
            raise ChannelError(f"span {span} is driven already (one virtual span per loop)")
        clash = set(numbers) & set(self.card.channels)
        if clash:
            raise ChannelError(f"virtual channels {sorted(clash)} are the card's")
        top = max(numbers) + 1
        if top > self.detector.max_channels:
            if self.detector.enabled.any():
                raise ChannelError("virtual channels are added before calls detect")
            self.detector = Detector(self.zone, max_channels=top)
        self.modules[span] = module
        self._span_of.update(dict.fromkeys(numbers, span))
        self._virtual = audio

    # -- the tick -----------------------------------------------------------------------
    def read(self) -> np.ndarray:
        """Wait for the next frame; int16, one row per open channel (see :attr:`rows`);
        virtual channels (:meth:`add_virtual_span`) follow the card's."""
        frames = self.card.read_frames()
        self._order = self.card.open_channels
        self.rows = {ch: i for i, ch in enumerate(self._order)}
        self.ticks += 1
        gaps = self.card.take_audio_gaps()
        if gaps:  # the detector must know it did not hear everything (AMD: notsure)
            enabled = self.detector.enabled
            for ch in gaps:
                if ch < enabled.size and enabled[ch]:
                    self.detector.audio_lost(ch)
        if self._virtual is not None:
            ids, extra = self._virtual.read_frames()
            self._virtual_rows = ids
            if ids:
                base = len(self._order)
                self.rows.update({ch: base + i for i, ch in enumerate(ids)})
                frames = np.vstack([frames, extra.astype(frames.dtype, copy=False)])
        return frames

    def signal(self, now: float) -> None:
        """Card events and out-of-band signalling, to the legs and modules they concern."""
        for event in self.card.poll_events():
            self._card_event(now, event)
        for module in dict.fromkeys(self.modules.values()):  # a shared module polls once
            for leg, item in module.poll(now):
                if leg is None:
                    self.listener(None, item)
                elif item is None:
                    self._start(leg)
                elif leg.id in self.legs:
                    self._run(leg, leg.on_signal(now, item))
        self._let_go_of_ended()

    def run_timers(self, now: float) -> None:
        for leg in list(self.legs.values()):
            due = leg.next_deadline()
            if not leg.ended and (due is None or now >= due):
                self._run(leg, leg.on_time(now))
        self._let_go_of_ended()

    def detect(self, frames: np.ndarray, now: float) -> None:
        """One detector pass over every channel that detects; events to their legs."""
        if self._caller_id:
            self._read_caller_id(frames, now)
        enabled = self.detector.enabled
        ids = [leg.channel for leg in self.legs.values()
               if leg.channel is not None and leg.channel in self.rows and enabled[leg.channel]]
        if not ids:
            return
        block = frames[[self.rows[c] for c in ids]]
        for event in self.detector.process(block, np.array(ids)):
            leg = self.by_channel.get(int(event.channel))
            if leg is not None:
                self._run(leg, leg.on_detection(now, event))
        self._let_go_of_ended()

    def _read_caller_id(self, frames: np.ndarray, now: float) -> None:
        """Feed the FSK receivers of the channels whose legs asked for caller ID (few:
        lines ringing in, for a few seconds each)."""
        for channel, receiver in list(self._caller_id.items()):
            leg = self.by_channel.get(channel)
            if channel not in self.rows or leg is None:
                continue
            for words in receiver.feed(frames[self.rows[channel]]):
                try:
                    caller = decode_message(words)
                except CallerIdError:
                    continue  # checksum right, layout wrong: as if nothing came
                at = receiver.samples
                self._run(leg, leg.on_detection(now, CallerIdEvent(channel, at, at, caller)))
        self._let_go_of_ended()

    def write(self, out: np.ndarray | None = None) -> None:
        """Send ``out`` (float or int16, rows as :attr:`rows`; None: silence).

        Channels opened or closed during the tick change the card's row order: the
        reply is re-laid to the card's order (new channels send silence this once).
        Signalling tones and audio the legs asked for (PlayTone, SendAudio) are added.
        """
        if self._virtual is not None and self._virtual_rows:
            ids = self._virtual_rows
            if out is None:
                self._virtual.write_frames(ids, np.zeros((len(ids), FRAME_SAMPLES),
                                                         np.float32))
            else:
                self._virtual.write_frames(ids, np.asarray(
                    out[[self.rows[ch] for ch in ids]], np.float32))
                out = out[:len(self._order)]
        order = self.card.open_channels
        if out is None:
            if not self._tones and not self._sending:
                self.card.write_frames(np.zeros((len(order), FRAME_SAMPLES), np.int16))
                return
            out = np.zeros((len(order), FRAME_SAMPLES), np.float32)
            self._order, self.rows = order, {ch: i for i, ch in enumerate(order)}
        if order != self._order:
            reply = np.zeros((len(order), FRAME_SAMPLES), out.dtype)
            now_rows = {ch: i for i, ch in enumerate(order)}
            for ch, row in self.rows.items():
                if ch in now_rows:
                    reply[now_rows[ch]] = out[row]
            out = reply
        if self._tones or self._sending:
            out = self._add_tones(out.astype(np.float32), order)
        self.card.write_frames(np.clip(np.rint(out), -32768, 32767).astype(np.int16))

    def _add_tones(self, out: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
        rows = {ch: i for i, ch in enumerate(order)}
        for channel, playing in self._tones.items():
            if channel in rows:
                spec, at = playing
                out[rows[channel]] += sine(spec.frequencies, FRAME_SAMPLES, spec.level,
                                           start=at)
                playing[1] = at + FRAME_SAMPLES
        for channel, sending in list(self._sending.items()):
            samples, at = sending
            if channel in rows:
                chunk = samples[at: at + FRAME_SAMPLES]
                out[rows[channel], : chunk.size] += chunk
                sending[1] = at + FRAME_SAMPLES
            if sending[1] >= samples.size:
                del self._sending[channel]
        return out

    def tick(self) -> np.ndarray:
        """One whole tick with nothing to mix (the CLI, the hil-tests); returns the frames
        read, rows as :attr:`rows`."""
        frames = self.read()
        now = self.clock.now()
        self.signal(now)
        self.run_timers(now)
        self.detect(frames, now)
        self.write()
        return frames

    def run(self, until: Callable[[], bool], *, max_seconds: float = 3600.0,
            on_tick: Callable[[np.ndarray], None] | None = None) -> None:
        """Tick until ``until()`` is true (or ``max_seconds`` of card time passed)."""
        end = self.clock.now() + max_seconds
        while not until() and self.clock.now() < end:
            frames = self.tick()
            if on_tick is not None:
                on_tick(frames)

    # -- carrying out what legs return --------------------------------------------------
    def _card_event(self, now: float, event: CardEvent) -> None:
        if event.kind in (EventKind.ALARM, EventKind.NOALARM):
            alarm = ev.SpanAlarm(event.span, event.value or 0)
            self.listener(None, alarm)
            module = self.modules.get(event.span)
            if module is not None:
                for hit, signal in module.span_alarm(now, alarm):
                    if hit.id in self.legs:
                        self._run(hit, hit.on_signal(now, signal))
            return
        leg = self.by_channel.get(event.channel)
        if leg is not None:
            self._run(leg, leg.on_signal(now, event))
            return
        module = self.module_of(event.channel)
        found = None if module is None else module.unclaimed(now, event)
        if isinstance(found, Leg):
            self._start(found)
        elif found is not None:
            self.listener(None, found)

    def _run(self, leg: Leg, outputs: list[Output]) -> None:
        """Carry out ``leg``'s actions (and what they lead to), then report its events.

        A leg that hung up keeps its channel until the step is over: the rest of what
        the line says in that step (the loop-current drop after the reversal) is still
        the call's, not news of an idle channel."""
        actions: deque[Action] = deque()
        events: list[ev.CallEvent] = []
        self._sort(outputs, actions, events)
        now = self.clock.now()
        while actions:
            self._sort(self._perform(leg, actions.popleft(), now), actions, events)
        for event in events:
            self.listener(leg, event)
        if leg.ended and leg not in self._over:
            self._over.append(leg)

    @staticmethod
    def _sort(outputs: list[Output], actions: deque[Action], events: list[ev.CallEvent]
              ) -> None:
        for item in outputs:
            if isinstance(item, Action):
                actions.append(item)
            else:
                events.append(item)

    def _perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        detector, channel = self.detector, leg.channel
        # The channel the call's detection runs on (None: none is running).
        detecting = channel if channel is not None and detector.enabled[channel] else None
        if isinstance(action, TakeChannel):
            self.by_channel[action.channel] = leg
            if action.open_audio:
                self._open_audio(leg, action.channel)
        elif isinstance(action, OpenAudio):
            if channel is not None:
                self._open_audio(leg, channel)
        elif isinstance(action, ReleaseChannel):
            self._let_go(leg, action.channel)
        elif isinstance(action, StartDetection):
            if channel is not None:
                detector.enable(channel, **action.options)
        elif isinstance(action, ConfigureDetection):
            if detecting is not None:
                detector.configure(detecting, **action.options)
        elif isinstance(action, RestartDetection):
            if detecting is not None:
                detector.reset(detecting)
        elif isinstance(action, MarkAnswered):
            if detecting is not None:
                detector.mark_answered(detecting, exact=action.exact)
        elif isinstance(action, StopDetection):
            if detecting is not None:
                detector.disable(detecting)
        elif isinstance(action, DetectMf):
            if detecting is not None:
                detector.configure(detecting, mf=action.system)
            elif channel is not None and action.system is not None:
                detector.enable(channel, dtmf=False, progress=False, fax=False, vad=False,
                                mf=action.system)
        elif isinstance(action, DetectCallerId):
            if channel is not None and action.standard is not None:
                self._caller_id[channel] = FskReceiver()
            elif channel is not None:
                self._caller_id.pop(channel, None)
        elif isinstance(action, PlayTone):
            if channel is not None:
                self._tones[channel] = [action.tone, 0]
        elif isinstance(action, StopTone):
            if channel is not None:
                self._tones.pop(channel, None)
        elif isinstance(action, SendAudio):
            if channel is not None:
                self._sending[channel] = [np.asarray(action.samples, np.float32), 0]
        elif isinstance(action, StopAudio):
            if channel is not None:
                self._sending.pop(channel, None)
        else:
            return self.module(leg.span).perform(leg, action, now)
        return []

    def _open_audio(self, leg: Leg, channel: int) -> None:
        self.card.open(channel)
        self._audio[channel] = leg

    def _let_go(self, leg: Leg, channel: int) -> None:
        self._tones.pop(channel, None)
        self._sending.pop(channel, None)
        self._caller_id.pop(channel, None)
        if self.detector.enabled[channel]:
            self.detector.disable(channel)
        if self.by_channel.get(channel) is leg:
            del self.by_channel[channel]
        if self._audio.get(channel) is leg:
            del self._audio[channel]
            self.card.close_channel(channel)

    def _let_go_of_ended(self) -> None:
        over, self._over = self._over, []
        for leg in over:
            self.legs.pop(leg.id, None)
            if leg.channel is not None:
                self._let_go(leg, leg.channel)
            module = self.modules.get(leg.span)
            if module is not None:
                module.forget(leg)

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Let go of every channel the loop opened and close the modules; safe twice.
        Calls still up are dropped where they are (the card goes on hook)."""
        if self._closed:
            return
        self._closed = True
        for channel in list(self._audio):
            self.card.close_channel(channel)
        self._audio.clear()
        self.card.close_channel(self._always_open)
        for module in dict.fromkeys(self.modules.values()):
            module.close()

    def __enter__(self) -> LineLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
