"""MFC/R2 variants as data: one frozen, validated :class:`R2Variant` per country.

One engine (:mod:`.line`, :mod:`.register`) runs every variant; what differs between
countries is only here: the line code on the ABCD bits, what each backward signal of
groups A, B (and C) means, the forward signals that end a number, the calling-party
categories, when the incoming register asks for the calling number, and the timers.
Nothing in the engine asks which country it runs.

Where the facts come from (each row names its source beside it):

* **ITU-T Q.421** (digital line signalling code), **Q.422** (clauses for exchange line
  signalling equipment), **Q.441** (the MF signalling code and the meanings of the
  signals of groups I, II, A and B), **Q.442** (pulsed backward signals), **Q.476**
  (abnormal release of R2 registers), as in the CCITT Blue Book, fascicle VI.4.
* **China No.1 signalling** (中国一号信令, the national No.1 signalling specification of
  the former Ministry of Posts and Telecommunications, 《中国国内电话网No.1信号方式技术规范》):
  the forward groups I (KA 主叫用户类别, the digits) and II (KD 发端呼叫业务类别), the
  backward group A and group B (KB 被叫用户状态).
* **openr2** (github:moises-silva/openr2 @a0bf085, LGPL-2.1), ``src/r2proto.c``:
  ``openr2_proto_configure_context`` (the ITU defaults it starts every variant from,
  its timer values) and ``r2config_<country>`` (the national changes), and
  ``src/r2engine.c`` (MF send level). Read for the facts; none of its code is used.

A fact cited to openr2 alone is what openr2 does in the field; a fact cited to the
national specification alone is one openr2 lacks. Those were written from the national
tables as they are commonly quoted, not checked against the specification's own text:
China's A2 (由第一位发起, where openr2 keeps ITU's n-1), KB=6, KA=2..5 and KD=4..5 most
need that check before they are relied on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALL_LINE_SIGNALS", "VARIANTS", "Backward", "Group", "LineCode", "Meaning", "R2Variant",
    "Timers", "variant",
]


class Group(StrEnum):
    """The signal groups of Q.441 (forward I and II, backward A and B) and Mexico's C."""

    I = "I"  # noqa: E741 - Q.441's name for the group
    II = "II"
    A = "A"
    B = "B"
    C = "C"


class Meaning(StrEnum):
    """What a register signal means, whatever its number in a given variant."""

    # -- backward requests (groups A and C) ---------------------------------------------
    NEXT_ADDRESS = "send the next digit of the called number"
    NEXT_DIGIT = "send the next digit of the number being sent"
    PREVIOUS_1 = "send the last but one digit of the called number (n-1)"
    PREVIOUS_2 = "send the last but two digit of the called number (n-2)"
    PREVIOUS_3 = "send the last but three digit of the called number (n-3)"
    RESTART_ADDRESS = "send the called number again from its first digit"
    CALLING_PARTY = "send the calling party's category, then the calling number"
    ADDRESS_COMPLETE_B = "address complete, changeover to group B"
    # -- backward results (groups A, B and C) -------------------------------------------
    ACCEPT = "address complete, charge, set up speech conditions"
    FREE_CHARGE = "subscriber's line free, charge"
    FREE_NO_CHARGE = "subscriber's line free, no charge"
    BUSY = "subscriber's line busy"
    CONGESTION = "congestion"
    CONGESTION_INTERNATIONAL = "congestion in an international exchange"
    UNALLOCATED = "unallocated number"
    OUT_OF_ORDER = "subscriber's line out of order"
    NUMBER_CHANGED = "number changed"
    SPECIAL_INFO = "send special information tone"
    # -- forward signals ----------------------------------------------------------------
    DIGIT = "digit"
    END_OF_ADDRESS = "end of the called number"
    END_OF_CALLING = "end of the calling number"
    CALLING_RESTRICTED = "calling number not available"
    CATEGORY = "calling party's category"


#: Backward meanings that ask the outgoing register for something (the cycle goes on).
REQUESTS: Final = frozenset({
    Meaning.NEXT_ADDRESS, Meaning.NEXT_DIGIT, Meaning.PREVIOUS_1, Meaning.PREVIOUS_2,
    Meaning.PREVIOUS_3, Meaning.RESTART_ADDRESS, Meaning.CALLING_PARTY,
    Meaning.ADDRESS_COMPLETE_B})
