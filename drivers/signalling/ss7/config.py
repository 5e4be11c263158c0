"""A signalling point's settings: point codes, variant, links, circuits and timers.

Circuits: each CIC names a (span, timeslot). By default (Q.763 1.2 a, 2048 kbit/s paths)
``CIC = (E1 number << 5) | timeslot``, timeslots 1..31, with the timeslots that carry a
signalling link left out; :meth:`CircuitMap.e1` builds that, and :meth:`CircuitMap.of`
takes any explicit table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from .errors import Ss7ConfigError
from .mtp2 import Mtp2Timers
from .mtp3 import NETWORK_INDICATORS, Mtp3Timers, PcFormat, parse_pc

__all__ = ["VARIANTS", "CircuitMap", "IsupTimers", "Ss7Config"]

#: Variants: ``itu`` (14-bit point codes) and ``china`` (China's national network: ITU
#: ISUP formats, 24-bit point codes and the national network indicator).
VARIANTS: Final = {"itu": PcFormat.ITU, "china": PcFormat.CHINA}


@dataclass(frozen=True)
class CircuitMap:
    """CIC -> (span, timeslot), and back."""

    circuits: Mapping[int, tuple[int, int]]

    def __post_init__(self) -> None:
        for cic, (_span, timeslot) in self.circuits.items():
            if not 0 <= cic <= 0xFFF:
                raise Ss7ConfigError(f"CIC {cic} is outside 0..4095 (12 bits, Q.763 1.2)")
            if not 1 <= timeslot <= 31:
                raise Ss7ConfigError(f"CIC {cic}: timeslot {timeslot} is outside 1..31")
        places = list(self.circuits.values())
        if len(set(places)) != len(places):
            raise Ss7ConfigError("two CICs name the same span and timeslot")
        object.__setattr__(self, "circuits", MappingProxyType(dict(sorted(
            self.circuits.items()))))
        object.__setattr__(self, "_by_place", {v: k for k, v in self.circuits.items()})

    @classmethod
    def e1(cls, spans: Mapping[int, int] | Iterable[int], *,
           signalling: Iterable[tuple[int, int]] = ()) -> CircuitMap:
        """Circuits of E1 ``spans`` (span -> E1 number; a list numbers them 0, 1, ...),
        CIC = (E1 << 5) | timeslot, leaving out the ``signalling`` (span, timeslot)s."""
        numbers = dict(spans) if isinstance(spans, Mapping) else {
            span: index for index, span in enumerate(spans)}
        skip = set(signalling)
        table: dict[int, tuple[int, int]] = {}
        for span, e1 in numbers.items():
            if not 0 <= e1 <= 127:
                raise Ss7ConfigError(f"span {span}: E1 number {e1} is outside 0..127")
            for timeslot in range(1, 32):
                if (span, timeslot) not in skip:
                    table[e1 << 5 | timeslot] = (span, timeslot)
        return cls(table)

    @classmethod
    def of(cls, table: Mapping[int, tuple[int, int]]) -> CircuitMap:
        return cls(dict(table))

    def place(self, cic: int) -> tuple[int, int] | None:
        return self.circuits.get(cic)

    def cic(self, span: int, timeslot: int) -> int | None:
        by_place: dict[tuple[int, int], int] = self.__dict__["_by_place"]
        return by_place.get((span, timeslot))

    def groups(self, limit: int = 32) -> list[list[int]]:
        """Runs of consecutive CICs, at most ``limit`` long (group reset, Q.763 3.43)."""
        runs: list[list[int]] = []
        for cic in self.circuits:
            if runs and cic == runs[-1][-1] + 1 and len(runs[-1]) < limit:
                runs[-1].append(cic)
            else:
                runs.append([cic])
        return runs


@dataclass(frozen=True, slots=True)
class IsupTimers:
    """ISUP timers (Q.764 Annex A, Table A.1) in seconds, the range beside each."""

    t1: float = 15.0     # REL sent -> RLC: 15-60 s (repeat REL)
    t5: float = 300.0    # initial REL -> RLC: 5-15 min (then RSC, maintenance)
    t7: float = 20.0     # IAM sent -> ACM/CON/ANM: 20-30 s
    t9: float = 90.0     # ACM received -> ANM: 1.5-3 min
    t12: float = 15.0    # BLO -> BLA: 15-60 s
    t13: float = 300.0   # initial BLO: 5-15 min
    t14: float = 15.0    # UBL -> UBA: 15-60 s
    t15: float = 300.0   # initial UBL: 5-15 min
    t16: float = 15.0    # RSC -> RLC: 15-60 s
    t17: float = 300.0   # initial RSC: 5-15 min
    t18: float = 15.0    # CGB -> CGBA: 15-60 s
    t19: float = 300.0   # initial CGB: 5-15 min
    t20: float = 15.0    # CGU -> CGUA: 15-60 s
    t21: float = 300.0   # initial CGU: 5-15 min
    t22: float = 15.0    # GRS -> GRA: 15-60 s
    t23: float = 300.0   # initial GRS: 5-15 min

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if not getattr(self, name) > 0:
                raise Ss7ConfigError(f"ISUP timer {name.upper()} must be > 0 s, got "
                                     f"{getattr(self, name)}")


@dataclass(frozen=True)
class Ss7Config:
    """One signalling point and its linkset to one adjacent point.

    ``opc`` our point code, ``apc`` the adjacent one (integers or ``a-b-c``); ``variant``
    ``itu`` or ``china``; ``ni`` the network indicator (``national`` by default; China's
    national network is national); ``links`` SLC -> span carrying that link (the span's
    signalling timeslot, 16 by default, is left out of the circuits built from
    ``spans``); ``spans`` span -> E1 number for the default CIC map, or ``circuits`` an
    explicit :class:`CircuitMap`; ``role`` ``cpe`` or ``exchange`` (only a label: both
    sides run the same procedures); ``reset_on_start`` sends GRS for every circuit when
    the linkset comes up (Q.764 2.9.3); ``category`` the calling party's category of our
    IAMs; ``cause_location`` the location in our causes (0 user, 2 public network
    serving the local user).
    """

    opc: int | str
    apc: int | str
    variant: str = "itu"
    ni: str | int = "national"
    links: Mapping[int, int] = field(default_factory=lambda: {0: 1})
    spans: Mapping[int, int] | None = None
    circuits: CircuitMap | None = None
    signalling_timeslot: int = 16
    role: str = "cpe"
    reset_on_start: bool = True
    category: int = 0x0A
    cause_location: int = 0
    called_nai: int = 3
    calling_nai: int = 3
    forward: int = 0x0020
    end_of_pulsing: bool = True
    isup_timers: IsupTimers = field(default_factory=IsupTimers)
    mtp3_timers: Mtp3Timers = field(default_factory=Mtp3Timers)
    mtp2_timers: Mtp2Timers = field(default_factory=Mtp2Timers)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise Ss7ConfigError(f"SS7 variant must be one of {', '.join(VARIANTS)}, not "
                                 f"{self.variant!r}")
        fmt = VARIANTS[self.variant]
        object.__setattr__(self, "opc", parse_pc(self.opc, fmt))
        object.__setattr__(self, "apc", parse_pc(self.apc, fmt))
        if self.opc == self.apc:
            raise Ss7ConfigError(f"our point code and the adjacent one are both {self.opc}")
        ni = NETWORK_INDICATORS.get(self.ni, self.ni) if isinstance(self.ni, str) else self.ni
        if not isinstance(ni, int) or not 0 <= ni <= 3:
            raise Ss7ConfigError(f"network indicator must be 0..3 or one of "
                                 f"{', '.join(NETWORK_INDICATORS)}, not {self.ni!r}")
        object.__setattr__(self, "ni", ni)
        if self.role not in ("cpe", "exchange"):
            raise Ss7ConfigError(f"role must be 'cpe' or 'exchange', not {self.role!r}")
        if not self.links:
            raise Ss7ConfigError("a linkset needs at least one signalling link")
        if self.circuits is None:
            spans = self.spans if self.spans is not None else {
                span: index for index, span in enumerate(sorted(set(self.links.values())))}
            object.__setattr__(self, "circuits", CircuitMap.e1(
                spans, signalling=[(s, self.signalling_timeslot)
                                   for s in self.links.values()]))

    @property
    def fmt(self) -> PcFormat:
        return VARIANTS[self.variant]

    @property
    def point_code(self) -> int:
        assert isinstance(self.opc, int)
        return self.opc

    @property
    def adjacent(self) -> int:
        assert isinstance(self.apc, int)
        return self.apc

    @property
    def network_indicator(self) -> int:
        assert isinstance(self.ni, int)
        return self.ni

    @property
    def circuit_map(self) -> CircuitMap:
        assert self.circuits is not None
        return self.circuits
