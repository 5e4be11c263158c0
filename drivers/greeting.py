"""A simple answer classifier: a person's short "hello" or a machine's long greeting.

Used by the call controllers until the detector's answering-machine detection is wired
in. The rule is app_amd's in spirit (shared/reference/detection-anchors.md): speech that
runs on past a person's greeting is a machine; a short greeting followed by a pause is
a person.
"""

from __future__ import annotations

import numpy as np
from trunkline.drivers.model import TICK_SECONDS

#: Speech shorter than this before a pause is a person's "hello" (Asterisk app_amd's
#: default greeting limit is 1.5 s; ours allows a slower "喂，你好").
HUMAN_GREETING_MAX = 2.2
#: The pause that ends a greeting (app_amd: afterGreetingSilence 800 ms).
GREETING_PAUSE = 0.6
#: Frames louder than this (mean square, about -36 dBm0) are speech, not line noise.
VOICED_POWER = 4.0e3


class GreetingMeter:
    """Feed it the frames after answer; it says ``human`` or ``machine`` once it knows."""

    def __init__(self) -> None:
        self.greeting = 0.0
        self.silence = 0.0

    def feed(self, frame: np.ndarray) -> tuple[str, str] | None:
        """(decision, reason), or None while undecided."""
        power = float(np.mean(frame.astype(np.float64) ** 2))
        if power > VOICED_POWER:
            self.greeting += TICK_SECONDS
            self.silence = 0.0
            if self.greeting > HUMAN_GREETING_MAX:
                return "machine", "long_greeting"
        else:
            self.silence += TICK_SECONDS
            if self.greeting > 0.1 and self.silence >= GREETING_PAUSE:
                return "human", "short_greeting"
        return None
