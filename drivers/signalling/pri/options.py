"""The options a PRI span's signalling module takes (a gateway ``[[span]]`` table's keys).

The MFC/R2 and SS7 modules refuse a key they do not know; the PRI module took any, so
``timers = {T999 = 5}`` or a misspelt ``pri_swichtype`` started the gateway with the
setting silently not applied. :func:`check_options` refuses both, naming the span; the
gateway adds the file and the table's line (``gateway.service.span_table_error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import SWITCH_TYPES
from .errors import PriConfigError

__all__ = ["CONTEXT_KEYS", "OPTIONS", "TIMER_NAMES", "check_options"]

#: The module's options, as a ``[[span]]`` table spells them (the gateway's ``[pri]``
#: section's names), and what each takes.
OPTIONS: Mapping[str, str] = {
    "switchtype": "the switch type (" + ", ".join(sorted(SWITCH_TYPES)) + ")",
    "trace": "true: log every decoded Q.931 message",
    "dchannel_thread": "true/false: read the D-channel in its own thread",
    "timers": "libpri timers and counters by name, in ms ({T303 = 4000, N200 = 3})",
}

#: The spelling the module's context options use (``pri_switchtype``...), by option.
CONTEXT_KEYS: Mapping[str, str] = {
    "switchtype": "pri_switchtype", "trace": "pri_trace",
    "dchannel_thread": "pri_dchannel_thread", "timers": "timers",
}

#: libpri's Q.921 and Q.931 timer and counter names (libpri.h ``PRI_TIMER_*``, the names
#: ``pri_timer2idx`` takes). libpri also knows supplementary-service timers (T-HOLD,
#: T-RESPONSE, CC-T1...); it, not this list, decides which names exist.
TIMER_NAMES: tuple[str, ...] = (
    "N200", "N201", "N202", "K", "T200", "T201", "T202", "T203",
    "T300", "T301", "T302", "T303", "T304", "T305", "T306", "T307", "T308", "T309",
    "T310", "T312", "T313", "T314", "T316", "T317", "T318", "T319", "T320", "T321",
    "T322", "N316",
)


def check_options(span: int, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options by their context spelling (``pri_switchtype``...; either spelling is
    taken). Refuses an option the module does not take, and a ``timers`` value that is
    not a table of whole milliseconds; a timer name libpri does not know is refused when
    the span applies it (``PriSpan.set_timer``, which asks libpri itself)."""
    known = set(OPTIONS) | set(CONTEXT_KEYS.values())
    unknown = sorted(set(options) - known)
    if unknown:
        raise PriConfigError(f"span {span}: unknown PRI option{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(unknown)}; known: "
                             + "; ".join(f"{k} ({v})" for k, v in OPTIONS.items()),
                             key=unknown[0])
    checked = {CONTEXT_KEYS.get(k, k): v for k, v in options.items()}
    for key in ("pri_trace", "pri_dchannel_thread"):
        if key in checked and not isinstance(checked[key], bool):
            raise PriConfigError(f"span {span}: PRI option {key.removeprefix('pri_')} must "
                                 f"be true or false, not {checked[key]!r}", key=key)
    timers = checked.get("timers")
    if timers is None:
        return checked
    if not isinstance(timers, Mapping):
        raise PriConfigError(f"span {span}: PRI option timers must be a table of libpri "
                             f"timers in ms ({{T303 = 4000}}), not {timers!r}", key="timers")
    for name, ms in timers.items():
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise PriConfigError(f"span {span}: PRI timer {name} must be a whole number of "
                                 f"milliseconds >= 0, not {ms!r}", key="timers")
    return checked
