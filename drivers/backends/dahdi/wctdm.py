"""The binding of ``dahdi/wctdm_user.h``: the analog boards' own ioctls (``WCTDM_*``).

Why a module: wctdm24xxp (TDM410P, AEX2400...) answers ioctls that DAHDI's ``user.h``
does not declare; ``fxotune`` uses them to tune each FXO module's echo. The simulated
kernel answers them (:mod:`.simwctdm`) and the fxotune wrapper reads the DAA's echo
registers back with them (``drivers/commissioning/via_fxotune.py``); both take the
numbers and struct layouts from the header, compiled with cffi as :mod:`.abi` does.
"""

from __future__ import annotations

from typing import Any

from trunkline.drivers.native.build import load_extension

__all__ = ["REG_ACIM", "REG_HYB1", "STRUCTS", "wctdm_binding"]

_CDEF = """
#define NUM_REGS ...
#define NUM_INDIRECT_REGS ...
#define WCTDM_GET_STATS ...
#define WCTDM_GET_REGS ...
#define WCTDM_SET_REG ...
#define WCTDM_SET_ECHOTUNE ...
struct wctdm_stats { int tipvolt; int ringvolt; int batvolt; ...; };
struct wctdm_regs { unsigned char direct[109]; unsigned short indirect[105]; ...; };
struct wctdm_regop { int indirect; unsigned char reg; unsigned short val; ...; };
struct wctdm_echo_coefs { unsigned char acim; unsigned char coef1; unsigned char coef2;
    unsigned char coef3; unsigned char coef4; unsigned char coef5; unsigned char coef6;
    unsigned char coef7; unsigned char coef8; ...; };
"""
_SOURCE = "#include <dahdi/user.h>\n#include <dahdi/wctdm_user.h>\n"

#: Si3050 DAA registers wctdm24xxp's WCTDM_SET_ECHOTUNE writes: ACIM (30) and the
#: digital hybrid's eight coefficients (45..52).
REG_ACIM, REG_HYB1 = 30, 45
#: ioctl name -> the struct its argument is.
STRUCTS = {"WCTDM_GET_STATS": "struct wctdm_stats", "WCTDM_GET_REGS": "struct wctdm_regs",
           "WCTDM_SET_REG": "struct wctdm_regop",
           "WCTDM_SET_ECHOTUNE": "struct wctdm_echo_coefs"}


def wctdm_binding() -> Any:
    """The compiled binding (``.ffi``, ``.lib``); raises NativeBuildError without the
    header (Debian's dahdi-source)."""
    return load_extension("wctdm", _CDEF, _SOURCE, debian_packages=("dahdi-source",))
