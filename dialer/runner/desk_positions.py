"""An agent's position, rung when the agent logs in to the desk and dropped at logout.

Why a module of its own: a position is a call the runner places for the agent (an FXS
port's channel, a number over the ``group`` trunks, or the browser softphone) and holds
as its audio leg for the shift; ringing it can fail in ways that must fail that login
only (the position is busy, nobody lifts it within :attr:`DeskPositions.
position_ring_timeout`, the gateway is too slow to reply), never the runner. What the
position's call does once it is up is dispatched in :mod:`desk_dispatch`.
"""

from __future__ import annotations

from typing import Any

from trunkline.dialer.desk.outputs import DropPosition, RingPosition
from trunkline.dialer.runner.campaign_runner import _Position
from trunkline.dialer.runner.desk_feed import DeskFeed
from trunkline.dialer.runner.tags import PREFIX as TAG_PREFIX
from trunkline.gateway.rpc.errors import CallTimeout, RpcError

#: Why a position that was rung never answered, by the gateway's outcome.
UNANSWERED = {"busy": "the position is busy", "no_answer": "the position did not answer",
              "rejected": "the position refused the call"}


class DeskPositions(DeskFeed):
    """Ringing, dropping and failing agents' positions (see the module docstring)."""

    #: How long an agent's position rings before its login fails (seconds).
    position_ring_timeout = 60.0
    _ring_expired: set[int]                # positions we stopped ringing
    _ring_seq: int
    _late_rings: dict[str, bool]           # tag -> hung up: rings whose reply was lost

    def _ring(self, op: RingPosition, now: float) -> list[Any]:
        self._ring_seq += 1
        tag = f"{TAG_PREFIX}:desk-position:{self._ring_seq}"  # not a tag settling knows
        try:
            if op.position == "fxs":
                channel = int(op.address)
                gw = self.gateway.originate(self.agent_number, channel=channel,
                                            ring_timeout=60.0, tag=tag)
            elif op.position == "browser":   # the softphone: the agent's page answers
                channel = -1
                gw = self.gateway.webrtc_open(op.agent, ring_timeout=60.0)
            else:
                channel = -1
                gw = self.gateway.originate(op.address, group=self.group, ring_timeout=60.0,
                                            tag=tag)
        except RpcError as err:
            return self.desk.position_lost(op.agent, now, f"cannot ring the position: {err}")
        except CallTimeout as err:
            # A gateway slow to reply (overloaded) fails this login only, not the whole
            # runner; a call it placed all the same is hung up when an event shows its tag.
            self._late_rings[tag] = False
            return self.desk.position_lost(
                op.agent, now, f"the gateway did not reply in time ({err}); log in again")
        position = _Position(gw, op.agent, channel)
        self._positions[gw] = position
        self.agent_legs[op.agent] = position
        # an FXS phone rings until it is lifted (the gateway never gives up on it)
        self._schedule(now + self.position_ring_timeout, "position_ring", gw)
        return []

    def _drop_position(self, op: DropPosition) -> list[Any]:
        position = self.agent_legs.get(op.agent)
        if position is not None:
            self._hangup(position.gw)
        return []

    def _on_late_ring(self, event: Any) -> None:
        """A position rung while the gateway was too slow to reply: no agent waits for
        it (its login failed), so it is hung up, once; forgotten when it has ended."""
        tag = event["tag"]
        if event.get("event") == "call.state" and event.get("state") == "hungup":
            del self._late_rings[tag]
        elif not self._late_rings[tag] and isinstance(event.get("call"), int):
            self._late_rings[tag] = True
            self._hang_up(event["call"])

    def _unanswered(self, position: _Position, event: Any) -> str:
        """Why a position that never answered failed its agent's login."""
        if position.gw in self._ring_expired:
            self._ring_expired.discard(position.gw)
            return f"the position did not answer within {self.position_ring_timeout:g} s"
        outcome = event.get("outcome") or event.get("cause") or "no answer"
        return UNANSWERED.get(str(outcome), f"the position could not be reached ({outcome})")
