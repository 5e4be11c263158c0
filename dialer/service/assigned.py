"""Which campaigns a user may log in to at the desk: the admin's assignments (issue 17).

An agent logs in only to campaigns assigned to it (``trunkline users assign`` or
``PUT /api/users/{name}/campaigns/{campaign}``), at the assigned level: the level is
the team lead's decision (who takes a campaign's calls first), not the agent's.
Supervisors and admins may log in to any campaign at any level (they stand in for a
missing agent without an admin's help).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trunkline.dialer.errors import DialerError


class NotAssigned(DialerError):
    """A desk login names a campaign (or a level) the user is not assigned."""


def assigned_campaigns(store: Any, session: Any,
                       wanted: Sequence[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    """The ``(campaign, level)`` pairs of a desk login as they will be used; a level not
    given is the assigned one. :class:`NotAssigned` naming the first campaign refused."""
    out: list[tuple[str, str]] = []
    for name, level in wanted:
        if session.role in ("supervisor", "admin"):
            out.append((name, level or "standard"))
            continue
        assigned = store.assigned_level(session.user, name)
        if assigned is None:
            raise NotAssigned(f"campaign {name!r} is not assigned to {session.user} (an "
                              f"admin assigns it: trunkline users assign {session.user} "
                              f"{name})")
        if level is not None and level != assigned:
            raise NotAssigned(f"{session.user} is assigned to campaign {name!r} at level "
                              f"{assigned}, not {level}")
        out.append((name, assigned))
    return tuple(out)
