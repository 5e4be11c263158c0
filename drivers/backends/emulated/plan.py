"""The number plan of the simulated network: which number behaves how.

A plan is a TOML file (schema in docs/emulated-network.md)::

    zone = "cn"
    [[subscriber]]
    number = "138*"            # an exact number, or a prefix ending in *
    behaviour = "human"
    answer_after = [3.0, 12.0] # seconds: a value, or a [low, high] uniform range
    talk = [20, 120]           # seconds, same form
    ringback = "tone"          # or "music", or an audio file: that number's own ring-back
    ringback_start = 0.0       # seconds into that file where it starts (a song's middle)
    greeting = 4.0             # machine: greeting seconds, same form

The longest matching prefix wins (an exact number beats any prefix); a number matching
nothing gets ``invalid_number``. Unknown keys and invalid values raise
:class:`~trunkline.errors.NumberPlanError` naming the key and its line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.dsp.zones import zone_names
from trunkline.errors import AudioFileError, NumberPlanError
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys


class Behaviour(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    FAX = "fax"
    MODEM = "modem"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    INVALID_NUMBER = "invalid_number"
    POWERED_OFF = "powered_off"
    UNREACHABLE = "unreachable"

    @property
    def answers(self) -> bool:
        return self in (Behaviour.HUMAN, Behaviour.MACHINE, Behaviour.FAX, Behaviour.MODEM)


ANSWER_TONES = ("ans", "ans_pr", "ansam", "ansam_pr")


@dataclass(frozen=True, slots=True)
class Range:
    """A duration in seconds: fixed (low == high) or uniform in [low, high]."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.low if self.low == self.high else float(rng.uniform(self.low, self.high))

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


# Keys each behaviour accepts beyond number/behaviour/name/language, with defaults.
_COMMON = {"number", "behaviour", "name", "language"}
_ANSWERING = {"answer_after", "ringback", "ringback_start"}
_KEYS: dict[Behaviour, set[str]] = {
    Behaviour.HUMAN: _ANSWERING | {"talk"},
    Behaviour.MACHINE: _ANSWERING | {"greeting", "beep", "record"},
    Behaviour.FAX: _ANSWERING | {"hangup_after"},
    Behaviour.MODEM: _ANSWERING | {"answer_tone", "hangup_after"},
    Behaviour.BUSY: set(),
    Behaviour.NO_ANSWER: {"ringback", "ringback_start"},
    Behaviour.CONGESTION: set(),
    Behaviour.INVALID_NUMBER: {"sit"},
    Behaviour.POWERED_OFF: set(),
    Behaviour.UNREACHABLE: set(),
}
_DEFAULTS: dict[str, Any] = {
    "answer_after": Range(2.0, 8.0),
    "talk": Range(20.0, 120.0),
    "greeting": Range(3.0, 8.0),
    "record": Range(30.0, 30.0),
    "hangup_after": Range(35.0, 35.0),
    "ringback": "tone",
    "answer_tone": "ansam",
    "beep": 1000.0,
    "sit": True,
}
_NUMBER = re.compile(r"^\+?[0-9*#]*[0-9#]\*?$|^\*$")
_TOP_KEYS = {"zone", "spec", "interdigit_timeout", "max_digits", "seed", "language"}


@dataclass(frozen=True)
class Subscriber:
    """What a number (or every number under a prefix) does when called."""

    pattern: str
    behaviour: Behaviour
    answer_after: Range = _DEFAULTS["answer_after"]
    talk: Range = _DEFAULTS["talk"]
    greeting: Range = _DEFAULTS["greeting"]
    record: Range = _DEFAULTS["record"]
    hangup_after: Range = _DEFAULTS["hangup_after"]
    ringback: str = "tone"
    ringback_start: float = 0.0   # seconds into a ringback file where the song starts
    answer_tone: str = "ansam"
    beep: float = 1000.0
    sit: bool = True
    language: str = "zh"
    name: str = ""
    line: int | None = None

    @property
    def is_prefix(self) -> bool:
        return self.pattern.endswith("*")

    @property
    def digits(self) -> str:
        return self.pattern.rstrip("*") if self.is_prefix else self.pattern


