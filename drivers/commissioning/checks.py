"""The checks behind `trunkline scan/status/test`: each returns findings an installer acts on.

Every check works on any backend through :class:`~trunkline.drivers.card.CardABC` (and a
few optional extras a backend may offer, looked up with ``getattr``). Time comes from a
clock passed in, never read here, so tests drive the checks with a virtual clock.

A :class:`Finding` is a verdict (PASS, WARN, FAIL), what it is about, what was seen and,
for faults, the likely cause and what to do: the knowledge an experienced installer
applies to dahdi_scan and dahdi_test output (gateway-anchors.md section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trunkline.clock import Clock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.levels import power_dbm0
from trunkline.drivers.dsp.tones import render_tone
from trunkline.drivers.dsp.zones import Tone
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    TICK_SECONDS,
    Alarm,
    ChannelState,
    SpanInfo,
    SpanKind,
    SpanStatus,
)
from trunkline.errors import BackendError

#: dahdi_test's pass mark: a timing source within 99.99 % of real time.
TIMING_PASS_PERCENT = 99.99


@dataclass(frozen=True)
class Finding:
    level: str  # "PASS", "WARN", "FAIL"
    subject: str
    message: str
    cause: str = ""

    def line(self) -> str:
        cause = f"\n       likely cause: {self.cause}" if self.cause else ""
        return f"{self.level:<4}  {self.subject}: {self.message}{cause}"

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "subject": self.subject, "message": self.message,
                "cause": self.cause}


def worst(findings: list[Finding]) -> str:
    levels = {f.level for f in findings}
    return "FAIL" if "FAIL" in levels else "WARN" if "WARN" in levels else "PASS"


def digital(span: SpanInfo) -> bool:
    return span.kind in (SpanKind.E1, SpanKind.T1)


# -- span diagnosis ----------------------------------------------------------------------
#: Why a mobile module is out of service (the card's alarm_detail), and what to do.
MODULE_CAUSES = {
    "port lost": "the module left the USB bus or its tty hung up: check the cable and "
                 "power (USB hubs need their own supply for several modules), `dmesg`",
    "not answering": "nothing answers AT on that port: the wrong interface (trunkline scan "
                     "lists each module's AT port), the module powered down, or a stick "
                     "still in storage mode (docs/mobile.md)",
    "SIM absent": "no SIM, or not seated: insert it with the module powered off",
    "SIM pin": "the SIM asks for its PIN: give the module its PIN (pin_file or pin_env in "
               "the card file, docs/mobile-card.md; trunkline enters it only with 2 or more "
               "attempts left and never twice after a refusal), or remove the PIN in a phone",
    "SIM puk": "the SIM is blocked (PUK): unblock it in a phone with the PUK from the "
               "SIM's carrier (trunkline never enters a PUK)",
    "not registered": "no network: antenna, coverage (the signal above), a SIM barred or "
                      "out of credit, or a band the module does not have",
}


def _diagnose_module(subject: str, alarms: Alarm, detail: list[str]) -> Finding:
    if not alarms & Alarm.RED:
        return Finding("PASS", subject, "module in service (SIM ready, registered)")
    causes = [text for key, text in MODULE_CAUSES.items()
              if any(d.startswith(key) for d in detail)]
    return Finding("FAIL", subject, "module out of service"
                   + (f" ({', '.join(detail)})" if detail else ""),
                   "; ".join(causes) or "the module is starting or restarting: wait, then "
                   "scan again")


def diagnose_span(span: SpanInfo, status: SpanStatus, detail: list[str] | None = None
                  ) -> list[Finding]:
    """What a span's alarms and counters say, with the likely cause of each fault."""
    subject = f"span {span.number} ({span.kind.value.upper()})"
    out: list[Finding] = []
    alarms = status.alarms
    detail = detail or []
    config = f"{span.framing or '?'}/{span.coding or '?'}{'/crc4' if span.crc4 else ''}"
    if span.kind is SpanKind.MOBILE:
        return [_diagnose_module(subject, alarms, detail)]
    if not digital(span):
        out.append(Finding("PASS", subject, f"{len(span.channels)} analog ports"))
        return out
    if alarms & Alarm.NOTOPEN:
        out.append(Finding("WARN", subject, "not configured or not started",
                           "no system.conf entry for this span: `trunkline config generate`,"
                           " then `trunkline config apply`"))
        return out
    if alarms & Alarm.RED:
        if "LOS" in detail:
            cause = ("no signal at all (LOS): cable unplugged or in the wrong port, "
                     "crossed RX/TX pairs, or the far end is not transmitting")
        elif "LMFA" in detail:
            cause = (f"multiframe lost (LMFA): CRC4 set on one side only, or CAS vs CCS "
                     f"framing; this span is {config}: match the carrier")
        elif "LFA" in detail:
            cause = (f"frame alignment lost (LFA): framing mismatch ({config} here) or "
                     "wrong line impedance/build-out")
        else:
            cause = (f"lost framing or signal: framing or CRC4 mismatch with the carrier "
                     f"(this span is {config}), or cabling")
        out.append(Finding("FAIL", subject, "RED alarm" + (f" ({', '.join(detail)})"
                                                           if detail else ""), cause))
    if alarms & Alarm.BLUE:
        out.append(Finding("FAIL", subject, "BLUE alarm (AIS, all ones received)",
                           "the fault is upstream of the far end: call the carrier; our "
                           "side is fine"))
    if alarms & Alarm.YELLOW:
        out.append(Finding("FAIL", subject, "YELLOW alarm (RAI: the far end is in red)",
                           "the far end does not receive us: our transmit pair, cable "
                           "pinout (RJ48: 1-2 RX, 4-5 TX), or framing/CRC4 mismatch seen "
                           "by the far end"))
    if alarms & Alarm.LOOPBACK:
        out.append(Finding("WARN", subject, f"in loopback ({status.loopback or 'active'})",
                           "a maintenance loop is on: `trunkline test loopback --span "
                           f"{span.number} --off` ends it"))
    if alarms & Alarm.RECOVER:
        out.append(Finding("WARN", subject, "recovering from an alarm", "wait a few seconds"))
    c = status.counters
    red = bool(alarms & Alarm.RED)
    if c.bpv and not red:
        out.append(Finding("WARN", subject, f"{c.bpv} bipolar violations",
                           f"line coding mismatch (this span codes {span.coding or '?'}; "
                           "AMI vs HDB3/B8ZS) or a noisy line"))
    if c.crc4 and not red:
        out.append(Finding("WARN", subject, f"{c.crc4} CRC4 errors",
                           "CRC4 enabled on one side only, or bit errors on the line"))
    if c.fas and not red:
        out.append(Finding("WARN", subject, f"{c.fas} framing errors", "line quality: "
                           "cable length, connectors, impedance"))
    if c.timingslips:
        out.append(Finding("WARN", subject, f"{c.timingslips} timing slips",
                           "wrong sync source: take timing from the carrier's span "
                           "(timing=1 on that span in system.conf)"))
    if c.irqmisses:
        out.append(Finding("WARN", subject, f"{c.irqmisses} IRQ misses",
                           "the board shares its interrupt or the host is overloaded: check "
                           "/proc/interrupts, move the card to another slot"))
    if not out:
        out.append(Finding("PASS", subject, f"up, no alarms ({config})"))
    return out