#: Backward meanings that end the register signalling with the call accepted.
ACCEPTED: Final = frozenset({Meaning.ACCEPT, Meaning.FREE_CHARGE, Meaning.FREE_NO_CHARGE})
#: Backward meanings that end it with the call refused.
REFUSED: Final = frozenset({
    Meaning.BUSY, Meaning.CONGESTION, Meaning.CONGESTION_INTERNATIONAL, Meaning.UNALLOCATED,
    Meaning.OUT_OF_ORDER, Meaning.NUMBER_CHANGED, Meaning.SPECIAL_INFO})
#: What a group B signal may mean (Q.441: group B signals give the called line's state).
GROUP_B_MEANINGS: Final = ACCEPTED - {Meaning.ACCEPT} | REFUSED
#: When the incoming register asks for the calling number.
REQUEST_CALLING: Final = ("after_first_digit", "after_address", "never")


@dataclass(frozen=True, slots=True)
class Backward:
    """One backward signal of a variant: its meaning, its name in the source, the
    source, and the group that reads the next backward signal (None: the same)."""

    meaning: Meaning
    name: str
    source: str
    next_group: Group | None = None


#: Line signals of Q.421 by name (``ab`` code, ``c``/``d`` come from :attr:`LineCode.cd`).
ALL_LINE_SIGNALS: Final = (
    "idle", "seizing", "clear_forward", "seizure_acknowledged", "answered", "clear_back",
    "release_guard", "blocked", "forced_release")


@dataclass(frozen=True, slots=True)
class LineCode:
    """The line signals of Q.421 digital line signalling as ``ab`` codes (a the more
    significant bit): forward signals in a\\ :sub:`f` b\\ :sub:`f`, backward ones in
    a\\ :sub:`b` b\\ :sub:`b`. ``cd`` are the spare bits c and d, sent unchanged.
    ``forced_release`` is None where a variant never sends it."""

    # Q.421 Table 1 (the code of digital line signalling); openr2 r2proto.c
    # standard_cas_signals holds the same values.
    idle: int = 0b10                   # Q.421: idle/released, both directions
    seizing: int = 0b00                # Q.421: seized, af=0 bf=0
    clear_forward: int = 0b10          # Q.421: clear-forward, af=1 bf=0
    seizure_acknowledged: int = 0b11   # Q.421: seizure acknowledged, ab=1 bb=1
    answered: int = 0b01               # Q.421: answered, ab=0 bb=1
    clear_back: int = 0b11             # Q.421: clear-back, ab=1 bb=1
    release_guard: int = 0b10          # Q.421: release guard, ab=1 bb=0
    blocked: int = 0b11                # Q.421: blocked, ab=1 bb=1 (forward idle)
    # openr2 r2proto.c OR2_CAS_FORCED_RELEASE 0x0, check_backward_disconnection ("used in
    # Brazil", accepted from every variant).
    forced_release: int | None = 0b00
    #: Q.421: c=0, d=1 when unused (openr2 cas_nonr2_bits 0x1); China: c=d=1.
    cd: int = 0b01

    def __post_init__(self) -> None:
        for name in ALL_LINE_SIGNALS:
            code = getattr(self, name)
            if code is None and name == "forced_release":
                continue
            if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 3:
                raise ValueError(f"line signal {name}={code!r}: an ab code is 0..3")
        if isinstance(self.cd, bool) or not 0 <= self.cd <= 3:
            raise ValueError(f"cd={self.cd!r}: the c and d bits are 0..3")

    def code(self, signal: str) -> int | None:
        """The ``ab`` code of line signal ``signal`` (None: the variant has none)."""
        if signal not in ALL_LINE_SIGNALS:
            raise ValueError(f"no line signal {signal!r}; known: {', '.join(ALL_LINE_SIGNALS)}")
        value: int | None = getattr(self, signal)
        return value

    def bits(self, signal: str) -> int:
        """The ABCD bits (0..15, A the most significant) that send ``signal``."""
        ab = self.code(signal)
        if ab is None:
            raise ValueError(f"this line code has no {signal!r} signal")
        return ab << 2 | self.cd


