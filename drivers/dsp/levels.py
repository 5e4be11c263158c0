"""Signal levels in dBm0, the unit telephony specifications use.

0 dBm0 is the power of the digital milliwatt: a sine whose level is 3.14 dB below the
largest sine G.711 A-law can carry (ITU-T G.711 section 4; mu-law's overload point is
+3.17 dBm0, within 0.03 dB). With int16 full scale that is a peak amplitude of about
22,870.
"""

from __future__ import annotations

import numpy as np

#: Peak amplitude of a sine at 0 dBm0, in int16 units.
DBM0_PEAK = 32767.0 * 10 ** (-3.14 / 20)
#: RMS of a sine at 0 dBm0.
DBM0_RMS = DBM0_PEAK / np.sqrt(2)


def amplitude(dbm0: float) -> float:
    """Peak amplitude of a sine at ``dbm0``."""
    return DBM0_PEAK * 10 ** (dbm0 / 20)


def power_dbm0(samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean power of ``samples`` along ``axis``, in dBm0 (-inf for silence)."""
    x = np.asarray(samples, dtype=np.float64)
    ms = np.mean(x * x, axis=axis)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(ms / DBM0_RMS**2)