def diagnose_timing(card: CardABC, statuses: dict[int, SpanStatus]) -> list[Finding]:
    spans = [s for s in card.spans if digital(s)]
    if not spans:
        # No TDM span to take a clock from. A mobile module's PCM comes over USB serial
        # and is buffered at the card's edge, so each module keeps its own time.
        mobile = any(s.kind is SpanKind.MOBILE for s in card.spans)
        analog = any(s.kind is not SpanKind.MOBILE for s in card.spans)
        if mobile and not analog:
            return [Finding("PASS", "timing", "mobile modules only: each module times its "
                            "own audio (no span to take a clock from)")]
        if mobile:
            return [Finding("PASS", "timing", "analog ports and mobile modules: the board "
                            "times itself, each module its own audio")]
        return [Finding("PASS", "timing", "analog only: the board times itself")]
    sources = {st.sync_source for st in statuses.values() if st.sync_source}
    if not sources:
        return [Finding("WARN", "timing", "no span is the sync source: the card runs "
                        "free", "no digital span is up with a timing priority: set timing=1 "
                        "on the carrier's span, or check its alarms")]
    src = min(sources)
    st = statuses.get(src)
    if st is not None and st.alarms & (Alarm.RED | Alarm.BLUE):
        return [Finding("FAIL", "timing", f"sync source span {src} is in alarm",
                        "timing follows a dead span: fix that span or change priorities")]
    return [Finding("PASS", "timing", f"sync source is span {src}")]