@dataclass(frozen=True, slots=True)
class Timers:
    """Every timer of the line and register signalling, in seconds."""

    #: Seizing sent, no seizure-acknowledged: give up (clear forward). Q.422 3.2.3.2 asks
    #: to hold seizing until acknowledged; openr2 r2_seize 2000 ms times out.
    seize_ack: float = 2.0
    #: Double seizure: seizing is held this long before clearing (Q.422 3.2.7.1: at
    #: least 100 ms, as openr2 reads it; openr2 r2_seize_persist 150 ms).
    double_seizure: float = 0.15
    #: Clear-forward sent (or clear-back sent), the far end's release guard (or
    #: clear-forward) awaited this long before the call is let go of (openr2
    #: r2_set_call_down 3000 ms).
    release_guard: float = 3.0
    #: A clear-back shorter than this is a metering pulse (0: no metering); openr2
    #: r2_metering_pulse (0 by default, 400 ms in Argentina).
    metering_pulse: float = 0.0
    #: Call accepted (group B free), no answer signal: release (openr2 r2_answer 60000).
    answer: float = 60.0
    #: The incoming register's MF has ended: wait this long before the answer signal, so
    #: the far end sees its tone off first (openr2 r2_answer_delay 150 ms).
    answer_delay: float = 0.15
    #: Incoming register: from a backward signal's start to the next forward signal's
    #: start (openr2 mf_back_cycle 2000 ms). Expired while digits were asked for: the
    #: number is complete (variants with no end-of-number signal), else Q.476 release.
    mf_back_cycle: float = 2.0
    #: A backward signal sent as a pulse, with no forward signal to compel it
    #: (Q.442: 150 +- 50 ms; openr2 mf_back_resume_cycle 150 ms).
    mf_back_pulse: float = 0.15
    #: Outgoing register: the longest wait for the far end's next step of the compelled
    #: cycle, and the incoming register's wait for the first forward signal (Q.476
    #: abnormal release; openr2 mf_fwd_safety 30000 ms).
    mf_forward_safety: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 \
                    or (value == 0 and f.name != "metering_pulse"):
                raise ValueError(f"timer {f.name}={value!r} must be a number > 0 s"
                                 + (" (or 0: off)" if f.name == "metering_pulse" else ""))


def _table(rows: Mapping[int, Backward]) -> Mapping[int, Backward]:
    return MappingProxyType(dict(rows))


