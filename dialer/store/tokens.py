"""API tokens for machine clients (a CRM, a collection system): created by an admin,
bound to a user and a role no higher than the user's, shown once, revocable.

Only the SHA-256 of a token is stored: a token is 32 random bytes (256 bits), so a
slow password hash adds nothing (NIST SP 800-63B 5.1.1.2 asks for one on *chosen*
secrets), and a copy of the database gives no token. A token works while it is not
revoked, not expired, and its user is enabled with a role at least the token's.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database

#: Every token starts with this, so a leaked one is recognised by secret scanners.
PREFIX = "tlk_"
_RANK = {"agent": 0, "supervisor": 1, "admin": 2}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as listed (never the token itself)."""

    id: int
    name: str
    user: str
    role: str
    created_by: str | None
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "user": self.user, "role": self.role,
                "created_by": self.created_by, "created_at": self.created_at,
                "expires_at": self.expires_at, "last_used_at": self.last_used_at,
                "revoked_at": self.revoked_at}


class ApiTokens(Database):
    """API tokens (see :class:`~trunkline.dialer.store.Store`)."""

    def create_token(self, name: str, *, user: str, role: str, now: float,
                     created_by: str | None = None, expires_at: float | None = None
                     ) -> tuple[ApiToken, str]:
        """A new token for ``user`` acting as ``role``; returns it and the secret, which
        is not stored and cannot be shown again."""
        if not name or len(name) > 64:
            raise StoreError("a token needs a name of 1 to 64 characters")
        if role not in _RANK:
            raise StoreError(f"role must be agent, supervisor or admin, not {role!r}")
        if expires_at is not None and not math.isfinite(expires_at):
            # NaN is stored as NULL (never expires) and inf never comes: a token asked
            # to expire must (second red-team pass, issue 15)
            raise StoreError(f"a token's expiry must be a finite time, not {expires_at!r}")
        if expires_at is not None and expires_at <= now:
            raise StoreError("the token would be expired already (expires_at is past)")
        secret = PREFIX + secrets.token_urlsafe(32)
        with self.transaction() as db:
            owner = db.execute("SELECT role, disabled FROM user WHERE name=?",
                               (user,)).fetchone()
            if owner is None:
                raise StoreError(f"no user {user!r}")
            if owner["disabled"]:
                raise StoreError(f"user {user!r} is disabled")
            if _RANK[role] > _RANK[owner["role"]]:
                raise StoreError(f"a token of {user!r} ({owner['role']}) cannot have the "
                                 f"{role} role")
            if db.execute("SELECT 1 FROM api_token WHERE name=?", (name,)).fetchone():
                raise StoreError(f"a token named {name!r} exists (revoked tokens keep "
                                 "their names for the audit log)")
            row = db.execute(
                "INSERT INTO api_token (name, user, role, token_hash, created_by, "
                "created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
                (name, user, role, token_hash(secret), created_by, now, expires_at)
            ).lastrowid
        assert row is not None
        return self._token_by("id", row), secret

    def _token_by(self, column: str, value: Any) -> ApiToken:
        r = self.query(f"SELECT * FROM api_token WHERE {column}=?", (value,))[0]
        return ApiToken(r["id"], r["name"], r["user"], r["role"], r["created_by"],
                        r["created_at"], r["expires_at"], r["last_used_at"],
                        r["revoked_at"])

    def tokens(self) -> list[ApiToken]:
        return [self._token_by("id", r[0]) for r in
                self.query("SELECT id FROM api_token ORDER BY id")]

    def revoke_token(self, name: str, *, now: float) -> ApiToken:
        """Revoke the token ``name`` (at once: the next request with it is refused)."""
        with self.transaction() as db:
            changed = db.execute("UPDATE api_token SET revoked_at=? WHERE name=? AND "
                                 "revoked_at IS NULL", (now, name)).rowcount
            if not changed:
                known = db.execute("SELECT 1 FROM api_token WHERE name=?",
                                   (name,)).fetchone()
                raise StoreError(f"token {name!r} is already revoked" if known
                                 else f"no token {name!r}")
        return self._token_by("name", name)

    def token_user(self, secret: str, *, now: float,
                   touch_every: float = 60.0) -> tuple[ApiToken, str] | None:
        """The token ``secret`` names and the role it acts with now (the lower of the
        token's and its user's), or None if it is unknown, revoked, expired, or its user
        is disabled. Notes when it was used (at most once a ``touch_every`` seconds)."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        rows = self.query(
            "SELECT t.id, t.role, t.revoked_at, t.expires_at, t.last_used_at, u.role AS "
            "user_role, u.disabled FROM api_token t JOIN user u ON u.name=t.user "
            "WHERE t.token_hash=?", (token_hash(secret),))
        if not rows:
            return None
        r = rows[0]
        if r["revoked_at"] is not None or r["disabled"] or (
                r["expires_at"] is not None and r["expires_at"] <= now):
            return None
        if r["last_used_at"] is None or now - r["last_used_at"] >= touch_every:
            with self.transaction() as db:
                db.execute("UPDATE api_token SET last_used_at=? WHERE id=?", (now, r["id"]))
        role = min(r["role"], r["user_role"], key=_RANK.__getitem__)
        return self._token_by("id", r["id"]), role