# -- timing --------------------------------------------------------------------------------
@dataclass
class TimingResult:
    passes: list[float] = field(default_factory=list)
    error: str = ""
    irqmisses: int = 0

    @property
    def average(self) -> float:
        return float(np.mean(self.passes)) if self.passes else 0.0

    @property
    def worst(self) -> float:
        return float(min(self.passes)) if self.passes else 0.0


def measure_timing(card: CardABC, reference: Clock, passes: int = 5,
                   frames_per_pass: int = 50) -> TimingResult:
    """dahdi_test's measurement: frames the card delivers against a reference clock.

    Each pass reads ``frames_per_pass`` frames (1 s by default) and compares the audio
    time they carry with the time the reference clock saw pass: accuracy is
    ``100 - 100 * |seen - expected| / expected`` per pass.
    """
    result = TimingResult()
    before = sum(card.span_status(s.number).counters.irqmisses for s in card.spans)
    expected = frames_per_pass * TICK_SECONDS
    try:
        card.read_frames()  # align to the card's frame boundary
        for _ in range(passes):
            start = reference.now()
            for _ in range(frames_per_pass):
                card.read_frames()
            seen = reference.now() - start
            result.passes.append(100.0 - 100.0 * abs(seen - expected) / expected)
    except BackendError as err:
        result.error = str(err)
    after = sum(card.span_status(s.number).counters.irqmisses for s in card.spans)
    result.irqmisses = after - before
    return result


def judge_timing(result: TimingResult) -> list[Finding]:
    if result.error:
        return [Finding("FAIL", "timing", "the card stopped delivering frames",
                        "no timing source (no span in sync, no timer) or the board lost "
                        f"its interrupt: {result.error}")]
    if not result.passes:
        return [Finding("FAIL", "timing", "no pass completed", "no frames were read")]
    text = (f"{result.average:.4f}% average, worst pass {result.worst:.4f}% over "
            f"{len(result.passes)} passes")
    findings = []
    if result.average >= TIMING_PASS_PERCENT:
        findings.append(Finding("PASS", "timing", text + f" (>= {TIMING_PASS_PERCENT}%)"))
    else:
        findings.append(Finding("FAIL", "timing", text + f" (< {TIMING_PASS_PERCENT}%)",
                                "the card's clock drifts from real time: no hardware timing "
                                "source (span down, card free-running on a poor oscillator),"
                                " IRQ misses, or a loaded host"))
    if result.average >= TIMING_PASS_PERCENT > result.worst:
        findings.append(Finding("WARN", "timing", f"one pass fell to {result.worst:.4f}%",
                                "jitter: IRQ latency (shared interrupt, power saving, "
                                "another driver holding the CPU)"))
    if result.irqmisses:
        findings.append(Finding("WARN", "timing", f"{result.irqmisses} IRQ misses during the "
                                "test", "shared interrupt or an overloaded host: check "
                                "/proc/interrupts"))
    return findings