@dataclass(frozen=True, slots=True, eq=False)
class R2Variant:
    """One country's MFC/R2 (see the module docstring). Validated when built: a bad
    table raises ValueError naming the field."""

    name: str
    country: str
    line: LineCode
    group_a: Mapping[int, Backward]
    group_b: Mapping[int, Backward]
    #: Forward group II: the calling party's category sent after A-3 (China: KD).
    categories: Mapping[int, str]
    #: Sent in answer to the calling-party request (China: KA, a group I signal).
    calling_categories: Mapping[int, str]
    calling_category_group: Group
    category: int
    calling_category: int
    #: Forward group I signals that end a number or stand for a withheld one (None: the
    #: variant has none: the outgoing register falls silent and the incoming one times
    #: out, Q.442).
    end_of_address: int | None
    end_of_calling: int | None
    calling_restricted: int | None
    #: When the incoming register asks for the calling number (REQUEST_CALLING).
    request_calling: str
    #: The most calling-number digits taken or sent.
    max_calling: int
    #: Send level of each MF frequency, dBm0.
    mf_level: float
    timers: Timers = field(default_factory=Timers)
    group_c: Mapping[int, Backward] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"R2 variant {self.name!r}"
        if not self.name or not self.name.isidentifier():
            raise ValueError(f"{where}: name must be a short identifier")
        for group, table in self.backward_groups().items():
            for signal, row in table.items():
                if isinstance(signal, bool) or not isinstance(signal, int) \
                        or not 1 <= signal <= 15:
                    raise ValueError(f"{where}: group {group} signal {signal!r} is not 1..15")
                if group is Group.B and row.meaning not in GROUP_B_MEANINGS:
                    raise ValueError(f"{where}: B-{signal} means {row.meaning.name}, which "
                                     f"is not a group B meaning")
                if group is not Group.B and row.meaning not in REQUESTS | ACCEPTED | REFUSED:
                    raise ValueError(f"{where}: {group}-{signal} means {row.meaning.name}, "
                                     f"which is not a backward meaning")
                if row.next_group is not None and (
                        row.next_group not in self.backward_groups()
                        or not self.backward_groups()[row.next_group]):
                    raise ValueError(f"{where}: {group}-{signal} changes to group "
                                     f"{row.next_group}, which the variant does not have")
                if not row.source:
                    raise ValueError(f"{where}: {group}-{signal} cites no source")
        self._check_needs(where)
        for name in ("end_of_address", "end_of_calling", "calling_restricted"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not 11 <= value <= 15):
                raise ValueError(f"{where}: {name}={value!r}: a group I signal 11..15 "
                                 f"(1..10 are digits) or None")
        for name, names, default in (
                ("categories", self.categories, self.category),
                ("calling_categories", self.calling_categories, self.calling_category)):
            if not names or any(not 1 <= k <= 15 for k in names):
                raise ValueError(f"{where}: {name} must map signals 1..15 to names")
            if default not in names:
                raise ValueError(f"{where}: default {default!r} is not one of its {name}")
        if self.calling_category_group not in (Group.I, Group.II):
            raise ValueError(f"{where}: calling_category_group must be group I or II")
        if self.request_calling not in REQUEST_CALLING:
            raise ValueError(f"{where}: request_calling={self.request_calling!r} is not one "
                             f"of {REQUEST_CALLING}")
        if not 0 <= self.max_calling <= 32:
            raise ValueError(f"{where}: max_calling={self.max_calling!r} is not 0..32")
        if not -30.0 <= self.mf_level <= -3.0:
            raise ValueError(f"{where}: mf_level={self.mf_level!r} dBm0 is not -30..-3")

    def _check_needs(self, where: str) -> None:
        """Both registers must find, by meaning, every signal they need to send."""
        for group in self.request_groups():
            for needs, what in (
                    ((Meaning.NEXT_ADDRESS, Meaning.NEXT_DIGIT), "ask for a called digit"),
                    ((Meaning.ADDRESS_COMPLETE_B,), "change over to group B"),
                    ((Meaning.CONGESTION,), "refuse a call (congestion)")):
                if self.request(group, *needs) is None:
                    raise ValueError(f"{where}: group {group} has no signal to {what}")
        if self.request(Group.B, Meaning.FREE_CHARGE, Meaning.FREE_NO_CHARGE) is None \
                or self.request(Group.B, Meaning.CONGESTION) is None:
            raise ValueError(f"{where}: group B needs a 'free' and a congestion signal")
        calling = self.request(Group.A, Meaning.CALLING_PARTY)
        if self.request_calling != "never" and calling is None:
            raise ValueError(f"{where}: it asks for the calling number, but group A has no "
                             f"calling-party request")
        if calling is not None:
            then = self.group_a[calling].next_group or Group.A
            if self.request(then, Meaning.NEXT_DIGIT, Meaning.CALLING_PARTY) is None:
                raise ValueError(f"{where}: group {then} cannot ask for calling digits")

    # -- lookups ------------------------------------------------------------------------
    def backward_groups(self) -> dict[Group, Mapping[int, Backward]]:
        return {Group.A: self.group_a, Group.B: self.group_b, Group.C: self.group_c}

    def request_groups(self) -> list[Group]:
        """The backward groups that carry requests (A, and C where the variant has it)."""
        return [Group.A, *([Group.C] if self.group_c else [])]

    def backward(self, group: Group, signal: int) -> Backward | None:
        """What backward signal ``signal`` means in ``group`` (None: nothing)."""
        return self.backward_groups()[group].get(signal)

    def request(self, group: Group, *meanings: Meaning) -> int | None:
        """The backward signal of ``group`` with the first of ``meanings`` it has (the
        lowest signal number when several share a meaning); None if none."""
        table = self.backward_groups()[group]
        for meaning in meanings:
            found = sorted(s for s, row in table.items() if row.meaning is meaning)
            if found:
                return found[0]
        return None

    def forward_meaning(self, signal: int, *, calling: bool) -> Meaning | None:
        """What group I signal ``signal`` means while a number is sent (``calling``: the
        calling number); None: nothing here."""
        if 1 <= signal <= 10:
            return Meaning.DIGIT
        if calling and signal == self.calling_restricted:
            return Meaning.CALLING_RESTRICTED
        if calling and signal == self.end_of_calling:
            return Meaning.END_OF_CALLING
        if not calling and signal == self.end_of_address:
            return Meaning.END_OF_ADDRESS
        return None

    def __repr__(self) -> str:
        return f"<R2Variant {self.name} ({self.country})>"


