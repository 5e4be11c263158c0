"""The per-call state machine of :class:`~trunkline.drivers.signalling.pri.span.PriSpan`.

libpri runs the Q.931 protocol state machine; this table is the *application* view of
a call, checked on every request (so ``answer`` on an outgoing call is refused with a
clear error instead of a protocol error on the wire) and advanced by libpri's events.
All transitions live here, one row each, with the Q.931 (05/98) clause beside it.
States carry the Q.931 user-side state number they follow (U0..U19).
"""

from __future__ import annotations

from enum import Enum
from typing import Final

__all__ = ["TRANSITIONS", "CallState", "Trigger", "next_state"]


class CallState(Enum):
    NULL = "U0"
    CALL_INITIATED = "U1"            # SETUP sent
    OUTGOING_PROCEEDING = "U3"       # CALL PROCEEDING received
    CALL_DELIVERED = "U4"            # ALERTING received
    CALL_PRESENT = "U6"              # SETUP received
    CALL_RECEIVED = "U7"             # ALERTING sent
    INCOMING_PROCEEDING = "U9"       # CALL PROCEEDING sent
    ACTIVE = "U10"                   # CONNECT received / sent
    DISCONNECT_INDICATION = "U12"    # DISCONNECT received
    RELEASING = "U19"                # DISCONNECT/RELEASE sent, awaiting completion
    ENDED = "end"                    # call record gone; channel free


class Trigger(Enum):
    # local requests
    SETUP = "setup"
    PROCEEDING = "proceeding"
    ALERTING = "alerting"
    PROGRESS = "progress"
    ANSWER = "answer"
    HANGUP = "hangup"
    # remote events (libpri PRI_EVENT_*)
    RING = "RING"
    R_PROCEEDING = "PROCEEDING"
    R_SETUP_ACK = "SETUP_ACK"
    R_RINGING = "RINGING"
    R_PROGRESS = "PROGRESS"
    R_ANSWER = "ANSWER"
    R_CONNECT_ACK = "CONNECT_ACK"
    R_HANGUP_REQ = "HANGUP_REQ"
    R_HANGUP = "HANGUP"
    R_HANGUP_ACK = "HANGUP_ACK"
    R_RESTART = "RESTART"


S = CallState
T = Trigger