@dataclass(frozen=True)
class NumberPlan:
    """A parsed number plan."""

    zone: str
    subscribers: tuple[Subscriber, ...]
    language: str = "zh"
    interdigit_timeout: float = 3.0
    max_digits: int = 15
    seed: int = 0
    source: str = "<string>"
    _exact: dict[str, Subscriber] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for sub in self.subscribers:
            if not sub.is_prefix:
                self._exact.setdefault(sub.pattern, sub)

    def lookup(self, number: str) -> Subscriber:
        """The subscriber ``number`` reaches: exact match, else the longest prefix."""
        if number in self._exact:
            return self._exact[number]
        best: Subscriber | None = None
        for sub in self.subscribers:
            if sub.is_prefix and number.startswith(sub.digits) and (
                best is None or len(sub.digits) > len(best.digits)
            ):
                best = sub
        if best is not None:
            return best
        return Subscriber(pattern=number, behaviour=Behaviour.INVALID_NUMBER,
                          language=self.language, name="unallocated")

    def is_complete(self, digits: str) -> bool:
        """True once ``digits`` can only be one subscriber's exact number.

        The exchange stops collecting digits then (or on '#', the digit limit, or the
        inter-digit timeout), as an exchange with a closed numbering plan does.
        """
        if len(digits) >= self.max_digits:
            return True
        if digits not in self._exact:
            return False
        return not any(
            (p.startswith(digits) and p != digits) for p in self._exact
        ) and not any(s.is_prefix and s.digits.startswith(digits) and len(s.digits) > len(digits)
                      for s in self.subscribers)


def _range(doc: TomlDocument, value: Any, path: tuple[str | int, ...]) -> Range:
    key = path[-1]
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        raise doc.error(
            f"{key} must be seconds: a number or a [low, high] pair, not {value!r}", path
        )
    if isinstance(value, list):
        if len(value) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise doc.error(f"{key} must be a [low, high] pair of numbers, not {value!r}", path)
        low, high = float(value[0]), float(value[1])
    else:
        low = high = float(value)
    if low < 0 or high < low:
        raise doc.error(f"{key} must satisfy 0 <= low <= high, got {value!r}", path)
    return Range(low, high)


def _stamp(file: Path) -> tuple[int, int]:
    try:
        st = file.stat()
    except OSError:
        return 0, 0  # read_audio names what is wrong
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=32)
def _audio_seconds(path: str, _mtime: int, _size: int) -> float:
    """A ringback file's length, read once per version of the file: a plan is parsed by
    several parts of the emulated card, and a song is megabytes."""
    return read_audio(path).size / 8000


def _ringback(doc: TomlDocument, value: Any, path: tuple[str | int, ...]) -> tuple[str, float]:
    """``tone``, ``music`` (the network's synthesized tune) or an audio file, relative to
    the plan's folder, played looped as the number's music ring-back: real 彩铃 songs have
    quiet intros, rests and vocals that a synthesized tune has not. The file is read here,
    so a bad one is named with its line before any call. Returns it and its seconds."""
    if value in ("tone", "music"):
        return str(value), 0.0
    if not isinstance(value, str) or not value:
        raise doc.error(f"ringback must be 'tone', 'music' or an audio file, not {value!r}",
                        path)
    file = Path(value)
    if not file.is_absolute() and not doc.source.startswith("<"):
        file = Path(doc.source).parent / file
    try:
        seconds = _audio_seconds(str(file), *_stamp(file))
    except AudioFileError as err:
        raise doc.error(f"ringback must be 'tone', 'music' or an audio file: {err}",
                        path) from None
    return str(file), seconds


