"""What the engine asks for: dial, connect, abandon, hang up, offer a preview, record.

The campaign runner turns these into gateway requests and storage writes; the simulator
turns them into scheduled random outcomes. Frozen, slotted and validated like events.
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import AbandonRoute, CallOutcome


@dataclass(frozen=True, slots=True)
class Dial:
    """Place call ``call_id`` to ``contact``; ``agent`` is set when one is reserved for it."""

    call_id: int
    campaign: str
    contact: Contact
    ring_timeout: float
    agent: str | None = None

    def __post_init__(self) -> None:
        if self.ring_timeout <= 0:
            raise ValueError(f"call {self.call_id}: ring_timeout must be > 0")


@dataclass(frozen=True, slots=True)
class Connect:
    """Bridge the answered call ``call_id`` to ``agent``."""

    call_id: int
    agent: str


@dataclass(frozen=True, slots=True)
class Abandon:
    """No agent in time: play the message, or route to IVR, voicemail or ``target`` campaign.

    Every ``Abandon`` counts as an abandoned call for the campaign's regime, even when the
    caller is routed on: the regulations count a call not put through to a person within
    2 s of the greeting, whatever happens next.
    """

    call_id: int
    campaign: str
    route: AbandonRoute
    target: str | None = None

    def __post_init__(self) -> None:
        # a member, not a look-alike string: ``route is AbandonRoute.X`` is how it is read
        object.__setattr__(self, "route", AbandonRoute(self.route))
        if (self.route is AbandonRoute.CAMPAIGN) != (self.target is not None):
            raise ValueError(f"call {self.call_id}: a target campaign goes with route "
                             f"'campaign' and only with it (route={self.route})")


@dataclass(frozen=True, slots=True)
class HangUp:
    call_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class OfferPreview:
    """Show ``contact`` to ``agent``; without a decision by ``deadline`` the campaign's
    preview timeout action applies."""

    agent: str
    campaign: str
    contact: Contact
    deadline: float


@dataclass(frozen=True, slots=True)
class PreviewExpired:
    """The agent did not decide in time; a ``Dial`` follows when the campaign dials on
    timeout, otherwise the contact went back to the list."""

    agent: str
    contact_id: str
    dialed: bool


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """The final outcome of a call, for storage and reports.

    ``redial_not_before`` is set when a regulation forbids calling the number again
    earlier (UK: 72 h after an abandon, the next day after a machine).
    """

    call_id: int
    campaign: str
    contact: Contact
    outcome: CallOutcome
    redial_not_before: float | None = None

    def __post_init__(self) -> None:
        # a member, not a look-alike string: readers compare ``outcome is CallOutcome.X``
        object.__setattr__(self, "outcome", CallOutcome(self.outcome))


@dataclass(frozen=True, slots=True)
class ReturnContact:
    """A ``Dial`` the gateway could not place (no free channel): no attempt was made, so
    nothing is recorded against the contact; it goes back to the list, due again at
    ``not_before`` (issue 15, item 3)."""

    call_id: int
    campaign: str
    contact: Contact
    not_before: float
    reason: str


Action = (Dial | Connect | Abandon | HangUp | OfferPreview | PreviewExpired | RecordOutcome
          | ReturnContact)
