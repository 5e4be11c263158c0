"""Correlation tags on the calls a runner places (``call.originate``'s ``tag``).

The gateway gives every event of a tagged call, and its ``calls.list`` row, the tag the
client chose. A runner tags what it places so that, started again after a ``kill -9``,
it finds its own calls without knowing their ids (issue 15, red-team 5): the agent
positions the dead run left up (else every position is ``conflict: channel is busy``
and the new run dials nothing), and the customer calls of attempts it left ``dialing``
(even one whose call id never reached the store: the process died between the
originate's reply and ``set_call_ref``).

Two kinds, both short and printable (the gateway takes at most 128 characters):

- ``trunkline.dialer:attempt:<store>:<attempt id>``: a customer call; ``store`` is the
  campaign database's random name (:attr:`Store.identity
  <trunkline.dialer.store.database.Database.identity>`) and the attempt id is that
  database's, so a runner settles only the attempts its own campaigns left open in its
  own database: two dialers with databases of their own on one gateway have the same
  attempt ids, and neither may hang up the other's customers;
- ``trunkline.dialer:position:<owner>:<channel>``: an agent position; ``owner`` is a
  digest of the database's name and the runner's campaign names (:func:`owner_of`), so a
  runner clears only the positions a run of the same campaigns from the same database
  held, never another runner's.

Tags of the earlier form ``trunkline.dialer:attempt:<attempt id>`` (no database: a call
placed by a trunkline before this one) still parse, with ``store`` None; settling takes
them as its own, as that version did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "trunkline.dialer"


@dataclass(frozen=True, slots=True)
class Tag:
    """A parsed tag: ``kind`` is ``attempt`` or ``position``; ``key`` the attempt id or
    the position's channel; ``owner`` the position's owner (None for attempts);
    ``store`` the database an attempt is of (None for positions and earlier tags)."""

    kind: str
    key: int
    owner: str | None = None
    store: str | None = None

    def is_attempt_of(self, store: str) -> bool:
        """An attempt of the database named ``store`` (or of an earlier, unnamed tag)."""
        return self.kind == "attempt" and self.store in (None, store)


def owner_of(campaigns: Iterable[str], store: str) -> str:
    """A short digest naming a runner by its database and campaigns (order does not
    matter)."""
    joined = "\n".join([store, *sorted(set(campaigns))])
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def attempt_tag(store: str, attempt: int) -> str:
    return f"{PREFIX}:attempt:{store}:{attempt}"


def position_tag(owner: str, channel: int) -> str:
    return f"{PREFIX}:position:{owner}:{channel}"


def parse_tag(tag: object) -> Tag | None:
    """The runner's tag in ``tag``, or None (no tag, another client's, malformed)."""
    if not isinstance(tag, str) or not tag.startswith(PREFIX + ":"):
        return None
    parts = tag[len(PREFIX) + 1:].split(":")
    try:
        if parts[0] == "attempt" and len(parts) == 3 and parts[1]:
            return Tag("attempt", int(parts[2]), store=parts[1])
        if parts[0] == "attempt" and len(parts) == 2:
            return Tag("attempt", int(parts[1]))
        if parts[0] == "position" and len(parts) == 3 and parts[1]:
            return Tag("position", int(parts[2]), parts[1])
    except ValueError:
        return None
    return None
