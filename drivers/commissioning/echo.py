"""``trunkline test echo``: each FXO port's hybrid echo, measured through trunkline's own
channels, judged as ``--via fxotune`` judges it.

Why: an analog line returns part of what the port sends (the DAA's hybrid balances the
line only as well as its settings match it); an echo canceller then has to remove it.
This measures, at the port's current setting, what fxotune measures for each setting it
tries (fxotune.c ``acim_tune2``): off hook, a digit to stop dial tone, 2000 samples of
the six DTMF frequencies sent at -6 dBFS, 4000 samples received, and the echo as 20 log10
of the received magnitude at those frequencies over the sent one. The kernel's echo
canceller is left off on the port for the test (the hybrid is what is measured). So
``test echo`` before and after ``test echo --via fxotune`` shows what tuning gained, and
the two paths' verdicts are checked against each other (tests/dahdi/
test_genconf_fxotune_tools.py).
"""

from __future__ import annotations

import argparse

import numpy as np

from trunkline.errors import ConfigError

__all__ = ["echo_command", "echo_db", "measure_echo", "multitone"]

#: fxotune.c: the six DTMF frequencies (mid band, not harmonics of each other), 2000
#: samples sent, twice as many read, amplitude 16384 split among the tones.
FREQS = (697, 770, 941, 1209, 1336, 1633)
SEND, LISTEN, AMPLITUDE = 2000, 4000, 16384.0
RATE, FRAME = 8000, 160


def multitone(samples: int = SEND) -> np.ndarray:
    """fxotune's test waveform: the six tones summed, at AMPLITUDE / 6 each."""
    n = np.arange(samples)
    return AMPLITUDE * sum(np.sin(2 * np.pi * f * n / RATE) for f in FREQS) / len(FREQS)


def _magnitude(x: np.ndarray) -> float:
    """fxotune.c ``calc_magnitude``: a one-point DFT per frequency, magnitudes summed."""
    n = np.arange(len(x))
    return float(sum(abs(np.mean(x * np.exp(-2j * np.pi * f * n / RATE))) for f in FREQS))


def echo_db(received: np.ndarray, sent: np.ndarray) -> float:
    """fxotune.c ``db_loss``: 20 log10 of what came back over what was sent (at the
    test frequencies); minus the return loss."""
    back = _magnitude(received.astype(np.float64))
    return float(20 * np.log10(max(back, 1e-9) / _magnitude(sent.astype(np.float64))))


def measure_echo(card, channel: int, dial: str, settle: float = 2.0,
                 repeats: int = 3) -> float:
    """Off hook on ``channel``, ``dial`` to stop dial tone, then the echo (dB) of the
    multitone, as fxotune measures it, the lowest of ``repeats`` sends; the port is back
    on hook after."""
    from trunkline.drivers.model import HookOp

    taps = getattr(card, "echocancel", None)
    if taps is not None:
        card.echocancel = 0  # the hybrid is what is measured, not the canceller
    card.open(channel)
    try:
        row = card.row(channel)
        silence = np.zeros((len(card.open_channels), FRAME), np.int16)

        def run(seconds: float, send: np.ndarray | None = None) -> np.ndarray:
            got = []
            frames = round(seconds * RATE / FRAME)
            for k in range(frames):
                got.append(card.read_frames()[row].copy())
                out = silence.copy()
                if send is not None and k * FRAME < len(send):
                    piece = send[k * FRAME:(k + 1) * FRAME]
                    out[row, :len(piece)] = np.rint(piece).astype(np.int16)
                card.write_frames(out)
            return np.concatenate(got) if got else np.zeros(0)

        card.hook(channel, HookOp.OFFHOOK)
        run(settle)  # the exchange's dial tone comes
        card.dial(channel, dial)
        run(1.0)  # fxotune: sleep(1) after dialling
        tone = multitone()
        results = []
        for _ in range(repeats):
            # What is written in one frame goes out with the next: the echo of the first
            # frame sent is in the frame read after it; LISTEN samples from there.
            heard = run((LISTEN + 2 * FRAME) / RATE, tone)[FRAME:FRAME + LISTEN]
            results.append(echo_db(heard, tone))
        card.hook(channel, HookOp.ONHOOK)
    finally:
        card.close_channel(channel)
        if taps is not None:
            card.echocancel = taps
    # The quietest send: something else on the line during one (a click, a late frame)
    # is not the hybrid's echo, which is the same each time.
    return min(results)


def echo_command(args: argparse.Namespace) -> int:
    if getattr(args, "via", None) == "fxotune":
        from .via_fxotune import echo_via_fxotune

        return echo_via_fxotune(args)
    from trunkline.drivers.backends.dahdi.sysconf import parse_ranges
    from trunkline.drivers.model import SpanKind

    from .common import open_card, report
    from .via_fxotune import echo_finding

    with open_card(args) as card:
        fxo = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels]
        ports = list(parse_ranges(args.channels)) if args.channels else fxo
        others = [c for c in ports if c not in fxo]
        if others or not ports:
            raise ConfigError(f"channels {others or ports} are not configured FXO ports "
                              f"(the FXO ports are {fxo or 'none'})")
        findings = [echo_finding(ch, measure_echo(card, ch, args.dial)) for ch in ports]
    return report(findings)
