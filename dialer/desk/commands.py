"""What an agent (through the desktop or the HTTP API) asks of its desk.

Frozen, slotted dataclasses with JSON-friendly fields, built and checked where they are
made (like :mod:`trunkline.dialer.pacing.events`), so the service can pass them across
threads and (de)serialise them: ``command.to_dict()`` gives ``{"type": ..., fields}``
and :func:`command_from_dict` reads it back, refusing unknown types and fields by name.
Whether a command fits the agent's state is the desk's business
(:class:`~trunkline.dialer.desk.desk.Desk`), not the constructor's.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trunkline.dialer.vocab import AgentLevel

#: RFC 4733 / ITU-T Q.23 keypad digits the gateway sends.
DTMF = re.compile(r"^[0-9*#A-D]{1,32}$")
#: A number typed by an agent: digits with an optional leading + (spaces and dashes are
#: dropped by the store's normaliser).
TYPED_NUMBER = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")
POSITION_KINDS = ("fxs", "number", "browser")
TRANSFER_TARGETS = ("agent", "campaign", "number")


def _text(kind: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} must be a non-empty string, got {value!r}")


@dataclass(frozen=True, slots=True)
class Command:
    """Base: every command names its agent."""

    TYPE: ClassVar[str] = ""
    agent: str

    def __post_init__(self) -> None:
        _text("agent", self.agent)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.TYPE}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class Login(Command):
    """Log in at ``position``: ``fxs`` (``address`` = the port's channel number),
    ``number`` (an extension or number reached over the trunks) or ``browser`` (the
    softphone: the agent's page is the phone, docs/softphone.md; no address).
    ``campaigns``: (name, level) pairs."""

    TYPE: ClassVar[str] = "login"
    position: str = "fxs"
    address: str = ""
    campaigns: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        if self.position not in POSITION_KINDS:
            raise ValueError(f"position must be one of {', '.join(POSITION_KINDS)}, got "
                             f"{self.position!r}")
        if self.position != "browser":
            _text("address", self.address)
        if self.position == "fxs" and not self.address.isdigit():
            raise ValueError(f"an fxs position is a channel number, got {self.address!r}")
        pairs = tuple(tuple(p) for p in self.campaigns)
        object.__setattr__(self, "campaigns", pairs)
        if not pairs:
            raise ValueError(f"agent {self.agent!r} must log in to at least one campaign")
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"campaigns are (name, level) pairs, got {pair!r}")
            _text("campaign", pair[0])
            AgentLevel(pair[1])


@dataclass(frozen=True, slots=True)
class Logout(Command):
    """Leave the desk. ``after_call``: a supervisor's logout, which an agent on a call
    (or owing its disposition) does not refuse but takes after the disposition is
    saved, as a forced pause waits for the call."""

    TYPE: ClassVar[str] = "logout"
    after_call: bool = False


@dataclass(frozen=True, slots=True)
class Ready(Command):
    TYPE: ClassVar[str] = "ready"


@dataclass(frozen=True, slots=True)
class Pause(Command):
    """Not ready, for a pause code of the site; on a call it takes effect after it."""

    TYPE: ClassVar[str] = "pause"
    reason: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        _text("reason", self.reason)


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A callback: ``at`` is local time in the contact's zone (``YYYY-MM-DD HH:MM``);
    ``owner`` ``agent`` (this agent) or ``campaign`` (anyone)."""

    at: str
    owner: str = "agent"
    note: str = ""

    def __post_init__(self) -> None:
        _text("at", self.at)
        if self.owner not in ("agent", "campaign"):
            raise ValueError(f"owner must be 'agent' or 'campaign', got {self.owner!r}")

    @classmethod
    def of(cls, value: Any) -> CallbackRequest | None:
        if value is None or isinstance(value, CallbackRequest):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise ValueError(f"a callback is {{at, owner, note}}, got {value!r}")


@dataclass(frozen=True, slots=True)
class SaveDisposition(Command):
    """The result of the call (during the call or in wrap-up). ``then``: ``ready``, or
    ``pause`` with ``reason``, once wrap-up ends; empty: as the agent chose before (a
    ``pause`` or ``ready`` during the call), else ready."""

    TYPE: ClassVar[str] = "save_disposition"
    code: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    callback: CallbackRequest | None = None
    then: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        _text("code", self.code)
        if not isinstance(self.fields, dict):
            raise ValueError("fields must be a mapping of field name to value")
        object.__setattr__(self, "callback", CallbackRequest.of(self.callback))
        if self.then not in ("", "ready", "pause"):
            raise ValueError(f"then must be 'ready', 'pause' or empty, got {self.then!r}")
        if self.then == "pause":
            _text("reason", self.reason)
        if not isinstance(self.notes, str) or len(self.notes) > 10_000:
            raise ValueError("notes are text up to 10000 characters")

    def to_dict(self) -> dict[str, Any]:
        out = Command.to_dict(self)
        out["callback"] = dataclasses.asdict(self.callback) if self.callback else None
        return out


@dataclass(frozen=True, slots=True)
class ScheduleCallback(Command):
    """A callback for the contact on the line (or just in wrap-up)."""

    TYPE: ClassVar[str] = "schedule_callback"
    at: str = ""
    owner: str = "agent"
    note: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        CallbackRequest(self.at, self.owner, self.note)

    @property
    def request(self) -> CallbackRequest:
        return CallbackRequest(self.at, self.owner, self.note)


@dataclass(frozen=True, slots=True)
class PreviewDial(Command):
    TYPE: ClassVar[str] = "preview_dial"
    contact_id: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        _text("contact_id", self.contact_id)


@dataclass(frozen=True, slots=True)
class PreviewSkip(Command):
    TYPE: ClassVar[str] = "preview_skip"
    contact_id: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        _text("contact_id", self.contact_id)


@dataclass(frozen=True, slots=True)
class ManualDial(Command):
    """Dial ``number`` (typed, or one of the contact's numbers) for ``campaign``."""

    TYPE: ClassVar[str] = "manual_dial"
    campaign: str = ""
    number: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        _text("campaign", self.campaign)
        if not isinstance(self.number, str) or not TYPED_NUMBER.match(self.number):
            raise ValueError(f"number {self.number!r} is not a phone number")


@dataclass(frozen=True, slots=True)
class HangUp(Command):
    TYPE: ClassVar[str] = "hang_up"


@dataclass(frozen=True, slots=True)
class Hold(Command):
    TYPE: ClassVar[str] = "hold"


@dataclass(frozen=True, slots=True)
class Resume(Command):
    """Take the customer off hold."""

    TYPE: ClassVar[str] = "resume"


@dataclass(frozen=True, slots=True)
class Transfer(Command):
    """Transfer the customer: ``blind`` (the agent leaves at once) or ``attended`` (the
    customer waits on hold while the agent talks to the target, then
    :class:`CompleteTransfer` or :class:`CancelTransfer`)."""

    TYPE: ClassVar[str] = "transfer"
    mode: str = "blind"
    target_kind: str = "number"
    target: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        if self.mode not in ("blind", "attended"):
            raise ValueError(f"mode must be 'blind' or 'attended', got {self.mode!r}")
        if self.target_kind not in TRANSFER_TARGETS:
            raise ValueError(f"target_kind must be one of {', '.join(TRANSFER_TARGETS)}, "
                             f"got {self.target_kind!r}")
        _text("target", self.target)
        if self.target_kind == "number" and not TYPED_NUMBER.match(self.target):
            raise ValueError(f"target {self.target!r} is not a phone number")


@dataclass(frozen=True, slots=True)
class CompleteTransfer(Command):
    TYPE: ClassVar[str] = "complete_transfer"


@dataclass(frozen=True, slots=True)
class CancelTransfer(Command):
    TYPE: ClassVar[str] = "cancel_transfer"


@dataclass(frozen=True, slots=True)
class Conference(Command):
    """Join the consulted party, the customer and the agent in one call."""

    TYPE: ClassVar[str] = "conference"


@dataclass(frozen=True, slots=True)
class EndConsult(Command):
    """The consulted agent ends the consultation it was brought into (its hang-up):
    ringing or talking, the consulting agent gets its customer back off hold, as a
    cancel does; in a three-way conference it leaves and the other two stay bridged."""

    TYPE: ClassVar[str] = "end_consult"


@dataclass(frozen=True, slots=True)
class SendDtmf(Command):
    TYPE: ClassVar[str] = "send_dtmf"
    digits: str = ""

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        if not isinstance(self.digits, str) or not DTMF.match(self.digits):
            raise ValueError(f"digits {self.digits!r}: 1-32 of 0-9 * # A-D")


COMMANDS: dict[str, type[Command]] = {c.TYPE: c for c in (
    Login, Logout, Ready, Pause, SaveDisposition, ScheduleCallback, PreviewDial,
    PreviewSkip, ManualDial, HangUp, Hold, Resume, Transfer, CompleteTransfer,
    CancelTransfer, Conference, EndConsult, SendDtmf)}


def command_from_dict(data: dict[str, Any]) -> Command:
    """A command from its :meth:`Command.to_dict` form; ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"a command is an object, got {type(data).__name__}")
    kind = data.get("type")
    cls = COMMANDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown command type {kind!r}; known: {', '.join(COMMANDS)}")
    names = {f.name for f in dataclasses.fields(cls)}
    extra = sorted(set(data) - names - {"type"})
    if extra:
        raise ValueError(f"command {kind!r} has no field {', '.join(extra)}")
    args = {k: v for k, v in data.items() if k != "type"}
    if cls is Login and "campaigns" in args:
        args["campaigns"] = tuple(tuple(p) for p in args["campaigns"])
    try:
        return cls(**args)
    except TypeError as err:
        raise ValueError(f"command {kind!r}: {err}") from None