# -- pattern (B-channel loopback) --------------------------------------------------------------
def pattern_codes(channels: list[int], frames: int, law: list[str], seed: int = 7
                  ) -> np.ndarray:
    """A pseudo-random G.711 pattern per channel (each channel's own, so swaps show)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(len(channels), frames * FRAME_SAMPLES), dtype=np.uint8)
    for row, lw in enumerate(law):
        if lw == "ulaw":
            codes[row][codes[row] == 0x7F] = 0x7E  # mu-law has two zeros: keep codes unique
    return codes


def compare_pattern(sent: np.ndarray, received: np.ndarray, max_delay: int) -> tuple[int, list]:
    """Find the loop delay (in samples) and count mismatching samples per channel."""
    n = sent.shape[1]
    best: tuple[int, np.ndarray] | None = None
    for delay in range(0, max_delay + 1):
        window = received[:, delay: delay + n - max_delay]
        ref = sent[:, : n - max_delay]
        errors = np.count_nonzero(window != ref, axis=1)
        if best is None or errors.sum() < best[1].sum():
            best = (delay, errors)
        if not errors.any():
            break
    assert best is not None
    return best[0], best[1].tolist()


# -- tones -------------------------------------------------------------------------------------
@dataclass
class ToneMeasurement:
    frequencies: list[float]
    runs_ms: list[tuple[bool, int]]
    level_dbm0: float


def measure_tone(samples: np.ndarray, threshold_dbm0: float = -40.0) -> ToneMeasurement:
    """Frequencies (FFT peaks over the tone-on frames) and on/off cadence (20 ms frames)."""
    x = np.asarray(samples, dtype=np.float64)
    frames = x[: len(x) // FRAME_SAMPLES * FRAME_SAMPLES].reshape(-1, FRAME_SAMPLES)
    power = power_dbm0(frames)
    on = power > threshold_dbm0
    runs: list[tuple[bool, int]] = []
    for flag in on:
        ms = int(TICK_SECONDS * 1000)
        if runs and runs[-1][0] == bool(flag):
            runs[-1] = (bool(flag), runs[-1][1] + ms)
        else:
            runs.append((bool(flag), ms))
    if not on.any():
        return ToneMeasurement([], runs, float("-inf"))
    tone = frames[on].reshape(-1)
    level = float(power_dbm0(tone))
    n = 1 << int(np.ceil(np.log2(max(len(tone), SAMPLE_RATE))))
    spectrum = np.abs(np.fft.rfft(tone * np.hanning(len(tone)), n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    peaks: list[float] = []
    mag = spectrum.copy()
    top = mag.max()
    for _ in range(3):
        i = int(np.argmax(mag))
        if mag[i] < 0.2 * top:
            break
        peaks.append(float(freqs[i]))
        width = max(int(30 * n / SAMPLE_RATE), 1)  # blank +-30 Hz around each peak
        mag[max(i - width, 0): i + width + 1] = 0
    return ToneMeasurement(sorted(peaks), runs, level)


def judge_tone(name: str, tone: Tone, m: ToneMeasurement, where: str) -> Finding:
    subject = f"{name} tone on {where}"
    expected = tone.frequencies
    if not m.frequencies:
        return Finding("FAIL", subject, "no tone received", "")
    heard = ", ".join(f"{f:.0f}" for f in m.frequencies)
    want = ", ".join(f"{f:.0f}" for f in expected)
    tol = [max(10.0, 0.02 * f) for f in expected]
    matched = all(any(abs(h - f) <= t for h in m.frequencies) for f, t in zip(expected, tol,
                                                                             strict=True))
    if not matched and not any(s.modulated for s in tone.cycle):
        return Finding("FAIL", subject, f"heard {heard} Hz, zone says {want} Hz",
                       "the line plays another country's tones: check the tone zone "
                       "(loadzone/defaultzone, --zone)")
    cadence = tone.cadence_ms
    if tone.continuous:
        inner = m.runs_ms[1:-1] if len(m.runs_ms) > 2 else m.runs_ms
        if any(not on for on, _ in inner):
            return Finding("FAIL", subject, f"{heard} Hz but interrupted, zone says steady",
                           "a cadenced tone where a steady one belongs: wrong zone, or the "
                           "line is busy/congested")
        return Finding("PASS", subject, f"{heard} Hz steady, {m.level_dbm0:.1f} dBm0")
    # The first run and the last two may be cut by the window (the tone can stop mid-run
    # before trailing silence), so compare only the runs between them.
    observed = m.runs_ms[1:-2] if len(m.runs_ms) > 4 else m.runs_ms[1:-1]
    if len(observed) < len(cadence):
        return Finding("WARN", subject, f"{heard} Hz, too few cadence steps to compare",
                       "measure longer (--seconds)")
    pattern = list(cadence)
    for start in range(len(pattern)):
        rotated = pattern[start:] + pattern[:start]
        if rotated[0][0] != observed[0][0]:
            continue
        ok = all(o[0] == r[0] and abs(o[1] - r[1]) <= max(60, 0.1 * r[1])
                 for o, r in zip(observed, (rotated * (len(observed) // len(rotated) + 1)),
                                 strict=False))
        if ok:
            steps = "/".join(str(ms) for _, ms in cadence)
            return Finding("PASS", subject, f"{heard} Hz, cadence {steps} ms, "
                           f"{m.level_dbm0:.1f} dBm0")
    seen = "/".join(f"{'on' if on else 'off'} {ms}" for on, ms in observed[:6])
    want_c = "/".join(f"{'on' if on else 'off'} {ms}" for on, ms in cadence)
    return Finding("FAIL", subject, f"cadence {seen} ms, zone says {want_c} ms",
                   "the line's tones follow another zone, or audio is lost (slips, "
                   "IRQ misses)")


def tone_samples(tone: Tone, seconds: float) -> np.ndarray:
    prefix, cycle = render_tone(tone)
    n = int(seconds * SAMPLE_RATE)
    reps = max(1, -(-max(n - len(prefix), 0) // max(len(cycle), 1)) + 1)
    out = np.concatenate([prefix, np.tile(cycle, reps)])[:n]
    pad = (-len(out)) % FRAME_SAMPLES
    return np.concatenate([out, np.zeros(pad, np.int16)])


# -- levels ------------------------------------------------------------------------------------
def judge_level(channel: int, kind: str, rx_dbm0: float, offhook: bool,
                state: ChannelState | None) -> Finding:
    subject = f"channel {channel} ({kind})"
    level = "silent" if not np.isfinite(rx_dbm0) or rx_dbm0 < -70 else f"{rx_dbm0:.1f} dBm0"
    if state is ChannelState.OUT_OF_SERVICE:
        return Finding("FAIL", subject, f"rx {level}, channel out of service",
                       "its span is in alarm or the port is blocked/faulted: see `trunkline "
                       "scan`")
    if kind == "fxo" and offhook:
        if rx_dbm0 < -40 or not np.isfinite(rx_dbm0):
            return Finding("FAIL", subject, f"off hook, rx {level}: no dial tone",
                           "no line on this port (cable, wrong port), or the exchange does "
                           "not give dial tone")
        if rx_dbm0 > -3:
            return Finding("WARN", subject, f"off hook, rx {level}: too hot",
                           "lower the receive gain (rxgain) to avoid clipping")
        return Finding("PASS", subject, f"off hook, rx {level}")
    if np.isfinite(rx_dbm0) and rx_dbm0 > -3:
        return Finding("WARN", subject, f"rx {level}: too hot", "lower the receive gain")
    return Finding("PASS", subject, f"rx {level}")


def to_linear(codes: np.ndarray, laws: list[str]) -> np.ndarray:
    return g711.decode_mixed(codes, np.array([lw == "ulaw" for lw in laws], bool))


def describe_card(card: CardABC) -> dict[str, Any]:
    """Board facts for `trunkline scan`: the backend's own (DAHDI: SPANSTAT) or the card."""
    return {"name": card.name, "backend": card.backend, "spans": card.hardware()}