def _b(meaning: Meaning, name: str, source: str, next_group: Group | None = None) -> Backward:
    return Backward(meaning, name, source, next_group)


M, G = Meaning, Group
_OR2 = "openr2 r2proto.c"

# -- ITU-T ---------------------------------------------------------------------------------

#: Group A of Q.441, as openr2 configures it before any national change.
_ITU_A: Final = _table({
    1: _b(M.NEXT_ADDRESS, "A-1 send next digit (n+1)",
          f"Q.441 A-1; {_OR2} ga.request_next_dnis_digit=1"),
    2: _b(M.PREVIOUS_1, "A-2 send last but one digit (n-1)",
          f"Q.441 A-2; {_OR2} ga.request_dnis_minus_1=2"),
    3: _b(M.ADDRESS_COMPLETE_B, "A-3 address complete, changeover to reception of group B",
          f"Q.441 A-3; {_OR2} ga.request_change_to_g2=3", G.B),
    4: _b(M.CONGESTION, "A-4 congestion in the national network",
          f"Q.441 A-4; {_OR2} ga.network_congestion=4"),
    5: _b(M.CALLING_PARTY, "A-5 send calling party's category (repeated: next calling digit)",
          f"Q.441 A-5; {_OR2} ga.request_category=5, ga.request_next_ani_digit=5"),
    6: _b(M.ACCEPT, "A-6 address complete, charge, set up speech conditions",
          f"Q.441 A-6; {_OR2} ga.address_complete_charge_setup=6"),
    7: _b(M.PREVIOUS_2, "A-7 send last but two digit (n-2)",
          f"Q.441 A-7; {_OR2} ga.request_dnis_minus_2=7"),
    8: _b(M.PREVIOUS_3, "A-8 send last but three digit (n-3)",
          f"Q.441 A-8; {_OR2} ga.request_dnis_minus_3=8"),
    15: _b(M.CONGESTION_INTERNATIONAL,
           "A-15 congestion in an international exchange or at its output", "Q.441 A-15"),
})

#: Group B of Q.441, as openr2 configures it before any national change.
_ITU_B: Final = _table({
    2: _b(M.SPECIAL_INFO, "B-2 send special information tone",
          f"Q.441 B-2; {_OR2} gb.special_info_tone=2"),
    3: _b(M.BUSY, "B-3 subscriber's line busy", f"Q.441 B-3; {_OR2} gb.busy_number=3"),
    4: _b(M.CONGESTION, "B-4 congestion (after changeover from group A to B)",
          f"Q.441 B-4; {_OR2} gb.network_congestion=4"),
    5: _b(M.UNALLOCATED, "B-5 unallocated number", f"Q.441 B-5; {_OR2} gb.unallocated_number=5"),
    6: _b(M.FREE_CHARGE, "B-6 subscriber's line free, charge",
          f"Q.441 B-6; {_OR2} gb.accept_call_with_charge=6"),
    7: _b(M.FREE_NO_CHARGE, "B-7 subscriber's line free, no charge",
          f"Q.441 B-7; {_OR2} gb.accept_call_no_charge=7"),
    8: _b(M.OUT_OF_ORDER, "B-8 subscriber's line out of order",
          f"Q.441 B-8; {_OR2} gb.line_out_of_order=8"),
})

#: Group II of Q.441 (the calling party's category); openr2 names 1, 2, 3, 7, 9.
_ITU_II: Final = MappingProxyType({
    1: "II-1 subscriber without priority",
    2: "II-2 subscriber with priority",
    3: "II-3 maintenance equipment",
    5: "II-5 operator",
    6: "II-6 data transmission",
    7: "II-7 subscriber or operator without forward transfer facility (international)",
    8: "II-8 data transmission (international)",
    9: "II-9 subscriber with priority (international)",
    10: "II-10 operator with forward transfer facility (international)",
})

