"""The call state table: what it allows, and what it refuses with a clear error."""

from __future__ import annotations

import pytest

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing.calls import TRANSITIONS, Call
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import CallState

TRIGGERS = sorted({trigger for _, trigger in TRANSITIONS})


def call() -> Call:
    return Call(1, "sales", "sales", Contact("c1", "+8613800000000", "sales"), placed=0.0)


def test_done_is_final_and_every_state_reaches_it() -> None:
    assert not [key for key in TRANSITIONS if key[0] is CallState.DONE]
    for state in (CallState.DIALING, CallState.WAITING, CallState.CONNECTED):
        assert TRANSITIONS[(state, "hangup")] is CallState.DONE


@pytest.mark.parametrize("state", list(CallState))
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_fire_follows_the_table_and_refuses_the_rest(state: CallState,
                                                     trigger: str) -> None:
    c = call()
    c.state = state
    expected = TRANSITIONS.get((state, trigger))
    if expected is None:
        words = trigger.replace("_", " ")
        with pytest.raises(DialerStateError,
                           match=f"cannot {words} call 1 \\(\\+8613800000000\\): "
                                 f"state is {state}"):
            c.fire(trigger)
        assert c.state is state
    else:
        assert c.fire(trigger) is expected and c.state is expected
