"""Which campaigns each user may log in to at the desk, and at which level (schema 8).

An agent logs in to a campaign only if an admin assigned it (``trunkline users assign``
or the API); the level (high, standard, overflow: the routing preference of
:class:`~trunkline.dialer.vocab.AgentLevel`) is the one the engine gives the agent in
that campaign. A campaign a user is not assigned to is refused at the desk login, by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database
from trunkline.dialer.vocab import AgentLevel

LEVELS: tuple[str, ...] = tuple(level.value for level in AgentLevel)


@dataclass(frozen=True, slots=True)
class Assignment:
    """User ``user`` may log in to ``campaign`` at ``level``."""

    user: str
    campaign: str
    level: str
    assigned_at: float


def check_level(level: str) -> str:
    """``level`` if it is an agent level; else :class:`StoreError` naming them."""
    if level not in LEVELS:
        raise StoreError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
    return level


class Assignments(Database):
    """The users' campaigns (see :class:`~trunkline.dialer.store.Store`)."""

    def assign(self, user: str, campaign: str, level: str = "standard", *,
               now: float) -> Assignment:
        """Let ``user`` log in to ``campaign`` at ``level`` (a second assignment of the
        same campaign changes the level). :class:`StoreError` naming an unknown user,
        campaign or level."""
        check_level(level)
        with self.transaction() as db:
            user_id = self._user_id(user)
            campaign_id = self.campaign_id(campaign)
            db.execute("INSERT INTO user_campaign (user_id, campaign_id, level, assigned_at) "
                       "VALUES (?,?,?,?) ON CONFLICT (user_id, campaign_id) DO UPDATE SET "
                       "level=excluded.level, assigned_at=excluded.assigned_at",
                       (user_id, campaign_id, level, now))
        return Assignment(user, campaign, level, now)

    def unassign(self, user: str, campaign: str) -> bool:
        """Take ``campaign`` away from ``user``; False if it was not assigned."""
        with self.transaction() as db:
            user_id = self._user_id(user)
            campaign_id = self.campaign_id(campaign)
            return db.execute("DELETE FROM user_campaign WHERE user_id=? AND campaign_id=?",
                              (user_id, campaign_id)).rowcount > 0

    def assignments(self, user: str | None = None) -> list[Assignment]:
        """The assignments of ``user`` (of everyone when None), by user and campaign."""
        sql = ("SELECT u.name AS user, c.name AS campaign, a.level, a.assigned_at "
               "FROM user_campaign a JOIN user u ON u.id=a.user_id "
               "JOIN campaign c ON c.id=a.campaign_id")
        params: tuple[str, ...] = ()
        if user is not None:
            sql += " WHERE u.name=?"
            params = (user,)
        rows = self.query(sql + " ORDER BY u.name, c.name", params)
        return [Assignment(r["user"], r["campaign"], r["level"], r["assigned_at"])
                for r in rows]

    def assigned_level(self, user: str, campaign: str) -> str | None:
        """The level ``user`` may work ``campaign`` at, or None if not assigned."""
        rows = self.query("SELECT a.level FROM user_campaign a JOIN user u ON u.id=a.user_id "
                          "JOIN campaign c ON c.id=a.campaign_id WHERE u.name=? AND c.name=?",
                          (user, campaign))
        return rows[0]["level"] if rows else None

    def _user_id(self, name: str) -> int:
        rows = self.query("SELECT id FROM user WHERE name=?", (name,))
        if not rows:
            raise StoreError(f"no user {name!r}")
        return int(rows[0]["id"])
