"""What the far end of a call does over time, whatever line carries the call.

A :class:`FarEndPlan` is built once when the exchange routes a dialed number: the
in-band audio before answer (ringback, music, SIT and announcements, busy tone), when
(and whether) the far end answers, the audio after answer (speech, a machine's greeting
and beep, fax or modem signals), when it clears, and with which Q.850 cause. An FXO
central office turns the plan into loop signalling (polarity reversal, loop-current
drop); a PRI exchange into Q.931 messages. The plan itself knows neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trunkline.drivers.backends.emulated.plan import Behaviour, Subscriber
from trunkline.drivers.backends.emulated.sounds import NetworkSounds
from trunkline.drivers.dsp.player import Clip

# Q.850 causes the network clears with (ITU-T Q.850, Table 1).
CAUSE_UNALLOCATED = 1
CAUSE_NORMAL_CLEARING = 16
CAUSE_USER_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_SUBSCRIBER_ABSENT = 20
CAUSE_DESTINATION_OUT_OF_ORDER = 27
CAUSE_NO_CIRCUIT = 34

#: How long an exchange lets a called line ring before clearing (cause 19).
RING_TIMEOUT = 90.0


@dataclass(frozen=True, slots=True)
class Step:
    """One piece of audio: a clip (None: silence), once or looped, for ``seconds``.

    ``seconds`` None means: the clip's own length, or for ever when looped.
    """

    clip: Clip | None
    seconds: float | None = None
    loop: bool = False
    label: str = ""


@dataclass(frozen=True)
class FarEndPlan:
    behaviour: Behaviour
    subscriber: Subscriber
    early: tuple[Step, ...]
    """Audio from routing until answer, or until and after the network clears."""
    answer_after: float | None
    """Seconds from routing to answer; None: the far end never answers."""
    connected: tuple[Step, ...]
    """Audio from answer on."""
    hangup_after: float | None
    """Seconds after answer when the far end clears; None: it waits for us."""
    release_after: float | None
    """Seconds from routing when the network clears an unanswered call (with ``cause``)."""
    cause: int
    early_media: bool
    """True when the early audio is information (PRI: PROGRESS with in-band info)."""
    alerting: bool
    """True when the called line rings (PRI: ALERTING)."""
    live: str | None = None
    """After answer, a live far end of this kind (``"fax"``) answers frame by frame, if
    one is registered (:data:`LIVE_FAR_ENDS`); ``connected`` is the fallback audio."""


#: Live far ends by kind: a factory taking the plan and returning a LiveSource.
#: Modules that provide one register it here (e.g. the spandsp fax terminal).
LIVE_FAR_ENDS: dict[str, Callable[[FarEndPlan], object]] = {}


def live_far_end(plan: FarEndPlan) -> object | None:
    """The live source for ``plan`` (built now), or None to play ``plan.connected``."""
    if plan.live is None:
        return None
    if plan.live not in LIVE_FAR_ENDS:
        import importlib

        try:  # the fax terminal registers itself when its module is importable
            importlib.import_module("trunkline.drivers.backends.emulated.fax_far_end")
        except ImportError:
            return None
    factory = LIVE_FAR_ENDS.get(plan.live)
    return factory(plan) if factory is not None else None


def _tone_steps(sounds: NetworkSounds, name: str, label: str) -> list[Step]:
    prefix, cycle = sounds.tone(name)
    steps = [Step(prefix, label=label)] if prefix is not None else []
    return [*steps, Step(cycle, loop=True, label=label)]


def _ringback(sounds: NetworkSounds, sub: Subscriber) -> list[Step]:
    if sub.ringback == "music":
        return [Step(sounds.music, loop=True, label="music")]
    if sub.ringback != "tone":  # an audio file (plan.py checked it): real music ring-back
        return [Step(sounds.recording(sub.ringback, sub.ringback_start), loop=True,
                     label="music")]
    return _tone_steps(sounds, "ringback", "ringback")


def _conversation(sounds: NetworkSounds, sub: Subscriber, rng: np.random.Generator,
                  talk: float) -> list[Step]:
    """A person answering: a greeting, a pause, then turns of talk and listening."""
    greetings = sounds.clips(sub.language, "greeting")
    talks = sounds.clips(sub.language, "talk")
    steps = [Step(greetings[rng.integers(len(greetings))].clip, label="greeting")]
    elapsed = steps[0].clip.length / 8000
    while elapsed < talk:
        pause = float(rng.uniform(1.0, 4.0))  # listening to the caller
        clip = talks[rng.integers(len(talks))].clip
        steps += [Step(None, pause, label="listening"), Step(clip, label="talk")]
        elapsed += pause + clip.length / 8000
    return steps


def _machine(sounds: NetworkSounds, sub: Subscriber, rng: np.random.Generator,
             greeting: float, record: float) -> list[Step]:
    """A machine: its greeting (cut to length), a short pause, the beep, then silence."""
    clips = sounds.clips(sub.language, "machine")
    first = clips[rng.integers(len(clips))].clip
    steps: list[Step] = []
    left = int(greeting * 8000)
    clip = first
    while left > 0:
        part = clip.head(left)
        steps.append(Step(part, label="greeting"))
        left -= part.length
        if left > 8000 * 0.4:
            steps.append(Step(None, 0.4, label="greeting"))
            left -= int(0.4 * 8000)
        clip = clips[rng.integers(len(clips))].clip
    beep = sounds.beeps[sub.beep]
    return [*steps, Step(None, 0.3, label="pause"), Step(beep, label="beep"),
            Step(None, record, label="recording")]


def _announcement(sounds: NetworkSounds, sub: Subscriber, kind: str,
                  rng: np.random.Generator, with_sit: bool) -> list[Step]:
    """An operator announcement played twice, as carriers do, preceded by SIT."""
    clips = sounds.clips(sub.language, f"announcement:{kind}")
    clip = clips[rng.integers(len(clips))].clip
    sit = sounds.sit_itu if sounds.zone.zone not in ("us", "us-old") else sounds.sit_nanp["IC"]
    once = ([Step(sit, label="sit"), Step(None, 0.2, label="sit")] if with_sit else [])
    once += [Step(clip, label="announcement"), Step(None, 1.0, label="announcement")]
    return once + once


def _seconds(steps: list[Step]) -> float:
    return sum(s.seconds if s.seconds is not None else (s.clip.length / 8000 if s.clip else 0)
               for s in steps)


def build_plan(sub: Subscriber, sounds: NetworkSounds, rng: np.random.Generator) -> FarEndPlan:
    """The far end's plan for one call to ``sub``, drawn from its ranges with ``rng``."""
    b = sub.behaviour
    if b is Behaviour.HUMAN:
        talk = sub.talk.sample(rng)
        return FarEndPlan(b, sub, tuple(_ringback(sounds, sub)), sub.answer_after.sample(rng),
                          tuple(_conversation(sounds, sub, rng, talk)), talk, None,
                          CAUSE_NORMAL_CLEARING, False, True)
    if b is Behaviour.MACHINE:
        greeting, record = sub.greeting.sample(rng), sub.record.sample(rng)
        steps = _machine(sounds, sub, rng, greeting, record)
        return FarEndPlan(b, sub, tuple(_ringback(sounds, sub)), sub.answer_after.sample(rng),
                          tuple(steps), _seconds(steps), None, CAUSE_NORMAL_CLEARING, False, True)
    if b is Behaviour.FAX:
        steps = [Step(None, 0.2, label="fax"), Step(sounds.fax_ced, label="ced"),
                 Step(sounds.fax_v21, loop=True, label="v21")]
        return FarEndPlan(b, sub, tuple(_ringback(sounds, sub)), sub.answer_after.sample(rng),
                          tuple(steps), sub.hangup_after.sample(rng), None,
                          CAUSE_NORMAL_CLEARING, False, True, live="fax")
    if b is Behaviour.MODEM:
        steps = [Step(None, 0.2, label="modem"),
                 Step(sounds.answer_tones[sub.answer_tone], loop=True, label=sub.answer_tone)]
        return FarEndPlan(b, sub, tuple(_ringback(sounds, sub)), sub.answer_after.sample(rng),
                          tuple(steps), sub.hangup_after.sample(rng), None,
                          CAUSE_NORMAL_CLEARING, False, True)
    if b is Behaviour.BUSY:
        return FarEndPlan(b, sub, tuple(_tone_steps(sounds, "busy", "busy")), None, (), None,
                          0.0, CAUSE_USER_BUSY, True, False)
    if b is Behaviour.CONGESTION:
        return FarEndPlan(b, sub, tuple(_tone_steps(sounds, "congestion", "congestion")), None,
                          (), None, 0.0, CAUSE_NO_CIRCUIT, True, False)
    if b is Behaviour.NO_ANSWER:
        return FarEndPlan(b, sub, tuple(_ringback(sounds, sub)), None, (), None, RING_TIMEOUT,
                          CAUSE_NO_ANSWER, False, True)
    kind, cause, sit = {
        Behaviour.INVALID_NUMBER: ("invalid_number", CAUSE_UNALLOCATED, sub.sit),
        Behaviour.POWERED_OFF: ("powered_off", CAUSE_SUBSCRIBER_ABSENT, False),
        Behaviour.UNREACHABLE: ("unreachable", CAUSE_DESTINATION_OUT_OF_ORDER, False),
    }[b]
    steps = _announcement(sounds, sub, kind, rng, sit)
    tail = _tone_steps(sounds, "congestion", "congestion")
    return FarEndPlan(b, sub, tuple(steps + tail), None, (), None, _seconds(steps), cause,
                      True, False)
