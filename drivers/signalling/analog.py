"""What the analog modules share: ports that are always open, hook and dial actions."""

from __future__ import annotations

from typing import ClassVar

from trunkline.drivers.model import ChannelState
from trunkline.drivers.signalling.actions import Action, Dial, Hook
from trunkline.drivers.signalling.base import Signalling
from trunkline.drivers.signalling.leg import Leg, Output

__all__ = ["AnalogSignalling"]


class AnalogSignalling(Signalling):
    """A span of analog ports (FXO or FXS), one call per port."""

    #: Analog ports move frames all the time: their ring and hook events must be seen,
    #: and a line must be read to hear dial tone.
    always_open: ClassVar[bool] = True

    def can_place(self, channel: int | None) -> bool:
        return channel is not None and self.card.channel_state(channel) is ChannelState.IDLE

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        """DAHDI_HOOK and DAHDI_DIAL on the leg's port."""
        assert leg.channel is not None
        if isinstance(action, Hook):
            self.card.hook(leg.channel, action.op)
        elif isinstance(action, Dial):
            self.card.dial(leg.channel, action.digits, action.mode)
        else:
            raise TypeError(f"an analog port cannot {type(action).__name__}")
        return []