#: Send level of each frequency: openr2 r2engine.c quotes "R2 tone generation specs:
#: Power: -11.5dBm +- 1dB" (its generator sends -11).
_MF_LEVEL = -11.5

ITU: Final = R2Variant(
    name="itu", country="ITU-T (Q.400-Q.490)",
    line=LineCode(),
    group_a=_ITU_A, group_b=_ITU_B,
    categories=_ITU_II, calling_categories=_ITU_II, calling_category_group=G.II,
    category=1, calling_category=1,  # openr2 g2.national_subscriber=1 (default category)
    end_of_address=15,      # Q.441 I-15 end of pulsing; openr2 g1.no_more_dnis_available=15
    end_of_calling=15,      # openr2 g1.no_more_ani_available=15
    calling_restricted=12,  # openr2 g1.caller_ani_is_restricted=12 ("ITU does not define
    #                         this signal, many countries do")
    request_calling="after_first_digit",  # openr2 get_ani_first=1 (the default)
    max_calling=15,         # ITU-T E.164: at most 15 digits
    mf_level=_MF_LEVEL,
    sources=("ITU-T Q.421, Q.422, Q.441, Q.442, Q.476",
             "openr2 r2proto.c openr2_proto_configure_context, r2config_itu"),
)

# -- China No.1 (中国一号信令) ----------------------------------------------------------------

_CN = "China No.1"

CN: Final = R2Variant(
    name="cn", country="China (中国一号信令)",
    # openr2 r2config_china: "in China they [C and D] are both set to 1".
    line=LineCode(cd=0b11),
    group_a=_table({
        1: _b(M.NEXT_DIGIT, "A1 发下一位 (send next digit)",
              f"{_CN} A1; {_OR2} r2config_china ga.request_next_ani_digit=1, "
              f"ga.request_next_dnis_digit=1"),
        2: _b(M.RESTART_ADDRESS, "A2 由第一位发起 (send from the first digit)",
              f"{_CN} A2 (openr2 keeps its ITU reading, n-1)"),
        3: _b(M.ADDRESS_COMPLETE_B, "A3 转至B信号 (address complete, changeover to group B)",
              f"{_CN} A3; {_OR2} ga.request_change_to_g2=3", G.B),
        4: _b(M.CONGESTION, "A4 机键拥塞 (congestion)",
              f"{_CN} A4; {_OR2} ga.network_congestion=4"),
        5: _b(M.UNALLOCATED, "A5 空号 (unallocated number)", f"{_CN} A5"),
        6: _b(M.CALLING_PARTY, "A6 发KA和主叫用户号码 (send KA and the calling number)",
              f"{_CN} A6; {_OR2} r2config_china ga.request_category=6"),
    }),
    group_b=_table({
        1: _b(M.FREE_CHARGE, "B1 KB=1 被叫用户空闲 (subscriber free)",
              f"{_CN} KB1; {_OR2} r2config_china gb.accept_call_with_charge=1"),
        2: _b(M.BUSY, "B2 KB=2 被叫用户市忙 (subscriber busy, local call)",
              f"{_CN} KB2; {_OR2} r2config_china gb.busy_number=2"),
        3: _b(M.BUSY, "B3 KB=3 被叫用户长忙 (subscriber busy, toll call)", f"{_CN} KB3"),
        4: _b(M.CONGESTION, "B4 KB=4 机键拥塞 (congestion)",
              f"{_CN} KB4; {_OR2} gb.network_congestion=4"),
        5: _b(M.UNALLOCATED, "B5 KB=5 空号 (unallocated number)",
              f"{_CN} KB5; {_OR2} gb.unallocated_number=5"),
        6: _b(M.FREE_CHARGE, "B6 KB=6 被叫用户空闲 (subscriber free, local call)",
              f"{_CN} KB6 (openr2 knows only B1 and B2 for China)"),
    }),
    # KD, the forward group II signal sent after A3 (发端呼叫业务类别).
    categories=MappingProxyType({
        1: "KD=1 长途话务员半自动呼叫 (toll operator, semi-automatic)",
        2: "KD=2 长途自动呼叫 (toll call, automatic)",
        3: "KD=3 市话呼叫 (local call)",
        4: "KD=4 市话呼叫, 用户传真/数据 (local call, subscriber fax or data)",
        5: "KD=5 半自动核对主叫号码 (semi-automatic check of the calling number)",
        6: "KD=6 测试呼叫 (test call)",
    }),
    # KA, the forward group I signal sent in answer to A6 (主叫用户类别).
    calling_categories=MappingProxyType({
        1: "KA=1 普通, 定期 (ordinary subscriber, periodic charging)",
        2: "KA=2 普通, 用户表, 立即 (ordinary, subscriber meter, immediate charging)",
        3: "KA=3 普通, 打印机, 立即 (ordinary, printer, immediate charging)",
        4: "KA=4 优先, 定期 (priority subscriber, periodic charging)",
        5: "KA=5 免费 (free of charge)",
    }),
    calling_category_group=G.I,
    category=3,          # KD=3: a local call, what a call centre's trunk carries
    calling_category=1,  # KA=1: an ordinary subscriber
    end_of_address=None,  # openr2 r2config_china g1.no_more_dnis_available=INVALID
    end_of_calling=15,    # the calling number ends with I-15 (openr2 default 15)
    calling_restricted=None,
    # DNIS first, then A6 for KA and the calling number, then A3 (the national call flow);
    # openr2 lets ANI come first (OR2_ANI_CAN_COME_FIRST) and takes either.
    request_calling="after_address",
    max_calling=15,
    mf_level=_MF_LEVEL,
    sources=(_CN, "openr2 r2proto.c r2config_china"),
)

