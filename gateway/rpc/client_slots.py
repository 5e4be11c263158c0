"""Who may take one of the gateway's client slots: the total, per peer, and the admin reserve.

Why: an idle or leaking client holding a slot for ever, 256 times over, locked every
other client out until a restart (issue 15). So at most ``max_clients`` connections; at
most ``per_peer`` (None: no limit) from one peer, a Unix user id (SO_PEERCRED, which the
client cannot forge) or a TCP address, so one leaking process or hostile host fills only
its own share; and the last ``admin_reserved`` slots only for admin-role connections,
the operator's way in when the others are full (PostgreSQL's reserved superuser
connections). A TCP client is not admin until it authenticates, so it takes a general
slot meanwhile. Idle authenticated clients keep their slot: monitoring clients are quiet
by nature.

Sans-IO: the server asks :meth:`ClientSlots.refusal` before counting a connection in,
and says when a peer's connection is taken (:meth:`take`) and given back (:meth:`give`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from trunkline.errors import ConfigError

__all__ = ["DEFAULT_ADMIN_RESERVED_SLOTS", "DEFAULT_MAX_CLIENTS_PER_PEER", "ClientSlots"]

#: Most connections one peer may hold: a quarter of the default max_clients, so that no
#: one peer can take every slot.
DEFAULT_MAX_CLIENTS_PER_PEER = 64
#: Slots only admin-role connections may take; a connection is not admin until it says
#: so. At most an eighth of max_clients unless given.
DEFAULT_ADMIN_RESERVED_SLOTS = 4


class ClientSlots:
    """The slot policy and the connections counted per peer.

    Raises ConfigError for a ``per_peer`` under 1 or an ``admin_reserved`` outside
    0..max_clients - 1 (None: the default, kept small beside a small ``max_clients``).
    """

    def __init__(self, max_clients: int, per_peer: int | None = DEFAULT_MAX_CLIENTS_PER_PEER,
                 admin_reserved: int | None = None) -> None:
        if per_peer is not None and per_peer < 1:
            raise ConfigError(f"max_clients_per_peer must be >= 1, not {per_peer!r}",
                              key="max_clients_per_peer")
        if admin_reserved is None:
            admin_reserved = min(DEFAULT_ADMIN_RESERVED_SLOTS, max_clients // 8)
        if not 0 <= admin_reserved < max_clients:
            raise ConfigError(f"admin_reserved_slots must be 0..max_clients - 1 "
                              f"({max_clients - 1}), not {admin_reserved!r}",
                              key="admin_reserved_slots")
        self.max_clients = max_clients
        self.per_peer = per_peer
        self.admin_reserved = admin_reserved
        self._peers: Counter[str] = Counter()

    def refusal(self, peer: str | None, admin: bool, in_use: int,
                general_in_use: Callable[[], int]) -> str:
        """Why a connection from ``peer`` (None: not counted per peer) may not have a
        slot while ``in_use`` are taken ("" when it may); ``general_in_use`` counts the
        non-admin connections, asked only when the reserve matters."""
        if in_use >= self.max_clients:
            return f"too many clients (limit {self.max_clients})"
        if peer is not None and self.per_peer is not None and \
                self._peers[peer] >= self.per_peer:
            return (f"too many connections from {peer} (limit {self.per_peer} per peer; "
                    f"{self.max_clients} in all)")
        general = self.max_clients - self.admin_reserved
        if not admin and general < self.max_clients and general_in_use() >= general:
            return (f"the general slots are full ({general} of {self.max_clients}; "
                    f"the last {self.admin_reserved} are kept for admin connections)")
        return ""

    def take(self, peer: str) -> None:
        """Count a connection of ``peer`` in."""
        self._peers[peer] += 1

    def give(self, peer: str) -> None:
        """Count a connection of ``peer`` out (its peer forgotten at none)."""
        self._peers[peer] -= 1
        if self._peers[peer] <= 0:
            del self._peers[peer]
