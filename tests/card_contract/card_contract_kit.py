"""What the card-contract tests share: the backends, channel pickers and far ends.

(Not a conftest: the fixtures are in conftest.py, which imports this module.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trunkline.drivers.card import CardABC
from trunkline.drivers.model import Alarm, CardEvent, EventKind, SpanKind

DATA = Path(__file__).resolve().parent / "data"

#: The card under test, by URL: every backend, in its default configuration.
BACKENDS = [
    pytest.param("emulated", id="emulated"),
    pytest.param("dahdi:sim", id="dahdi:sim"),
    pytest.param("dahdi", id="dahdi", marks=pytest.mark.hardware),
    # Two emulated GSM/LTE modules, driven with pyserial over real pseudo-terminals.
    pytest.param("mobile", id="mobile"),
]

#: Cards with an E1 CAS span (neither default configuration has one).
CAS_BACKENDS = [
    pytest.param(f"emulated:{DATA / 'cas-card.toml'}", id="emulated"),
    pytest.param(f"dahdi:sim={DATA / 'cas-system.toml'}", id="dahdi:sim"),
    pytest.param("dahdi", id="dahdi", marks=pytest.mark.hardware),
]

#: Span kinds that carry E1/T1 frames.
DIGITAL = (SpanKind.E1, SpanKind.T1)
#: Alarms that take a span's channels out of service.
DOWN = Alarm.RED | Alarm.BLUE | Alarm.YELLOW | Alarm.NOTOPEN


def backend_of(url: str) -> str:
    """The backend a URL names, as the tables of expected differences key it:
    ``emulated``, ``dahdi:sim`` or ``dahdi``."""
    name, _, argument = url.partition(":")
    if name == "dahdi" and argument.startswith("sim"):
        return "dahdi:sim"
    return name


def known_break(request, backend: str, on: tuple[str, ...], reason: str) -> None:
    """Mark the running test xfail(strict=True) on the backends ``on``: a break of the
    contract this suite found and that is not fixed here (``reason`` says what)."""
    if backend in on:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


# -- picking channels ------------------------------------------------------------------
def channels_of(card: CardABC, kind: SpanKind) -> list[int]:
    """The card's channels on spans of ``kind``; skips the test when it has none."""
    chans = [c for s in card.spans if s.kind is kind for c in s.channels]
    if not chans:
        pytest.skip(f"the card has no {kind.value} channels")
    return chans


def up_digital_span(card: CardABC, *, pri: bool = False):
    """A digital span with channels and no alarm; skips when the card has none."""
    for span in card.spans:
        if span.kind in DIGITAL and span.channels and (span.dchannel or not pri) \
                and not card.span_status(span.number).alarms & DOWN:
            return span
    pytest.skip("the card has no digital span that is up")


def analog_span(card: CardABC):
    span = next((s for s in card.spans if s.kind in (SpanKind.FXO, SpanKind.FXS)), None)
    if span is None:
        pytest.skip("the card has no analog span")
    return span


def run(card: CardABC, frames: int) -> list:
    """Read ``frames`` frames (writing silence back) and return the events they brought."""
    events = []
    for _ in range(frames):
        rx = card.read_frames()
        events += card.poll_events()
        card.write_frames(np.zeros_like(rx))
    return events


def check_events(card, events) -> None:
    """What every event must be, whatever the backend."""
    spans = {s.number for s in card.spans}
    last = 0.0
    for e in events:
        assert isinstance(e, CardEvent) and isinstance(e.kind, EventKind)
        assert isinstance(e.t, float) and last <= e.t <= card.clock.now() + 1e-9
        last = e.t
        assert e.span in spans
        if e.kind in (EventKind.ALARM, EventKind.NOALARM):
            assert e.channel == 0 and isinstance(e.value, int)
        else:
            assert card.channel(e.channel).span == e.span
        if e.kind is EventKind.BITS_CHANGED:
            assert e.value is not None and 0 <= e.value <= 15


# -- the far end of a line (outside the contract: per backend) -----------------------------
class FarEnd:
    """What the test makes the far end of a line do."""

    def ring(self, channel: int) -> None:
        """The exchange rings the line on FXO port ``channel`` (one ring)."""
        raise NotImplementedError

    def lift(self, channel: int) -> None:
        """The phone on FXS port ``channel`` goes off hook."""
        raise NotImplementedError

    def hang_up(self, channel: int) -> None:
        """The phone on FXS port ``channel`` goes on hook."""
        raise NotImplementedError

    def send_cas(self, channel: int, bits: int) -> None:
        """The far end of CAS channel ``channel`` sends ABCD ``bits``."""
        raise NotImplementedError


class EmulatedFarEnd(FarEnd):
    """The emulated card's network: its ports are the far ends."""

    def __init__(self, card) -> None:
        self.card = card

    def ring(self, channel: int) -> None:
        self.card.line(channel).ring_in(rings=1)

    def lift(self, channel: int) -> None:
        self.card.phone(channel).lift()

    def hang_up(self, channel: int) -> None:
        self.card.phone(channel).hangup()

    def send_cas(self, channel: int, bits: int) -> None:
        self.card.port(channel).far_end_bits(bits)


class SimulatedKernelFarEnd(FarEnd):
    """The simulated DAHDI kernel: the lines behind its spans are told through it."""

    def __init__(self, card) -> None:
        self.kernel = card.device

    def ring(self, channel: int) -> None:
        self.kernel.ring(channel)

    def lift(self, channel: int) -> None:
        self.kernel.phone_hook(channel, True)

    def hang_up(self, channel: int) -> None:
        self.kernel.phone_hook(channel, False)

    def send_cas(self, channel: int, bits: int) -> None:
        self.kernel.set_rxbits(channel, bits)


def far_end_of(card: CardABC, backend: str) -> FarEnd:
    if backend == "emulated":
        return EmulatedFarEnd(card)
    if backend == "dahdi:sim":
        return SimulatedKernelFarEnd(card)
    if backend == "mobile":
        return FarEnd()  # a module's far end is a mobile network: no lines, bits or phones
    pytest.skip("a real line's far end cannot be told what to do")