# -- Brazil ---------------------------------------------------------------------------------

_BR = f"{_OR2} r2config_brazil"

BR: Final = R2Variant(
    name="br", country="Brazil",
    line=LineCode(),
    group_a=_table({
        1: _ITU_A[1],
        2: _b(M.RESTART_ADDRESS, "A-2 send all digits again",
              f"{_BR} ga.request_all_dnis_again=2"),
        3: _ITU_A[3], 4: _ITU_A[4], 5: _ITU_A[5], 7: _ITU_A[7], 8: _ITU_A[8],
        9: _b(M.PREVIOUS_1, "A-9 send last but one digit (n-1)",
              f"{_BR} ga.request_dnis_minus_1=9"),
        # A-6 has no meaning here: ga.address_complete_charge_setup=INVALID
    }),
    group_b=_table({
        1: _b(M.FREE_CHARGE, "B-1 subscriber free, charge", f"{_BR} gb.accept_call_with_charge=1"),
        2: _b(M.BUSY, "B-2 subscriber busy", f"{_BR} gb.busy_number=2"),
        3: _b(M.NUMBER_CHANGED, "B-3 number changed", f"{_BR} gb.number_changed=3"),
        4: _ITU_B[4],
        5: _b(M.FREE_NO_CHARGE, "B-5 subscriber free, no charge",
              f"{_BR} gb.accept_call_no_charge=5"),
        6: _b(M.FREE_CHARGE, "B-6 subscriber free, charge, holding under the called party",
              f"{_BR} gb.special_info_tone=6 ('holding?'), accepted as a call"),
        7: _b(M.UNALLOCATED, "B-7 unallocated number", f"{_BR} gb.unallocated_number=7"),
        8: _ITU_B[8],
    }),
    categories=MappingProxyType({**_ITU_II, 8: "II-8 collect call"}),  # g2.collect_call=8
    calling_categories=MappingProxyType({**_ITU_II, 8: "II-8 collect call"}),
    calling_category_group=G.II,
    category=1, calling_category=1,
    end_of_address=None,      # g1.no_more_dnis_available=INVALID
    end_of_calling=15,        # openr2 default g1.no_more_ani_available=15
    calling_restricted=12,    # g1.caller_ani_is_restricted=12
    request_calling="after_first_digit",  # openr2 default get_ani_first=1
    max_calling=20,           # openr2 doc/asterisk/br/README: mfcr2_max_ani=20
    mf_level=_MF_LEVEL,
    sources=(_BR, "openr2 doc/asterisk/br/README"),
)

