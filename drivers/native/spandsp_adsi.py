"""spandsp's ADSI (caller ID) transmitter and receiver through cffi: the peer our own
caller ID code (:mod:`trunkline.drivers.dsp.callerid`) is checked against.

Bound in API mode against Debian libspandsp-dev's ``spandsp/adsi.h`` (LGPL-2.1, see
NOTICE); only its public API is called. Messages spandsp's receiver delivers land in a
small C struct owned by Python, so no Python callback runs inside spandsp.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trunkline.drivers.native.build import load_extension

__all__ = ["ADSI_STANDARDS", "AdsiRx", "AdsiTx", "library"]

_SHARED = """
typedef struct {
    int count;
    int lengths[16];
    uint8_t messages[16][256];
} tl_adsi_msgs_t;
"""

_CDEF = """
typedef ... adsi_rx_state_t;
typedef ... adsi_tx_state_t;
""" + _SHARED + """
adsi_rx_state_t *tl_adsi_rx_new(int standard, tl_adsi_msgs_t *out);
int adsi_rx(adsi_rx_state_t *s, const int16_t amp[], int len);
int adsi_rx_free(adsi_rx_state_t *s);
adsi_tx_state_t *adsi_tx_init(adsi_tx_state_t *s, int standard);
int adsi_tx_put_message(adsi_tx_state_t *s, const uint8_t *msg, int len);
int adsi_tx(adsi_tx_state_t *s, int16_t amp[], int max_len);
int adsi_tx_free(adsi_tx_state_t *s);
#define ADSI_STANDARD_CLASS ...
#define ADSI_STANDARD_CLIP ...
#define ADSI_STANDARD_CLIP_DTMF ...
"""

_SOURCE = r"""
#include <stdint.h>
#include <string.h>
#include <spandsp.h>
""" + _SHARED + r"""
static void tl_put_msg(void *user_data, const uint8_t *msg, int len)
{
    tl_adsi_msgs_t *out = (tl_adsi_msgs_t *) user_data;
    if (len < 0 || out->count >= 16)
        return;   /* len < 0 reports a carrier change, not a message */
    if (len > 256)
        len = 256;
    memcpy(out->messages[out->count], msg, (size_t) len);
    out->lengths[out->count] = len;
    out->count++;
}

adsi_rx_state_t *tl_adsi_rx_new(int standard, tl_adsi_msgs_t *out)
{
    return adsi_rx_init(NULL, standard, tl_put_msg, out);
}
"""

#: Our standard names -> spandsp's (adsi.h: CLASS is Bell 202, CLIP is ETSI V.23).
ADSI_STANDARDS = {"bell202": "ADSI_STANDARD_CLASS", "v23": "ADSI_STANDARD_CLIP",
                  "dtmf": "ADSI_STANDARD_CLIP_DTMF"}


def library() -> Any:
    """The compiled binding (built on first use; the error names libspandsp-dev)."""
    return load_extension("spandsp_adsi", _CDEF, _SOURCE, libraries=("spandsp",),
                          debian_packages=("libspandsp-dev",))


class AdsiTx:
    """spandsp's transmitter: the signal it sends for one message."""

    def __init__(self, standard: str) -> None:
        self._mod = library()
        self._tx = self._mod.lib.adsi_tx_init(
            self._mod.ffi.NULL, getattr(self._mod.lib, ADSI_STANDARDS[standard]))

    def signal(self, message: bytes, seconds: float = 2.0) -> np.ndarray:
        """``message`` as spandsp frames it (``adsi_tx_put_message``), then the samples
        it generates (int16), up to ``seconds``."""
        ffi, lib = self._mod.ffi, self._mod.lib
        if lib.adsi_tx_put_message(self._tx, message, len(message)) <= 0:
            raise ValueError("spandsp refused the message")
        out = np.zeros(int(seconds * 8000), np.int16)
        n = lib.adsi_tx(self._tx, ffi.cast("int16_t *", ffi.from_buffer(out)), len(out))
        return out[:n]

    def close(self) -> None:
        if self._tx is not None:
            self._mod.lib.adsi_tx_free(self._tx)
            self._tx = None


class AdsiRx:
    """spandsp's receiver: the messages it takes out of samples."""

    def __init__(self, standard: str) -> None:
        self._mod = library()
        self._out = self._mod.ffi.new("tl_adsi_msgs_t *")
        self._rx = self._mod.lib.tl_adsi_rx_new(
            getattr(self._mod.lib, ADSI_STANDARDS[standard]), self._out)

    def feed(self, samples: np.ndarray) -> list[bytes]:
        ffi, lib = self._mod.ffi, self._mod.lib
        before = self._out.count
        data = np.ascontiguousarray(samples, dtype=np.int16)
        lib.adsi_rx(self._rx, ffi.cast("int16_t *", ffi.from_buffer(data)), len(data))
        return [bytes(ffi.buffer(self._out.messages[i], self._out.lengths[i]))
                for i in range(before, self._out.count)]

    def close(self) -> None:
        if self._rx is not None:
            self._mod.lib.adsi_rx_free(self._rx)
            self._rx = None
