"""The configuration of one PRI span, checked once when it is built.

:class:`SpanConfig` holds what a :class:`~trunkline.drivers.signalling.pri.span.PriSpan`
is told at construction that is plain data: the switch type, the side (CPE or network),
the B-channels, the companding law, the hunting order, SERVICE message support, libpri
timer overrides and debug flags. The clock, the link, the logger and the trace sink are
collaborators, not configuration, and stay with the span.

It is a frozen value so nothing can change it behind the span's back (the channel table
and the maintenance core are built from it), and it needs no libpri: a configuration
file can be checked before any native code loads. Errors are :class:`PriConfigError`
with the offending field as ``key`` and in the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import PriConfigError

__all__ = [
    "E1_CHANNELS",
    "HUNT_ORDERS",
    "LAWS",
    "ROLES",
    "SERVICE_SWITCHES",
    "SWITCH_TYPES",
    "T1_CHANNELS",
    "SpanConfig",
    "default_hunt",
    "default_law",
]

#: E1 B-channels: timeslots 1..31 without 16 (the D-channel of a 2048 kbit/s primary rate
#: interface, ITU-T I.431).
E1_CHANNELS: tuple[int, ...] = tuple(ch for ch in range(1, 32) if ch != 16)
#: T1 B-channels: timeslots 1..23 (timeslot 24 is the D-channel of a 1544 kbit/s primary
#: rate interface, ITU-T I.431; chan_dahdi maps a T1 PRI span so).
T1_CHANNELS: tuple[int, ...] = tuple(range(1, 24))

#: name -> libpri constant name.
SWITCH_TYPES: Mapping[str, str] = {
    "euroisdn_e1": "PRI_SWITCH_EUROISDN_E1",
    "euroisdn_t1": "PRI_SWITCH_EUROISDN_T1",
    "qsig": "PRI_SWITCH_QSIG",
    "ni2": "PRI_SWITCH_NI2",
    "ni1": "PRI_SWITCH_NI1",
    "dms100": "PRI_SWITCH_DMS100",
    "5ess": "PRI_SWITCH_LUCENT5E",
    "4ess": "PRI_SWITCH_ATT4ESS",
}
#: Switch types whose SERVICE / SERVICE ACKNOWLEDGE B-channel maintenance libpri supports.
SERVICE_SWITCHES = frozenset({"ni2", "5ess", "4ess"})
#: name -> libpri node type constant name.
ROLES: Mapping[str, str] = {"cpe": "PRI_CPE", "network": "PRI_NETWORK"}
LAWS = ("alaw", "ulaw")
HUNT_ORDERS = ("ascending", "descending")


def default_law(switchtype: str) -> str:
    """A-law on the E1 switch types (EuroISDN E1 and Q.SIG), mu-law on the T1 ones."""
    return "alaw" if switchtype in ("euroisdn_e1", "qsig") else "ulaw"


def default_hunt(role: str) -> str:
    """CPE hunts from the top, the network from the bottom: the two sides keep apart,
    which makes glare (both taking the same channel at once) rare."""
    return "descending" if role == "cpe" else "ascending"


@dataclass(frozen=True, slots=True)
class SpanConfig:
    """One span's settings, validated when built; see :meth:`create` for the defaults.

    ``channels`` may be given as any iterable of E1 timeslots; the built value is the
    sorted tuple without duplicates. ``timers`` are libpri timer or counter overrides in
    milliseconds, by name, in the order given: only libpri knows the names, so the span
    checks them when it applies them (:meth:`PriSpan.set_timer`).
    """

    span_id: int = 1
    role: str = "cpe"
    switchtype: str = "euroisdn_e1"
    channels: tuple[int, ...] = E1_CHANNELS
    law: str = "alaw"
    hunt: str = "descending"
    service_messages: bool = False
    timers: tuple[tuple[str, int], ...] = ()
    debug: int = 0

    @classmethod
    def create(
        cls, *, span_id: int = 1, role: str = "cpe", switchtype: str = "euroisdn_e1",
        channels: Iterable[int] | None = None, law: str | None = None,
        hunt: str | None = None, service_messages: bool = False,
        timers: Mapping[str, int] | None = None, debug: int = 0,
    ) -> SpanConfig:
        """Build from the keywords :class:`PriSpan` takes, choosing what is None:
        ``channels`` every E1 B-channel, ``law`` :func:`default_law` of the switch type,
        ``hunt`` :func:`default_hunt` of the role."""
        return cls(
            span_id=span_id, role=role, switchtype=switchtype,
            channels=E1_CHANNELS if channels is None else tuple(channels),
            law=default_law(switchtype) if law is None else law,
            hunt=default_hunt(role) if hunt is None else hunt,
            service_messages=service_messages,
            timers=tuple((timers or {}).items()), debug=debug,
        )

    def __post_init__(self) -> None:
        where = f"span {self.span_id}"
        if self.role not in ROLES:
            raise PriConfigError(f"{where}: unknown role {self.role!r}; expected one of "
                                 f"{sorted(ROLES)}", key="role")
        if self.switchtype not in SWITCH_TYPES:
            raise PriConfigError(f"{where}: unknown switch type {self.switchtype!r}; "
                                 f"expected one of {sorted(SWITCH_TYPES)}", key="switchtype")
        chans = tuple(sorted(set(self.channels)))
        for ch in chans:
            if isinstance(ch, bool) or not isinstance(ch, int) or not 1 <= ch <= 31:
                raise PriConfigError(f"{where}: B-channel {ch!r} is not an E1 "
                                     "timeslot 1..15 or 17..31 nor a T1 timeslot 1..23",
                                     key="channels")
        if 16 in chans and chans[-1] > 23:
            # Timeslot 16 is a B-channel on T1 (1..23) and the D-channel on E1.
            raise PriConfigError(f"{where}: B-channels {chans[0]}..{chans[-1]} with 16 fit "
                                 "neither an E1 (1..15, 17..31) nor a T1 (1..23) span",
                                 key="channels")
        if not chans:
            raise PriConfigError(f"{where}: no B-channels given", key="channels")
        # A frozen dataclass may set its own fields while it is being built.
        object.__setattr__(self, "channels", chans)
        if self.law not in LAWS:
            raise PriConfigError(f"{where}: unknown law {self.law!r}; expected 'alaw' or "
                                 "'ulaw'", key="law")
        if self.hunt not in HUNT_ORDERS:
            raise PriConfigError(f"{where}: unknown hunt order {self.hunt!r}; expected "
                                 "'ascending' or 'descending'", key="hunt")
        if self.service_messages and self.switchtype not in SERVICE_SWITCHES:
            raise PriConfigError(
                f"{where}: switch type {self.switchtype!r} has no B-channel SERVICE "
                f"messages; they exist on {sorted(SERVICE_SWITCHES)}", key="service_messages")