# -- Argentina ------------------------------------------------------------------------------

_AR = f"{_OR2} r2config_argentina"

AR: Final = R2Variant(
    name="ar", country="Argentina",
    line=LineCode(),
    group_a=_ITU_A, group_b=_ITU_B,
    categories=MappingProxyType({**_ITU_II, 4: "II-4 pay phone"}),  # g2.pay_phone=4
    calling_categories=MappingProxyType({**_ITU_II, 4: "II-4 pay phone"}),
    calling_category_group=G.II,
    category=1, calling_category=1,
    end_of_address=None,      # g1.no_more_dnis_available=INVALID
    end_of_calling=12,        # g1.no_more_ani_available=12
    calling_restricted=15,    # g1.caller_ani_is_restricted=15
    request_calling="after_first_digit",
    max_calling=20,           # openr2 doc/asterisk/ar/README (TASA): mfcr2_max_ani=20
    mf_level=_MF_LEVEL,
    timers=Timers(metering_pulse=0.4),  # timers.r2_metering_pulse=400
    sources=(_AR, "openr2 doc/asterisk/ar/README"),
)

# -- Mexico ---------------------------------------------------------------------------------

_MX = f"{_OR2} r2config_mexico"

MX: Final = R2Variant(
    name="mx", country="Mexico",
    line=LineCode(),
    group_a=_table({
        1: _ITU_A[1], 2: _ITU_A[2], 3: _ITU_A[3], 4: _ITU_A[4], 7: _ITU_A[7], 8: _ITU_A[8],
        6: _b(M.CALLING_PARTY, "A-6 send category and change to group C",
              f"{_MX} ga.request_category_and_change_to_gc=6", G.C),
    }),
    group_c=_table({
        1: _b(M.CALLING_PARTY, "C-1 send next calling digit",
              f"{_MX} gc.request_next_ani_digit=1"),
        3: _b(M.ADDRESS_COMPLETE_B, "C-3 change to group II (then group B)",
              f"{_MX} gc.request_change_to_g2=3", G.B),
        4: _b(M.CONGESTION, "C-4 congestion", f"{_MX} gc.network_congestion=4"),
        5: _b(M.NEXT_ADDRESS, "C-5 send next called digit and change to group A",
              f"{_MX} gc.request_next_dnis_digit_and_change_to_ga=5", G.A),
    }),
    group_b=_table({
        1: _b(M.FREE_CHARGE, "B-1 subscriber free, charge", f"{_MX} gb.accept_call_with_charge=1"),
        # openr2 sets gb.busy_number=2 and gb.unallocated_number=2; it tests busy first.
        2: _b(M.BUSY, "B-2 subscriber busy", f"{_MX} gb.busy_number=2"),
        4: _ITU_B[4],
        5: _b(M.FREE_NO_CHARGE, "B-5 subscriber free, no charge",
              f"{_MX} gb.accept_call_no_charge=5"),
        8: _ITU_B[8],
    }),
    categories=_ITU_II, calling_categories=_ITU_II, calling_category_group=G.II,
    category=1, calling_category=1,
    end_of_address=None,      # "Mexico has no signal when running out of DNIS"
    end_of_calling=15,        # openr2 default g1.no_more_ani_available=15
    calling_restricted=15,    # g1.caller_ani_is_restricted=15
    request_calling="after_address",  # get_ani_first=0 ("Telmex ... send ANI at the end")
    max_calling=10,           # openr2 doc/asterisk/mx/README: mfcr2_max_ani=10
    mf_level=_MF_LEVEL,
    sources=(_MX, "openr2 doc/asterisk/mx/README"),
)

#: Every variant by name.
VARIANTS: Final[Mapping[str, R2Variant]] = MappingProxyType(
    {v.name: v for v in (CN, ITU, BR, AR, MX)})


def variant(name: str | R2Variant) -> R2Variant:
    """The variant called ``name`` (case-insensitive); a variant is returned as it is.

    Raises ValueError naming the known variants.
    """
    if isinstance(name, R2Variant):
        return name
    try:
        return VARIANTS[name.lower()]
    except KeyError:
        raise ValueError(f"no MFC/R2 variant {name!r}; known: {', '.join(VARIANTS)}") from None
