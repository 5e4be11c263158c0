"""How a receiver knows a webhook came from this dialer and was not replayed.

Each request carries::

    X-Trunkline-Event: disposition | call.result
    X-Trunkline-Delivery: <delivery id>          (the same on every retry: de-duplicate)
    X-Trunkline-Timestamp: <unix seconds of this attempt>
    X-Trunkline-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

HMAC-SHA256 (RFC 2104 with FIPS 180-4's SHA-256) over the timestamp and the exact body
bytes: the receiver computes the same over what it received, compares in constant time,
and refuses a timestamp older than a few minutes (a captured request replayed later no
longer verifies, since the timestamp is signed with the body).
"""

from __future__ import annotations

import hashlib
import hmac

#: The receiver's default tolerance for the timestamp (seconds either way).
TOLERANCE = 300.0


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Trunkline-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, timestamp: int, body: bytes, *, kind: str,
            delivery: int) -> dict[str, str]:
    """Every header of one webhook request."""
    return {"Content-Type": "application/json", "X-Trunkline-Event": kind,
            "X-Trunkline-Delivery": str(delivery),
            "X-Trunkline-Timestamp": str(timestamp),
            "X-Trunkline-Signature": signature(secret, timestamp, body),
            "User-Agent": "trunkline-webhooks/1"}


def verify(secret: str, header: str, timestamp: str, body: bytes, *, now: float,
           tolerance: float = TOLERANCE) -> bool:
    """A receiver's check (also used by the tests): the signature matches and the
    timestamp is within ``tolerance`` of ``now``."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(header, signature(secret, sent, body))
