"""Q.931 trace: libpri's decoded messages, one structlog event per message.

With ``PriSpan(..., trace=True)`` the span turns on libpri's ``PRI_DEBUG_Q931_DUMP``
and routes libpri's ``pri_set_message`` output here. libpri prints a decoded message
as many lines (``> Protocol Discriminator ...``, ``> Message Type: SETUP (5)``, one or
more lines per information element; ``>`` sent, ``<`` received). :class:`Q931Tracer`
groups those lines into one record per message and logs it as event ``"q931"`` with
``span``, ``direction`` (``tx``/``rx``), ``message`` (e.g. ``SETUP``), ``cref`` and the
decoded ``lines``. Lines that belong to no message (Q.921 state, libpri notices) are
logged as event ``"libpri"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

__all__ = ["Q931Message", "Q931Tracer"]

_MSG_TYPE = re.compile(r"Message [Tt]ype:\s*([A-Z_ ]+?)\s*\((\d+)\)")
_CREF = re.compile(r"Call Ref:.*?\(reference (\d+)")
_START = "Protocol Discriminator"


@dataclass(frozen=True, slots=True)
class Q931Message:
    """One decoded Q.931 message."""

    span: int
    direction: str
    message: str
    cref: int | None
    lines: tuple[str, ...] = field(default=())


class Q931Tracer:
    """Collects libpri message lines and emits whole decoded messages.

    ``sink`` (optional) receives every :class:`Q931Message` as well (tests, a CLI
    ``--trace`` printer); ``keep`` > 0 keeps the last ``keep`` messages in ``messages``.
    """

    def __init__(self, span: int, *, logger: Any | None = None,
                 sink: Callable[[Q931Message], None] | None = None, keep: int = 0) -> None:
        self.span = span
        self.log = logger if logger is not None else structlog.get_logger("trunkline.pri")
        self.sink = sink
        self.keep = keep
        self.messages: list[Q931Message] = []
        self._lines: list[str] = []
        self._direction = ""
        self._held: Q931Message | None = None

    def feed(self, text: str) -> None:
        """Take one chunk of libpri output (one or more lines)."""
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line:
                continue
            direction = {">": "tx", "<": "rx"}.get(line[:1], "")
            body = line[1:].strip() if direction else line.strip()
            if _START in body and direction:
                self.flush(final=False)
                self._direction = direction
                self._lines = [body]
            elif direction and self._lines and direction == self._direction:
                self._lines.append(body)
            else:
                self.flush()
                self.log.debug("libpri", span=self.span, text=body)

    def flush(self, final: bool = True) -> None:
        """Emit the message being collected (and any held one)."""
        if self._lines:
            record = self._record(tuple(self._lines))
            self._lines = []
            held, self._held = self._held, None
            if held is not None and held.lines != record.lines[:len(held.lines)]:
                self._emit(held)
            if record.lines and all(not ln.startswith("[") for ln in record.lines) \
                    and not final:
                # libpri prints a header-only summary, then the full dump: hold the
                # summary until we know whether the full dump follows.
                self._held = record
            else:
                self._emit(record)
        if final and self._held is not None:
            held, self._held = self._held, None
            self._emit(held)

    def _record(self, lines: tuple[str, ...]) -> Q931Message:
        joined = "\n".join(lines)
        kind = _MSG_TYPE.search(joined)
        cref = _CREF.search(joined)
        return Q931Message(
            span=self.span, direction=self._direction,
            message=kind.group(1).strip().replace(" ", "_") if kind else "UNKNOWN",
            cref=int(cref.group(1)) if cref else None, lines=lines,
        )

    def _emit(self, message: Q931Message) -> None:
        self.log.info("q931", span=message.span, direction=message.direction,
                      message=message.message, cref=message.cref,
                      lines=list(message.lines))
        if self.keep:
            self.messages.append(message)
            del self.messages[:-self.keep]
        if self.sink is not None:
            self.sink(message)
