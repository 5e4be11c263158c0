"""The simulated network behind the emulated card: ports, timers and audio.

:class:`Network` advances in 20 ms steps driven by the card. Each step it runs the
timers that fell due, lets exchanges read digits from what the card sent, and produces
one frame of received audio for every channel through one :class:`Player` gather. The
Python work per step is proportional to what *happens* (timers firing, clips ending),
not to the number of channels (DESIGN.md, principle 2).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

import numpy as np

from trunkline.drivers.backends.emulated.farend import FarEndPlan, Step
from trunkline.drivers.backends.emulated.plan import NumberPlan
from trunkline.drivers.backends.emulated.sounds import NetworkSounds
from trunkline.drivers.dsp.player import Player
from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE, CardEvent, EventKind


class LiveSource(Protocol):
    """A far end that answers what it hears, frame by frame (e.g. a fax terminal)."""

    def frame(self, heard: np.ndarray) -> np.ndarray:
        """Given the 160 samples our side sent this step, the 160 it sends back."""
        ...


class Port:
    """The network's end of one channel: it owns that channel's row of received audio."""

    def __init__(self, network: Network, channel: int, span: int, row: int) -> None:
        self.network = network
        self.channel = channel
        self.span = span
        self.row = row
        self.out_of_service = False
        self._steps: list[Step] = []
        self._generation = 0
        self.step_label = ""

    # -- audio ----------------------------------------------------------------------
    def play(self, steps: tuple[Step, ...] | list[Step]) -> None:
        """Replace what this port sends with ``steps``, in order."""
        self._steps = list(steps)
        self._next_step()

    def silence(self) -> None:
        self._steps = []
        self.step_label = ""
        self.network.player.play(self.row, None)

    def _next_step(self) -> None:
        if not self._steps:
            self.silence()
            return
        step = self._steps.pop(0)
        self.step_label = step.label
        samples = None if step.seconds is None else max(1, round(step.seconds * SAMPLE_RATE))
        self.network.player.play(self.row, step.clip, loop=step.loop or step.clip is None,
                                 samples=samples)

    def on_step_ended(self) -> None:
        self._next_step()

    # -- time -----------------------------------------------------------------------
    def after(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` ``seconds`` from now, unless :meth:`cancel_timers` comes first."""
        self.network.schedule(self.network.now + seconds, self, self._generation, action)

    def cancel_timers(self) -> None:
        self._generation += 1

    def emit(self, kind: EventKind, value: int | None = None) -> None:
        self.network.emit(CardEvent(self.network.now, kind, self.channel, self.span, value))

    # -- what the card tells a port -------------------------------------------------
    def hear(self, frame: np.ndarray) -> None:
        """The audio our side sent this step (only for ports that asked to hear)."""

    def start_far_end(self, plan: FarEndPlan) -> None:
        """Answer with the plan's far end: a live one if available, else its audio."""
        from trunkline.drivers.backends.emulated.farend import live_far_end

        source = live_far_end(plan)
        if source is not None:
            self.silence()
            self.attach_live(source)  # type: ignore[arg-type]
        else:
            self.play(plan.connected)

    def attach_live(self, source: LiveSource | None) -> None:
        """Let ``source`` make this port's audio frame by frame from what it hears
        (a far-end fax machine or modem), instead of prerendered clips; None detaches."""
        if source is None:
            self.network.live.pop(self.row, None)
        else:
            self.network.live[self.row] = source


class Network:
    """Ports, their timers, the audio bank and player, and the number plan."""

    def __init__(self, plan: NumberPlan, sounds: NetworkSounds, rows: int, seed: int) -> None:
        self.plan = plan
        self.sounds = sounds
        self.player = Player(sounds.bank, rows)
        self.rng = np.random.default_rng(seed)
        self.now = 0.0
        self.ports: list[Port] = []
        self._timers: list[tuple[float, int, Port, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._events: list[CardEvent] = []
        self.listeners: set[Port] = set()
        #: Rows whose audio a live source makes (see :meth:`Port.attach_live`).
        self.live: dict[int, LiveSource] = {}
        """Ports that want :meth:`Port.hear` each step (exchanges collecting digits)."""
        noise = sounds.bank.samples(sounds.noise).astype(np.float32)
        self._noise = noise
        self._noise_offset = self.rng.integers(0, noise.size, rows)
        self._noise_index = np.arange(FRAME_SAMPLES)
        # The noise loop with its first 159 samples repeated after its end, so a frame
        # of any row is 160 consecutive samples from (offset + frame * 160) mod size --
        # the same samples as indexing modulo the size, without a (rows x 160) modulo.
        self._noise_wrapped = noise[np.arange(noise.size + FRAME_SAMPLES - 1) % noise.size]
        self._frame = 0
        self.calls_routed = 0

    def add_port(self, port: Port) -> None:
        self.ports.append(port)

    def schedule(self, when: float, port: Port, generation: int,
                 action: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), port, generation, action))

    def emit(self, event: CardEvent) -> None:
        self._events.append(event)

    def next_timer(self) -> float | None:
        """When the next timer falls due (None: no timer set)."""
        return self._timers[0][0] if self._timers else None

    def take_events(self) -> list[CardEvent]:
        events, self._events = self._events, []
        return events

    def call_rng(self) -> np.random.Generator:
        """A generator for one call: repeatable from the seed, independent per call."""
        self.calls_routed += 1
        return np.random.default_rng([int(self.rng.integers(2**31)), self.calls_routed])

    def step(self, now: float, tx: np.ndarray) -> np.ndarray:
        """Advance to ``now``: timers, digits heard, then one frame of audio per row."""
        self.now = now
        while self._timers and self._timers[0][0] <= now + 1e-9:
            _, _, port, generation, action = heapq.heappop(self._timers)
            if generation == port._generation:
                action()
        for port in list(self.listeners):
            port.hear(tx[port.row])
        audio, ended = self.player.frame()
        for row in ended:
            self.ports[row].on_step_ended()
        for row, source in list(self.live.items()):
            audio[row] = source.frame(tx[row])
        first = (self._noise_offset + self._frame * FRAME_SAMPLES) % self._noise.size
        audio += self._noise_wrapped[first[:, None] + self._noise_index]
        self._frame += 1
        return audio
