"""What a supervisor does to an agent's call: listen, whisper, barge, take over.

A supervisor's position is a call of its own (a phone on an FXS port, or an extension
dialled over the trunks), answered and idle. It is pointed at the *agent's* call
(``target``), the leg the agent talks on, which is bridged to the customer's call or in a
conference:

===========  ======================================  ===================================
mode         the supervisor hears                    the supervisor is heard by
===========  ======================================  ===================================
``listen``   the agent and what the agent hears       nobody (silent monitoring, 监听)
``whisper``  the agent and what the agent hears       the agent only (coaching, 密语/耳语)
``barge``    the agent and what the agent hears       the agent and the customer (强插)
===========  ======================================  ===================================

The mode changes on the fly (``listen -> whisper -> barge`` and back) without a gap:
it is one field read by the next tick's mix. **Takeover** (强拆) moves the customer to
the supervisor: the agent's call leaves the bridge (or the conference) and the
supervisor's call takes its place; the agent's call itself stays up, so a position
held for a whole login is not lost, and the agent goes on to its next call.

Why a module of its own: the rules above (who may supervise whom, who hears whom) are
one decision table; the engine keeps calls and the mixer sums audio, and both ask here.
Must be called on the engine's thread (``MediaEngine.submit``), as every engine operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.errors import CallStateError, InvalidRequest
from trunkline.gateway.media.calls import Call

if TYPE_CHECKING:
    from trunkline.gateway.media.engine import MediaEngine

__all__ = ["MODES", "monitor", "monitor_mix", "takeover"]

#: The supervisor's modes, from the least to the most heard.
MODES = ("listen", "whisper", "barge")

_LIVE = ("answered", "bridged")


def _check_supervisor(call: Call) -> None:
    """A supervisor's position must be up and free: a supervisor already talking to
    someone would put that someone into the agent's call."""
    if call.state not in _LIVE:
        raise CallStateError(f"supervisor call {call.id} is {call.state}, not answered")
    if call.bridged_to is not None:
        raise CallStateError(f"supervisor call {call.id} is bridged to {call.bridged_to}")
    if call.conference is not None:
        raise CallStateError(f"supervisor call {call.id} is in conference {call.conference}")


def _check_target(supervisor: Call, target: Call) -> None:
    if target.id == supervisor.id:
        raise InvalidRequest("a call cannot supervise itself")
    if target.state not in _LIVE:
        raise CallStateError(f"cannot supervise call {target.id}: it is {target.state}")
    if target.listening_to is not None:
        raise CallStateError(f"call {target.id} is itself supervising call "
                             f"{target.listening_to}")


def monitor(engine: MediaEngine, supervisor: int, target: int | None,
            mode: str = "listen") -> dict[str, Any]:
    """Point ``supervisor`` at ``target`` in ``mode``, or stop (``target`` None).

    Called again with the same target and another mode, it changes the mode at the next
    tick. Raises NotFound (no such call), InvalidRequest (unknown mode, itself),
    CallStateError (a position that is busy, a target that is not up)."""
    if mode not in MODES:
        raise InvalidRequest(f"mode {mode!r} is not one of {', '.join(MODES)}")
    sup = engine.call(supervisor)
    if target is None:
        previous = sup.listening_to
        sup.listening_to, sup.monitor_mode = None, "listen"
        if previous is not None:
            engine.publish({"event": "call.monitor", **sup.where(), "target": previous,
                            "mode": None})
        return {"call": supervisor, "listening_to": None, "mode": None}
    agent = engine.call(target)
    _check_supervisor(sup)
    _check_target(sup, agent)
    if any(c.listening_to == sup.id for c in engine.calls.values()):
        raise CallStateError(f"call {supervisor} is being supervised itself")
    sup.listening_to, sup.monitor_mode = target, mode
    engine.publish({"event": "call.monitor", **sup.where(), "target": target, "mode": mode})
    return {"call": supervisor, "listening_to": target, "mode": mode}