#: (state, trigger) -> (next state, Q.931 clause)
TRANSITIONS: Final[dict[tuple[CallState, Trigger], tuple[CallState, str]]] = {
    # --- outgoing call (Q.931 5.1) ---
    (S.NULL, T.SETUP): (S.CALL_INITIATED, "5.1.1 call request"),
    (S.CALL_INITIATED, T.R_PROCEEDING): (S.OUTGOING_PROCEEDING, "5.1.5.1 call proceeding"),
    (S.CALL_INITIATED, T.R_SETUP_ACK): (S.OUTGOING_PROCEEDING, "5.1.3 overlap sending"),
    (S.CALL_INITIATED, T.R_RINGING): (S.CALL_DELIVERED, "5.1.7 call confirmation"),
    (S.CALL_INITIATED, T.R_PROGRESS): (S.CALL_INITIATED, "5.1.6 interworking"),
    (S.CALL_INITIATED, T.R_ANSWER): (S.ACTIVE, "5.1.8 call connected"),
    (S.OUTGOING_PROCEEDING, T.R_PROCEEDING): (S.OUTGOING_PROCEEDING, "5.1.5.2 proceeding"),
    (S.OUTGOING_PROCEEDING, T.R_RINGING): (S.CALL_DELIVERED, "5.1.7 call confirmation"),
    (S.OUTGOING_PROCEEDING, T.R_PROGRESS): (S.OUTGOING_PROCEEDING, "5.1.6 interworking"),
    (S.OUTGOING_PROCEEDING, T.R_ANSWER): (S.ACTIVE, "5.1.8 call connected"),
    (S.CALL_DELIVERED, T.R_PROGRESS): (S.CALL_DELIVERED, "5.1.6 interworking"),
    (S.CALL_DELIVERED, T.R_RINGING): (S.CALL_DELIVERED, "5.1.7 repeated alerting"),
    (S.CALL_DELIVERED, T.R_ANSWER): (S.ACTIVE, "5.1.8 call connected"),
    # --- incoming call (Q.931 5.2) ---
    (S.NULL, T.RING): (S.CALL_PRESENT, "5.2.1 incoming call"),
    (S.CALL_PRESENT, T.PROCEEDING): (S.INCOMING_PROCEEDING, "5.2.5.1 call proceeding"),
    (S.CALL_PRESENT, T.ALERTING): (S.CALL_RECEIVED, "5.2.5.2 call confirmation"),
    (S.CALL_PRESENT, T.PROGRESS): (S.CALL_PRESENT, "5.2.6 interworking"),
    (S.CALL_PRESENT, T.ANSWER): (S.ACTIVE, "5.2.7 call accept"),
    (S.INCOMING_PROCEEDING, T.ALERTING): (S.CALL_RECEIVED, "5.2.5.2 call confirmation"),
    (S.INCOMING_PROCEEDING, T.PROGRESS): (S.INCOMING_PROCEEDING, "5.2.6 interworking"),
    (S.INCOMING_PROCEEDING, T.ANSWER): (S.ACTIVE, "5.2.7 call accept"),
    (S.CALL_RECEIVED, T.PROGRESS): (S.CALL_RECEIVED, "5.2.6 interworking"),
    (S.CALL_RECEIVED, T.ANSWER): (S.ACTIVE, "5.2.7 call accept"),
    (S.ACTIVE, T.R_CONNECT_ACK): (S.ACTIVE, "5.2.8 active indication"),
    (S.ACTIVE, T.PROGRESS): (S.ACTIVE, "5.2.6 interworking"),
    # --- clearing (Q.931 5.3), restart (5.5) ---
    (S.DISCONNECT_INDICATION, T.HANGUP): (S.RELEASING, "5.3.4 clearing by the network"),
    (S.RELEASING, T.HANGUP): (S.RELEASING, "5.3.5 clear collision"),
    (S.RELEASING, T.R_HANGUP_REQ): (S.RELEASING, "5.3.5 clear collision"),
    (S.RELEASING, T.R_HANGUP_ACK): (S.ENDED, "5.3.3 clearing by the user completed"),
    (S.RELEASING, T.R_HANGUP): (S.ENDED, "5.3.3 release received"),
    (S.DISCONNECT_INDICATION, T.R_HANGUP): (S.ENDED, "5.3.4 release received"),
    (S.DISCONNECT_INDICATION, T.R_HANGUP_ACK): (S.ENDED, "5.3.4 release completed"),
}

_LIVE = (S.CALL_INITIATED, S.OUTGOING_PROCEEDING, S.CALL_DELIVERED, S.CALL_PRESENT,
         S.CALL_RECEIVED, S.INCOMING_PROCEEDING, S.ACTIVE)
for _state in _LIVE:
    TRANSITIONS[(_state, T.HANGUP)] = (S.RELEASING, "5.3.3 clearing by the user")
    TRANSITIONS[(_state, T.R_HANGUP_REQ)] = (S.DISCONNECT_INDICATION,
                                             "5.3.4 clearing by the network (DISCONNECT)")
    TRANSITIONS[(_state, T.R_HANGUP)] = (S.ENDED, "5.3.2 exception: RELEASE/REL COMPLETE")
for _state in (*_LIVE, S.DISCONNECT_INDICATION, S.RELEASING):
    TRANSITIONS[(_state, T.R_RESTART)] = (S.ENDED, "5.5.2 receipt of RESTART")


def next_state(state: CallState, trigger: Trigger) -> tuple[CallState, str] | None:
    """The row for ``(state, trigger)``, or None when the table has none."""
    return TRANSITIONS.get((state, trigger))
