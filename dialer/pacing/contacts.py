"""Contacts and the provider the engine draws them from.

The engine pulls the next contact of a campaign when it decides to dial; it never owns the
list. The simulator uses :class:`SyntheticContacts` (an endless, numbered list) or
:class:`ContactQueue` (a finite FIFO, used in tests); the durable storage layer will
implement :class:`ContactProvider` over SQLite. A provider must never hand out the same
contact twice while the engine holds it; the engine still guards against duplicates by
number, because lists imported from hosts do contain them (field notes, "pre-processing").
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Contact:
    """One person to call. ``number`` is the key for redial lockouts and duplicate checks."""

    id: str
    number: str
    campaign: str
    preview: bool = False  # show to an agent first, even inside a predictive campaign

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a contact needs a non-empty id")
        if not self.number:
            raise ValueError(f"contact {self.id!r} has an empty number")
        if not self.campaign:
            raise ValueError(f"contact {self.id!r} has no campaign")


@runtime_checkable
class ContactProvider(Protocol):
    """Where the engine gets contacts from and gives back the ones it cannot dial yet."""

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        """The next contact due for ``campaign`` at ``now``, or None when there is none."""
        ...

    def defer(self, contact: Contact, until: float) -> None:
        """Take ``contact`` back; offer it again no earlier than ``until``."""
        ...


class ContactQueue:
    """A finite FIFO per campaign with deferral; for tests and small simulations."""

    def __init__(self, contacts: list[Contact] | None = None) -> None:
        self._queues: dict[str, deque[Contact]] = {}
        self._deferred: list[tuple[float, int, Contact]] = []
        self._seq = itertools.count()
        for contact in contacts or ():
            self.add(contact)

    def add(self, contact: Contact) -> None:
        self._queues.setdefault(contact.campaign, deque()).append(contact)

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        while self._deferred and self._deferred[0][0] <= now:
            _, _, contact = heapq.heappop(self._deferred)
            self.add(contact)
        queue = self._queues.get(campaign)
        return queue.popleft() if queue else None

    def defer(self, contact: Contact, until: float) -> None:
        heapq.heappush(self._deferred, (until, next(self._seq), contact))

    def __len__(self) -> int:
        return sum(map(len, self._queues.values())) + len(self._deferred)


@dataclass
class SyntheticContacts:
    """An endless list: contact ``n`` of campaign C has number ``C-n``.

    ``preview_every`` marks every n-th contact as a preview record (mixed campaigns).
    """

    preview_every: int = 0
    _counter: itertools.count = field(default_factory=itertools.count)
    _returned: ContactQueue = field(default_factory=ContactQueue)

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        contact = self._returned.next_contact(campaign, now)
        if contact is not None:
            return contact
        n = next(self._counter)
        preview = self.preview_every > 0 and n % self.preview_every == self.preview_every - 1
        return Contact(id=f"{campaign}-{n}", number=f"{campaign}-{n}", campaign=campaign,
                       preview=preview)

    def defer(self, contact: Contact, until: float) -> None:
        self._returned.defer(contact, until)