def takeover(engine: MediaEngine, supervisor: int, target: int) -> dict[str, Any]:
    """The supervisor's call takes the agent's place on the customer (强拆).

    The agent's call leaves the bridge (or the conference) and stays up, answered; the
    supervisor's call is bridged to the customer (or joins the conference). Other
    supervisors listening to the agent follow the call: they now monitor the supervisor
    who took it. Raises as :func:`monitor`, and CallStateError when the agent's call has
    nobody on it to take over."""
    sup, agent = engine.call(supervisor), engine.call(target)
    if sup.listening_to is not None and sup.listening_to != target:
        raise CallStateError(f"supervisor call {supervisor} is supervising call "
                             f"{sup.listening_to}, not {target}")
    _check_supervisor(sup)
    _check_target(sup, agent)
    sup.listening_to, sup.monitor_mode = None, "listen"
    peer: Call | None = None
    if agent.bridged_to is not None:
        peer = engine.calls.get(agent.bridged_to)
    if peer is not None:
        agent.bridged_to = None
        sup.bridged_to, peer.bridged_to = peer.id, sup.id
        engine._publish_state(agent, "answered", by=agent.answered_by or "unknown")
        engine._publish_state(sup, "bridged", peer=peer.id)
        engine._publish_state(peer, "bridged", peer=sup.id)
        result: dict[str, Any] = {"call": supervisor, "released": target, "peer": peer.id}
    elif agent.conference is not None:
        number = agent.conference
        agent.conference, sup.conference = None, number
        engine._publish_state(agent, "answered", by=agent.answered_by or "unknown")
        engine._publish_state(sup, "bridged", conference=number)
        result = {"call": supervisor, "released": target, "conference": number}
    else:
        raise CallStateError(f"call {target} is neither bridged nor in a conference: "
                             "there is no call to take over")
    for other in engine.calls.values():
        if other.listening_to == target and other is not sup:
            other.listening_to = supervisor
    engine.publish({"event": "call.takeover", **sup.where(), "released": target,
                    **{k: v for k, v in result.items() if k in ("peer", "conference")}})
    return result


def _heard_by(call: Call, calls: Mapping[int, Call], frames: np.ndarray,
              rows: Mapping[int, int], conferences: Mapping[int, np.ndarray]
              ) -> list[np.ndarray]:
    """What ``call``'s far end sends, and what ``call`` receives from the others on it."""
    row = rows.get(call.channel) if call.channel is not None else None
    if row is None:
        return []
    parts = [frames[row]]
    peer = calls.get(call.bridged_to) if call.bridged_to is not None else None
    peer_row = rows.get(peer.channel) if peer is not None and peer.channel is not None \
        else None
    if peer_row is not None:
        parts.append(frames[peer_row])
    if call.conference is not None and call.conference in conferences:
        parts.append(conferences[call.conference] - frames[row])
    return parts


def _others_on(call: Call, calls: Mapping[int, Call]) -> list[Call]:
    """The calls ``call`` talks to: its bridged peer or its conference's other members."""
    if call.bridged_to is not None:
        peer = calls.get(call.bridged_to)
        return [peer] if peer is not None else []
    if call.conference is not None:
        return [c for c in calls.values()
                if c.conference == call.conference and c is not call]
    return []


def monitor_mix(sup: Call, calls: Mapping[int, Call], frames: np.ndarray,
                rows: Mapping[int, int], out: np.ndarray,
                conferences: Mapping[int, np.ndarray]) -> None:
    """Add a supervisor's audio to this tick's ``out`` (what each channel is sent).

    The supervisor hears the agent and everything the agent hears (never itself);
    whispering, the agent also hears the supervisor; barging, everyone on the agent's
    call does. Nobody else hears a listening supervisor."""
    agent = calls.get(sup.listening_to) if sup.listening_to is not None else None
    sup_row = rows.get(sup.channel) if sup.channel is not None else None
    if agent is None or sup_row is None:
        return
    for part in _heard_by(agent, calls, frames, rows, conferences):
        out[sup_row] += part
    if sup.monitor_mode == "listen":
        return
    hearers = [agent] + (_others_on(agent, calls) if sup.monitor_mode == "barge" else [])
    for call in hearers:
        row = rows.get(call.channel) if call.channel is not None else None
        if row is not None:
            out[row] += frames[sup_row]
