"""The chan_dahdi per-port settings the DAHDI backend applies itself: gains, answer on
polarity and caller ID.

``config import`` keeps chan_dahdi.conf's ``rxgain``, ``txgain``,
``answeronpolarityswitch`` and ``usecallerid``/``cidsignalling``/``cidstart`` on the
channel groups (:mod:`.chandahdi`). chan_dahdi applies
them when it builds each channel, and an installer moving a site from Asterisk expects
the same lines to sound and answer the same way under trunkline, so the backend applies
them too:

- **gains** in dB become the kernel's byte-to-byte tables (``DAHDI_SETGAINS``), built
  as chan_dahdi's ``fill_rxgain``/``fill_txgain`` build them: each G.711 code decoded to
  linear, scaled by 10^(dB/20), clipped to 16 bits and encoded again in the channel's
  law; 0 dB is the identity table (the kernel's ``defgain``), so nothing is sent;
- ``answeronpolarityswitch`` and caller ID (``usecallerid`` with ``cidsignalling``
  ``bell`` or ``v23``) become the FXO line's
  :class:`~trunkline.drivers.model.LineOptions` (a gateway ``[[line]]`` setting still
  overrides them).

Values are read as chan_dahdi reads them (gains with ``%f``, booleans with Asterisk's
``ast_true``/``ast_false``), except that a value neither reads is an error naming the
channel and the value, where chan_dahdi would quietly take 0 or "no".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trunkline.drivers.backends.dahdi.sysconf import DahdiConfig
from trunkline.drivers.dsp import g711
from trunkline.errors import ConfigError

__all__ = ["IDENTITY", "PortSettings", "gain_table", "port_settings"]

#: The kernel's ``defgain``: the table of a channel whose gains nobody set.
IDENTITY = bytes(range(256))
#: chan_dahdi.conf.sample: gains are "in dB"; beyond ±24 dB a G.711 channel is all
#: clipping or all silence, so a larger value is taken as a typing mistake.
GAIN_LIMIT_DB = 24.0
#: Asterisk's ast_true / ast_false (main/utils.c).
_TRUE = {"yes", "true", "y", "t", "1", "on"}
_FALSE = {"no", "false", "n", "f", "0", "off"}
#: chan_dahdi's cidsignalling words -> our FSK standards (drivers/dsp/callerid.py).
_CID_SIGNALLING = {"bell": "bell202", "v23": "v23"}


@dataclass(frozen=True, slots=True)
class PortSettings:
    """What chan_dahdi would apply to one channel (defaults: nothing)."""

    rxgain: float = 0.0
    txgain: float = 0.0
    answer_on_polarity: bool | None = None
    """None: not said in chan_dahdi.conf (the card's default stands)."""
    caller_id: str | None = None
    """The FSK standard caller ID comes in (``bell202``, ``v23``), ``""`` for none;
    None: not said."""

    @property
    def has_gain(self) -> bool:
        return bool(self.rxgain or self.txgain)


def gain_table(db: float, law: str) -> bytes:
    """The 256-entry table that applies ``db`` to G.711 codes of ``law`` (``alaw`` or
    ``ulaw``), as chan_dahdi's fill_rxgain/fill_txgain compute it."""
    if not db:
        return IDENTITY
    codes = np.arange(256, dtype=np.uint8)
    linear = g711.decode(codes, "ulaw" if law == "ulaw" else "alaw").astype(np.float64)
    scaled = np.clip(linear * 10.0 ** (db / 20.0), -32768, 32767)
    # chan_dahdi truncates the float into an int (``k = (float)k * linear_gain``).
    return g711.encode(np.trunc(scaled).astype(np.int16),
                       "ulaw" if law == "ulaw" else "alaw").astype(np.uint8).tobytes()


def port_settings(config: DahdiConfig | None) -> dict[int, PortSettings]:
    """Each channel's settings from the chan_dahdi keys kept on its group; channels with
    none of them are left out. Raises ConfigError naming a value neither chan_dahdi's
    ``%f`` nor ``ast_true`` would read."""
    out: dict[int, PortSettings] = {}
    if config is None:
        return out
    for group in config.groups:
        opts = group.options
        if not {"rxgain", "txgain", "answeronpolarityswitch", "usecallerid"} & opts.keys():
            continue
        where = f"channels {group.channels[0]}-{group.channels[-1]}" \
            if len(group.channels) > 1 else f"channel {group.channels[0]}"
        settings = PortSettings(
            rxgain=_gain(opts.get("rxgain", "0"), "rxgain", where),
            txgain=_gain(opts.get("txgain", "0"), "txgain", where),
            answer_on_polarity=_flag(opts.get("answeronpolarityswitch"),
                                     "answeronpolarityswitch", where),
            caller_id=_caller_id(opts, where))
        for channel in group.channels:
            out[channel] = settings
    return out


def _caller_id(opts: dict[str, str], where: str) -> str | None:
    """chan_dahdi's ``usecallerid`` with ``cidsignalling`` (default ``bell``) and
    ``cidstart`` (default ``ring``). Caller ID sent before the first ring (DTMF, or FSK
    after a polarity reversal) needs the line listened to while idle, which trunkline
    does not do yet: such a setting is an error rather than a line that never shows the
    caller."""
    use = _flag(opts.get("usecallerid"), "usecallerid", where)
    if not use:
        return None if use is None else ""
    signalling = opts.get("cidsignalling", "bell").strip().lower()
    start = opts.get("cidstart", "ring").strip().lower()
    if start != "ring":
        raise ConfigError(f"{where}: cidstart = {start!r}: caller ID before the first ring "
                          "is not supported (only cidstart = ring)")
    if signalling not in _CID_SIGNALLING:
        raise ConfigError(f"{where}: cidsignalling = {signalling!r} is not supported "
                          f"(bell or v23)")
    return _CID_SIGNALLING[signalling]


def _gain(text: str, key: str, where: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ConfigError(f"{where}: {key} = {text!r} is not a number of dB") from None
    if not math.isfinite(value) or abs(value) > GAIN_LIMIT_DB:
        raise ConfigError(f"{where}: {key} = {text!r} is outside ±{GAIN_LIMIT_DB:g} dB")
    return value


def _flag(text: str | None, key: str, where: str) -> bool | None:
    if text is None:
        return None
    word = str(text).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(f"{where}: {key} = {text!r} is neither yes nor no")
