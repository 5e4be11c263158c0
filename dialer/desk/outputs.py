"""What the desk gives back: events for the agent's screen, and work for the runner.

- :class:`DeskEvent` subclasses go to the service's sink (the desktop's WebSocket, the
  supervisor's floor): frozen, JSON-friendly, ``to_dict()`` gives ``{"type": ..., ...}``.
- :class:`Op` subclasses are what the runner carries out: gateway operations on the
  agent's position and call, and store writes (dispositions, callbacks, state log).
- Engine events (:mod:`trunkline.dialer.pacing.events`) are handed to the engine.

:class:`ContactCard` is the screen pop's content: the runner reads it from the store (the
desk does no I/O) and hands it in with the engine's ``Connect`` or ``OfferPreview``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class ContactCard:
    """Everything the agent sees about a contact: every list column (``fields``), the
    numbers to dial it on, earlier attempts (``history``: dicts with ``at``, ``outcome``,
    ``agent``, ``talk``, ``disposition``, ``fields``, ``notes``) and notes."""

    contact_id: str
    campaign: str
    number: str
    time_zone: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()
    history: tuple[dict[str, Any], ...] = ()
    attempt: int | None = None
    callback_owner: str | None = None

    def values(self) -> dict[str, Any]:
        """What a script may use: the columns, and ``number``."""
        return {**self.fields, "number": self.number}

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class Output:
    TYPE: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE,
                **{f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}}


# -- desk events (to the screens) ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeskEvent(Output):
    """Base of what the screens are told; every one names its agent."""

    agent: str


@dataclass(frozen=True, slots=True)
class StateChanged(DeskEvent):
    """The agent's state (``connecting``, ``paused``, ``ready``, ``reserved``,
    ``preview``, ``talking``, ``wrap_up``, ``logged_out``), its pause reason, since when;
    ``then``: what follows wrap-up (``ready`` or ``pause:<reason>``)."""

    TYPE: ClassVar[str] = "state"
    state: str
    reason: str
    since: float
    then: str = "ready"


@dataclass(frozen=True, slots=True)
class ScreenPop(DeskEvent):
    TYPE: ClassVar[str] = "screen_pop"
    call: int
    campaign: str
    contact: ContactCard
    script: str
    dispositions: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class PreviewOffered(DeskEvent):
    TYPE: ClassVar[str] = "preview"
    campaign: str
    contact: ContactCard
    script: str
    deadline: float


@dataclass(frozen=True, slots=True)
class PreviewClosed(DeskEvent):
    """``how``: ``dialled``, ``skipped``, ``expired_dialled``, ``expired_skipped`` or
    ``returned`` (a callback due for the agent, or a number it dialled, took its place;
    the record goes back to the list)."""

    TYPE: ClassVar[str] = "preview_closed"
    contact_id: str
    how: str


@dataclass(frozen=True, slots=True)
class WrapUpStarted(DeskEvent):
    TYPE: ClassVar[str] = "wrap_up"
    call: int
    campaign: str
    deadline: float


@dataclass(frozen=True, slots=True)
class DispositionSaved(DeskEvent):
    TYPE: ClassVar[str] = "disposition_saved"
    call: int
    code: str
    automatic: bool


@dataclass(frozen=True, slots=True)
class CallbackScheduled(DeskEvent):
    TYPE: ClassVar[str] = "callback_scheduled"
    contact_id: str
    due: float
    owner: str | None


@dataclass(frozen=True, slots=True)
class CallNote(DeskEvent):
    """Something happened to the agent's call: ``held``, ``resumed``, ``transferring``,
    ``transferred``, ``transfer_cancelled``, ``consulting``, ``consult_answered`` (the
    number of an attended transfer answered: complete or conference may follow),
    ``conference``, ``dtmf_sent``, ``dialling``."""

    TYPE: ClassVar[str] = "call"
    what: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PauseOverrun(DeskEvent):
    TYPE: ClassVar[str] = "pause_overrun"
    reason: str
    limit: float


@dataclass(frozen=True, slots=True)
class Refused(DeskEvent):
    """A command that was not carried out, why, and (for a form) the field at fault."""

    TYPE: ClassVar[str] = "refused"
    command: str
    error: str
    field: str | None = None


# -- ops (for the runner) ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Op(Output):
    agent: str


@dataclass(frozen=True, slots=True)
class RingPosition(Op):
    """Ring the agent's phone and hold the call as its audio leg."""

    TYPE: ClassVar[str] = "ring_position"
    position: str
    address: str


@dataclass(frozen=True, slots=True)
class DropPosition(Op):
    TYPE: ClassVar[str] = "drop_position"


@dataclass(frozen=True, slots=True)
class CallOp(Op):
    """An operation on the agent's current customer call (engine call id ``call``):
    ``hang_up``, ``hold``, ``resume``, ``send_dtmf`` (``arg`` = digits),
    ``transfer`` (``arg`` = ``mode:kind:target``), ``complete_transfer``,
    ``cancel_transfer``, ``conference``."""

    TYPE: ClassVar[str] = "call_op"
    call: int
    op: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class LeaveConsult(Op):
    """``agent``, consulted by ``first`` in an attended transfer, ends the consultation:
    the runner gives ``first`` its customer back (or, in a conference, takes ``agent``
    out of it and bridges the other two) and frees ``agent``."""

    TYPE: ClassVar[str] = "leave_consult"
    first: str


@dataclass(frozen=True, slots=True)
class DialRequest(Op):
    """A manual dial: the runner checks the number (DNC, calling windows), finds or adds
    the contact and tells the engine (``ManualDial``), or refuses naming why."""

    TYPE: ClassVar[str] = "dial_request"
    campaign: str
    number: str


@dataclass(frozen=True, slots=True)
class RecordDisposition(Op):
    TYPE: ClassVar[str] = "record_disposition"
    campaign: str
    call: int
    attempt: int | None
    contact_id: str
    code: str
    fields: dict[str, Any]
    notes: str
    at: float
    automatic: bool


@dataclass(frozen=True, slots=True)
class SaveCallback(Op):
    """``owner``: the agent (personal) or None (anyone in the campaign)."""

    TYPE: ClassVar[str] = "save_callback"
    campaign: str
    contact_id: str
    due: float
    owner: str | None
    note: str


@dataclass(frozen=True, slots=True)
class LogState(Op):
    """A finished stretch of one state (and pause reason), for the reports."""

    TYPE: ClassVar[str] = "log_state"
    state: str
    reason: str
    since: float
    until: float
