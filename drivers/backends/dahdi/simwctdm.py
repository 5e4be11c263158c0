"""The simulated analog board's own ioctls (wctdm24xxp's ``WCTDM_*``) and its FXO hybrid.

Why: ``fxotune`` (dahdi-tools) tunes each FXO module's echo: it sweeps the DAA's line
impedance (ACIM) and digital hybrid coefficients with ``WCTDM_SET_ECHOTUNE``, sends a
multi-tone on the line and keeps the setting whose echo comes back weakest. For the real
tool to run against the simulated kernel, the FXO ports must answer those ioctls and
their receive side must carry an echo of what they send that depends on the setting.

The ioctls, from ``dahdi/wctdm_user.h`` (numbers and structs compiled from the header)
and wctdm24xxp ``base.c`` ``wctdm_ioctl``:

* ``WCTDM_SET_ECHOTUNE`` (struct wctdm_echo_coefs): on an FXO module, DAA register 30
  (ACIM) takes ``acim`` and registers 45..52 ``coef1``..``coef8``; EINVAL on FXS;
* ``WCTDM_GET_REGS`` (struct wctdm_regs): an FXO module's direct registers 0..58 (the
  Si3050 DAA's, ``NUM_FXO_REGS``), an FXS module's 0..108 and indirect 0..104;
* ``WCTDM_SET_REG`` (struct wctdm_regop): a direct register (value & 0xff); an indirect
  one only on FXS (EINVAL on FXO);
* ``WCTDM_GET_STATS`` (struct wctdm_stats): FXO: tip, ring and battery voltage are all
  ``(s8)reg29 * 1000`` mV (the DAA's line voltage); FXS: ``reg80/81/82 * -376`` mV.

An E1/T1 channel's driver (wct4xxp) does not know them: ENOTTY.

**The hybrid (a model, said plainly).** A real DAA's trans-hybrid echo depends on the
line's impedance and on how well the ACIM setting and the 8-tap digital hybrid filter
(Si3050 registers 45..52, signed bytes; Silicon Labs AN84) balance it. Each simulated
FXO line has a balance: the ACIM that matches it and the eight coefficients that cancel
the rest (the span's ``hybrid`` key; by default ACIM 10, 200 ohm + (680 ohm || 100 nF),
China's termination, and zero coefficients). What the port sends comes back, one sample
later, through an 8-tap echo path: an impedance mismatch (``ACIM`` not the line's)
returns 0.25 + 0.02 per step of ACIM index apart on the first tap (about -12 to -6 dB),
and each coefficient that differs from the line's returns (line - set) / 128 on its tap
(signed bytes). The line adds its own noise (-72 dB below a full-scale tone), which no
setting removes, so a perfectly balanced line still measures a finite return loss. The
model is there so that fxotune's search has a single best answer that a test can know;
it does not claim the magnitudes of a real Si3050.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.drivers.backends.dahdi.device import DahdiOperationError
from trunkline.drivers.backends.dahdi.wctdm import REG_ACIM, REG_HYB1, STRUCTS, wctdm_binding

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

__all__ = ["DEFAULT_BALANCE", "Balance", "SimWctdm", "hybrid_echo"]

#: wctdm24xxp: an FXO module's direct registers (the Si3050 DAA's; ``NUM_FXO_REGS``).
NUM_FXO_REGS = 59
#: Si3050 register 29: the line voltage (LVS).
REG_LVS = 29
#: What the line's noise adds to what the port receives (linear, rms): -72 dB below a
#: full-scale tone (16384), a quiet line.
NOISE_RMS = 16384 * 10 ** (-72 / 20)


@dataclass(frozen=True)
class Balance:
    """What balances one line: the ACIM index that matches it and the 8 coefficients
    (as the registers hold them: 0..255, signed bytes) that cancel the rest."""

    acim: int
    coefs: tuple[int, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.acim <= 15:
            raise ValueError(f"acim {self.acim}: the DAA has 16 settings, 0..15")
        if len(self.coefs) != 8 or any(not 0 <= c <= 255 for c in self.coefs):
            raise ValueError(f"coefs {list(self.coefs)}: eight values 0..255")


#: China's termination (Si3050 ACIM 10: 200 ohm + (680 ohm || 100 nF)), nothing left over.
DEFAULT_BALANCE = Balance(10, (0,) * 8)


def _signed(byte: int) -> int:
    return byte - 256 if byte > 127 else byte


def echo_path(line: Balance, acim: int, coefs: tuple[int, ...]) -> np.ndarray:
    """The 8 taps of the echo a port set to (acim, coefs) hears on ``line``."""
    taps = np.array([(_signed(a) - _signed(b)) / 128.0 for a, b in zip(line.coefs, coefs,
                                                                        strict=True)])
    if acim != line.acim:
        taps[0] += 0.25 + 0.02 * abs(acim - line.acim)
    return taps


def hybrid_echo(taps: np.ndarray, history: np.ndarray, tx: np.ndarray) -> np.ndarray:
    """What comes back of ``tx`` (linear) through ``taps``, one sample late; ``history``
    is what was sent before (at least 8 samples: the filter's memory)."""
    signal = np.concatenate([history[-8:], tx.astype(np.float64)])
    out = np.zeros(len(tx))
    for k, tap in enumerate(taps):
        if tap:
            # sample n hears tx[n - 1 - k]; signal[8 + n] is tx[n]
            out += tap * signal[8 - 1 - k: 8 - 1 - k + len(tx)]
    return out


@dataclass
class _Module:
    kind: str                                   # "fxo" or "fxs"
    balance: Balance
    direct: bytearray = field(default_factory=lambda: bytearray(109))
    indirect: list[int] = field(default_factory=lambda: [0] * 105)
    sent: np.ndarray = field(default_factory=lambda: np.zeros(8))  # the echo's memory


class SimWctdm:
    """The WCTDM ioctls and the FXO hybrid of one simulated kernel's analog ports."""

    def __init__(self, kernel: SimulatedKernel, balances: dict[int, Balance]) -> None:
        self.kernel = kernel
        self._ext = wctdm_binding()
        lib = self._ext.lib
        self.requests = {lib.WCTDM_GET_STATS: self._get_stats, lib.WCTDM_GET_REGS: self._get_regs,
                         lib.WCTDM_SET_REG: self._set_reg,
                         lib.WCTDM_SET_ECHOTUNE: self._set_echotune}
        #: request -> the struct its argument is.
        self.struct_of = {getattr(lib, name): ctype for name, ctype in STRUCTS.items()}
        self.rng = np.random.default_rng(7)
        self.modules: dict[int, _Module] = {}
        for ch in kernel.chans.values():
            if ch.module:
                self.modules[ch.number] = _Module(ch.module,
                                                  balances.get(ch.number, DEFAULT_BALANCE))

    # -- the ioctls ----------------------------------------------------------------
    def ioctl(self, chan: int, request: int, arg: Any, name: str) -> None:
        """``arg`` points at the request's struct (any cffi pointer or address)."""
        module = self.modules.get(chan)
        if module is None:
            # Not an analog port: the span's driver (wct4xxp) does not know the ioctl.
            raise DahdiOperationError(errno.ENOTTY, name, f"channel {chan}")
        ffi = self._ext.ffi
        address = int(self.kernel.ffi.cast("uintptr_t", arg)) if not isinstance(arg, int) \
            else arg
        self.requests[request](module, ffi.cast(f"{self.struct_of[request]} *", address),
                               chan, name)

    def _get_stats(self, module: _Module, arg: Any, chan: int, name: str) -> None:
        if module.kind == "fxo":
            self._refresh_fxo(module, chan)
            volts = (module.direct[REG_LVS] ^ 0x80) - 0x80  # (s8)
            arg.tipvolt = arg.ringvolt = arg.batvolt = volts * 1000
        else:
            # ProSLIC registers 80, 81, 82 (tip, ring, battery) in 376 mV steps: a phone on
            # hook in forward active, -4 V on tip and -48 V on ring and battery.
            arg.tipvolt, arg.ringvolt, arg.batvolt = (-376 * 11, -376 * 128, -376 * 128)

    def _get_regs(self, module: _Module, arg: Any, chan: int, name: str) -> None:
        if module.kind == "fxo":
            self._refresh_fxo(module, chan)
            for x in range(NUM_FXO_REGS):
                arg.direct[x] = module.direct[x]
            return
        module.direct[80], module.direct[81], module.direct[82] = 11, 128, 128
        for x in range(109):
            arg.direct[x] = module.direct[x]
        for x in range(105):
            arg.indirect[x] = module.indirect[x]

    def _set_reg(self, module: _Module, arg: Any, chan: int, name: str) -> None:
        if arg.indirect:
            if module.kind != "fxs":
                raise DahdiOperationError(errno.EINVAL, name, f"channel {chan} (an FXO "
                                                              "module has no indirect registers)")
            if arg.reg < 105:
                module.indirect[arg.reg] = arg.val & 0xFFFF
            return
        if arg.reg < len(module.direct):
            module.direct[arg.reg] = arg.val & 0xFF

    def _set_echotune(self, module: _Module, arg: Any, chan: int, name: str) -> None:
        if module.kind != "fxo":
            raise DahdiOperationError(errno.EINVAL, name, f"channel {chan} (not an FXO "
                                                          "module)")
        module.direct[REG_ACIM] = arg.acim
        for k in range(8):
            module.direct[REG_HYB1 + k] = getattr(arg, f"coef{k + 1}")

    def _refresh_fxo(self, module: _Module, chan: int) -> None:
        """Register 29 (LVS, the line voltage): about 48 V on hook and 7 V off hook with
        the exchange's battery (negative when reversed), 0 without it."""
        ch = self.kernel.chans[chan]
        volts = 0 if not ch.battery else (7 if ch.offhook else 48)
        module.direct[REG_LVS] = (-volts if ch.polarity else volts) & 0xFF

    # -- the hybrid ------------------------------------------------------------------
    def setting(self, chan: int) -> tuple[int, tuple[int, ...]]:
        """The port's ACIM and hybrid coefficients (registers 30 and 45..52)."""
        direct = self.modules[chan].direct
        return direct[REG_ACIM], tuple(direct[REG_HYB1:REG_HYB1 + 8])

    def receive(self, chan: int, tx: np.ndarray, rx: np.ndarray) -> np.ndarray:
        """What an off-hook FXO port receives: the line's ``rx`` plus the echo of what it
        sent (``tx``, linear) and the line's noise (see the module docstring)."""
        module = self.modules[chan]
        acim, coefs = self.setting(chan)
        echo = hybrid_echo(echo_path(module.balance, acim, coefs), module.sent, tx)
        module.sent = np.concatenate([module.sent, tx.astype(np.float64)])[-8:]
        return rx + echo + self.rng.normal(0.0, NOISE_RMS, len(tx))