def _subscriber(doc: TomlDocument, raw: Any, i: int, language: str) -> Subscriber:
    path: tuple[str | int, ...] = ("subscriber", i)
    if not isinstance(raw, dict):
        raise doc.error("each [[subscriber]] must be a table", path)
    for required in ("number", "behaviour"):
        if required not in raw:
            raise doc.error(f"subscriber is missing the {required!r} key", path)
    number = raw["number"]
    if not isinstance(number, str) or not _NUMBER.match(number):
        raise doc.error(
            f"number must be a string of digits, optionally ending in '*' for a prefix, "
            f"not {number!r}", (*path, "number"),
        )
    try:
        behaviour = Behaviour(raw["behaviour"])
    except ValueError:
        raise doc.error(
            f"unknown behaviour {raw['behaviour']!r}; expected one of: "
            f"{', '.join(b.value for b in Behaviour)}", (*path, "behaviour"),
        ) from None
    reject_unknown_keys(doc, raw, _COMMON | _KEYS[behaviour], path)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        kpath = (*path, key)
        if key in ("answer_after", "talk", "greeting", "record", "hangup_after"):
            values[key] = _range(doc, value, kpath)
        elif key == "ringback":
            values[key], song = _ringback(doc, value, kpath)
            start = raw.get("ringback_start", 0.0)
            if "ringback_start" in raw and (isinstance(start, bool) or not isinstance(
                    start, int | float) or not 0 <= start < song):
                limit = f"0 up to the file's {song:g} s" if song else "given with an audio file"
                raise doc.error(f"ringback_start must be seconds, {limit}, not {start!r}",
                                (*path, "ringback_start"))
        elif key == "ringback_start":
            if "ringback" not in raw:
                raise doc.error("ringback_start needs ringback = an audio file", kpath)
            values[key] = float(value)
        elif key == "answer_tone":
            if value not in ANSWER_TONES:
                raise doc.error(
                    f"answer_tone must be one of {', '.join(ANSWER_TONES)}, not {value!r}", kpath
                )
            values[key] = value
        elif key == "beep":
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                300 <= value <= 3400
            ):
                raise doc.error(f"beep must be a frequency in 300..3400 Hz, not {value!r}", kpath)
            values[key] = float(value)
        elif key == "sit":
            if not isinstance(value, bool):
                raise doc.error(f"sit must be true or false, not {value!r}", kpath)
            values[key] = value
        elif key == "language":
            if value not in ("zh", "en"):
                raise doc.error(f"language must be 'zh' or 'en', not {value!r}", kpath)
            values[key] = value
        elif key == "name":
            if not isinstance(value, str):
                raise doc.error(f"name must be a string, not {value!r}", kpath)
            values[key] = value
    values.setdefault("language", language)
    return Subscriber(pattern=number, behaviour=behaviour, line=doc.index.line_of(path),
                      **values)


def parse_plan(doc: TomlDocument) -> NumberPlan:
    doc = replace(doc, error_type=NumberPlanError)  # for documents parsed elsewhere
    data = doc.data
    reject_unknown_keys(doc, data, _TOP_KEYS | {"subscriber"})
    zone = data.get("zone", "cn")
    if zone not in zone_names():
        raise doc.error(f"unknown zone {zone!r}; known zones: {', '.join(zone_names())}",
                        ("zone",))
    language = data.get("language", "zh" if zone in ("cn", "tw", "mo") else "en")
    if language not in ("zh", "en"):
        raise doc.error(f"language must be 'zh' or 'en', not {language!r}", ("language",))
    interdigit = data.get("interdigit_timeout", 3.0)
    if isinstance(interdigit, bool) or not isinstance(interdigit, int | float) or not (
        0.5 <= interdigit <= 30
    ):
        raise doc.error(f"interdigit_timeout must be 0.5..30 seconds, not {interdigit!r}",
                        ("interdigit_timeout",))
    max_digits = data.get("max_digits", 15)
    if isinstance(max_digits, bool) or not isinstance(max_digits, int) or not (
        1 <= max_digits <= 32
    ):
        raise doc.error(f"max_digits must be a whole number 1..32, not {max_digits!r}",
                        ("max_digits",))
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise doc.error(f"seed must be a whole number >= 0, not {seed!r}", ("seed",))
    raw_subs = data.get("subscriber", [])
    if not isinstance(raw_subs, list):
        raise doc.error("subscriber must be an array of tables: [[subscriber]]", ("subscriber",))
    subs = tuple(_subscriber(doc, raw, i, language) for i, raw in enumerate(raw_subs))
    seen: dict[str, int] = {}
    for i, sub in enumerate(subs):
        if sub.pattern in seen:
            raise doc.error(
                f"number {sub.pattern!r} is already defined by subscriber[{seen[sub.pattern]}]",
                ("subscriber", i, "number"),
            )
        seen[sub.pattern] = i
    return NumberPlan(zone=zone, subscribers=subs, language=language,
                      interdigit_timeout=float(interdigit), max_digits=max_digits, seed=seed,
                      source=doc.source)


def load_plan(path: str | Path) -> NumberPlan:
    """Read a number plan file; errors name the file, key and line."""
    return parse_plan(load_toml(path, NumberPlanError))


def plan_from_string(text: str, source: str = "<string>") -> NumberPlan:
    return parse_plan(parse_toml(text, source, NumberPlanError))


def default_plan() -> NumberPlan:
    """The sample network shipped with trunkline (firmware-profiles/networks/sample.toml)."""
    from importlib import resources

    ref = resources.files("trunkline.profiles") / "networks" / "sample.toml"
    return plan_from_string(ref.read_text(encoding="utf-8"), "networks/sample.toml")
