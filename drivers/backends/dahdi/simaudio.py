"""The simulated kernel's channel buffers: read, write, block timing, law, gains.

Why apart: how blocks of audio (and HDLC frames) pass between a descriptor and the line,
paced by the kernel's clock, is one job, apart from the spans' alarms and the analog
ports' signalling. From dahdi-base.c: ``dahdi_chan_read``/``dahdi_chan_write`` (ELAST,
EAGAIN, DAHDI_FLAG_LINEAR, a write cancelling DIAL), ``__putbuf_chunk`` (overrun:
READ_OVERRUN), ``__dahdi_getbuf_chunk`` (underrun: WRITE_UNDERRUN), DAHDI_SET_BLOCKSIZE,
DAHDI_SET_BUFINFO/GET_BUFINFO (``dahdi_reallocbufs``), DAHDI_FLUSH, DAHDI_SETLAW,
DAHDI_SETLINEAR, DAHDI_AUDIOMODE, DAHDI_BUFFER_EVENTS, DAHDI_ECHOCANCEL_PARAMS,
``dahdi_ioctl_getgains``/``setgains`` and the gain tables of
``__dahdi_process_putaudio_chunk``/``getaudio_chunk``.
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.drivers.backends.dahdi.device import DahdiOperationError
from trunkline.drivers.backends.dahdi.simstate import RATE, _Chan, _Fd, _samples, _Span
from trunkline.drivers.dsp import g711

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

#: dahdi-base.c's defgain: "defgain[i] = i", the gain tables of a channel nobody set.
IDENTITY_GAIN = bytes(range(256))


class AudioBuffers:
    """The channels' buffers and audio path (a mixin of
    :class:`~.simkernel.SimulatedKernel`)."""

    def read_buffers(self: SimulatedKernel, chan: int) -> int:
        """The receive buffers of an open channel (the most any of its fds set)."""
        return max((f.numbufs for f in self._fds.values() if f.chan == chan), default=0)

    def idle_code(self: SimulatedKernel, ch: _Chan) -> int:
        """The byte a channel transmits with nothing to send: silence in its law."""
        return g711.ULAW_SILENCE if ch.law == self.lib.DAHDI_LAW_MULAW \
            else g711.ALAW_SILENCE

    def _blocks_due(self: SimulatedKernel, f: _Fd) -> int:
        if self._stalled or (f.chan and self.chans[f.chan].span in self._stalled_spans):
            return 0
        return _samples(self.now() - f.t0) // f.blocksize - f.blocks_read

    def _next_deadline(self: SimulatedKernel, f: _Fd) -> float:
        return f.t0 + (f.blocks_read + 1) * f.blocksize / RATE

    def read(self: SimulatedKernel, fd: int, size: int) -> bytes:
        f = self._fd(fd, "read")
        self._apply_due_faults()
        target = f"{f.path} (channel {f.chan})"
        if not f.chan:
            raise DahdiOperationError(errno.EINVAL, "read", f.path)
        ch = self.chans[f.chan]
        span = self.spans[ch.span - 1]
        if size < 1:
            raise DahdiOperationError(errno.EINVAL, "read", target)  # dahdi_chan_read
        if span.removed:
            raise DahdiOperationError(errno.ENODEV, "read", target)
        if not self.is_hdlc(ch):
            self._check_overrun(f, ch)
        if ch.events:
            raise DahdiOperationError(self.lib.ELAST, "read", target)
        if self.is_hdlc(ch):
            self.cross.sync_repeat(ch)
            if not ch.hdlc_in:
                raise DahdiOperationError(errno.EAGAIN, "read", target)
            return ch.hdlc_in.popleft()[:size]
        if f.skip_at is not None and f.blocks_read >= f.skip_at:
            f.blocks_read, f.skip_at = f.skip_to, None
        due = self._blocks_due(f)
        if due <= 0:
            raise DahdiOperationError(errno.EAGAIN, "read", target)
        block = bytes(self._rx_block(ch, span, f)[:size // 2 if ch.linear else size])
        f.blocks_read += 1
        if ch.audio and ch.rxgain is not None:
            # __dahdi_process_putaudio_chunk: "rxb[x] = ms->rxgain[rxb[x]]" (audio only).
            block = block.translate(ch.rxgain)
        if ch.linear:
            # dahdi_chan_read with DAHDI_FLAG_LINEAR: each byte as DAHDI_XLAW, 16 bits.
            return g711.decode(np.frombuffer(block, dtype=np.uint8),
                               self._law_name(ch, f)).astype("<i2").tobytes()
        return block

    def _check_overrun(self: SimulatedKernel, f: _Fd, ch: _Chan) -> None:
        """dahdi-base.c __putbuf_chunk: with every receive buffer full (inreadbuf -1)
        the kernel drops what comes next ("We'll drop it until there's a buffer
        available"), so the reader gets the oldest blocks it held, then a gap; the
        first chunk dropped sets DAHDI_FLAGBIT_RXOVERRUN and, with BUFEVENTS, queues
        DAHDI_EVENT_READ_OVERRUN (once per episode)."""
        if f.skip_at is not None:
            return
        due = self._blocks_due(f)
        if due > f.numbufs:
            f.skip_at = f.blocks_read + f.numbufs
            f.skip_to = f.blocks_read + due
            if not ch.rx_overrun and ch.bufevents:
                ch.events.append(self.lib.DAHDI_EVENT_READ_OVERRUN)
            ch.rx_overrun = True
        elif due > 0:
            ch.rx_overrun = False

    def _idle(self: SimulatedKernel, ch: _Chan, f: _Fd) -> int:
        law = f.law_override if f.law_override else ch.law
        return g711.ULAW_SILENCE if law == self.lib.DAHDI_LAW_MULAW else g711.ALAW_SILENCE

    def _rx_block(self: SimulatedKernel, ch: _Chan, span: _Span, f: _Fd) -> np.ndarray:
        lib = self.lib
        n = f.blocksize
        idle = self._idle(ch, f)
        if span.kind != "analog" and self.cross.crossed(span):
            # Our transmit drains at the line's rate (simcross); we receive the far end's.
            if span.alarms & lib.DAHDI_ALARM_BLUE:
                return np.full(n, 0xFF, dtype=np.uint8)  # AIS: all ones
            start = _samples(f.t0) + f.blocks_read * n
            return self.cross.receive_block(ch, start, n, idle)
        sent = bytes(ch.tx[:n])
        del ch.tx[:n]
        # __dahdi_getbuf_chunk: a chunk with nothing written to send goes out as
        # silence (needtxunderrun); the first sets DAHDI_FLAGBIT_TXUNDERRUN and, with
        # BUFEVENTS, queues DAHDI_EVENT_WRITE_UNDERRUN; a chunk with data clears it.
        if len(sent) < n:
            if not ch.tx_underrun and ch.bufevents:
                ch.events.append(lib.DAHDI_EVENT_WRITE_UNDERRUN)
            ch.tx_underrun = True
        else:
            ch.tx_underrun = False
        tx = np.full(n, idle, dtype=np.uint8)
        tx[: len(sent)] = np.frombuffer(sent, dtype=np.uint8)
        gain = self.tx_gain(ch)
        if gain is not None:
            tx = np.frombuffer(tx.tobytes().translate(gain), dtype=np.uint8)
        if span.kind != "analog":
            if span.maint == lib.DAHDI_MAINT_LOCALLOOP:
                return tx  # our transmit comes straight back, whatever the line does
            if span.alarms & lib.DAHDI_ALARM_BLUE:
                return np.full(n, 0xFF, dtype=np.uint8)  # AIS: all ones
            if not self._span_up(span):
                return np.full(n, idle, dtype=np.uint8)
            if span.far_end == "loop" and span.maint == 0:
                return tx
            if self.exchange is not None and ch.number in self.exchange.rows:
                return self._exchange_block(ch, f, tx)
            return np.full(n, idle, dtype=np.uint8)
        if self.exchange is not None and ch.number in self.exchange.rows:
            block = self._exchange_block(ch, f, tx)
        elif ch.module == "fxo" and ch.offhook:
            block = self._dialtone(f, n, ch)
        else:
            block = np.full(n, idle, dtype=np.uint8)
        if ch.number in self.balances and ch.offhook:
            # The DAA's hybrid returns part of what the port sends (simwctdm.py).
            law = self._law_name(ch, f)
            heard = self.wctdm.receive(ch.number, g711.decode(tx, law).astype(np.float64),
                                       g711.decode(block, law).astype(np.float64))
            block = g711.encode(np.clip(np.rint(heard), -32768, 32767).astype(np.int16), law)
        return self._mix_line_audio(ch, f, block) if ch.line_audio else block

    def _exchange_block(self: SimulatedKernel, ch: _Chan, f: _Fd, tx: np.ndarray) -> np.ndarray:
        """A block to and from the emulated network behind the port (simexchange.py)."""
        assert self.exchange is not None
        law = "ulaw" if (f.law_override or ch.law) == self.lib.DAHDI_LAW_MULAW else "alaw"
        first = _samples(f.t0) + f.blocks_read * len(tx)
        if ch.dial_until is None:  # while dialling the kernel sends its own tones
            self.exchange.send(ch.number, first, g711.decode(tx, law))
        heard = self.exchange.receive(ch.number, first, len(tx))
        return g711.encode(np.clip(np.rint(heard), -32768, 32767).astype(np.int16), law)

    def write(self: SimulatedKernel, fd: int, data: bytes) -> int:
        f = self._fd(fd, "write")
        self._apply_due_faults()
        target = f"{f.path} (channel {f.chan})"
        if not f.chan:
            raise DahdiOperationError(errno.EINVAL, "write", f.path)
        ch = self.chans[f.chan]
        if not len(data) & 0xFFFF:
            # dahdi_chan_write: "count &= 0xffff", then EINVAL for nothing to write.
            raise DahdiOperationError(errno.EINVAL, "write", target)
        if ch.dial_until is not None:
            # dahdi-base.c dahdi_chan_write: a write while a dial tone or pulse digit is
            # out (curtone or pdialcount set) clears curtone, dialing, txdialbuf and
            # pdialcount: the dial string is cancelled, and no DIALCOMPLETE follows.
            ch.dial_until = None
        if ch.events:
            raise DahdiOperationError(self.lib.ELAST, "write", target)
        if self.is_hdlc(ch):
            if len(data) < 3:
                raise DahdiOperationError(errno.EINVAL, "write", target)
            frame = bytes(data[:-2])  # the last two bytes make room for the FCS
            span = self.spans[ch.span - 1]
            if self.cross.crossed(span):
                self.cross.send_frame(ch, frame)
            elif self._span_up(span):
                ch.hdlc_out.append(frame)
            return len(data)
        if self.cross.crossed(self.spans[ch.span - 1]):
            self.cross.transmit(ch)  # the buffer drains at the line's rate, read or not
        taken = len(data)
        if ch.linear:
            # dahdi_chan_write with DAHDI_FLAG_LINEAR: at most a block of 16-bit samples,
            # each turned into the channel's law (DAHDI_LIN2X).
            taken = min(len(data) & ~1, f.blocksize * 2)
            pcm = np.frombuffer(bytes(data[:taken]), dtype="<i2")
            data = g711.encode(pcm, self._law_name(ch, f)).tobytes()
        if len(ch.tx) + len(data) > f.numbufs * f.blocksize:
            raise DahdiOperationError(errno.EAGAIN, "write", target)
        ch.tx.extend(data)
        return taken

    def _law_name(self: SimulatedKernel, ch: _Chan, f: _Fd) -> str:
        law = f.law_override if f.law_override else ch.law
        return "ulaw" if law == self.lib.DAHDI_LAW_MULAW else "alaw"

    def _ioctl_set_blocksize(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        size = arg[0]
        if not 16 <= size <= self.lib.DAHDI_MAX_BLOCKSIZE:
            raise DahdiOperationError(errno.EINVAL, name, f"{f.path} (size {size})")
        f.blocksize = size
        f.t0 = self.now()
        f.blocks_read = 0
        f.skip_at = None

    def _ioctl_get_blocksize(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = f.blocksize

    def _ioctl_set_bufinfo(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        if not 1 <= arg.numbufs <= 32:
            raise DahdiOperationError(errno.EINVAL, name, f.path)
        # dahdi_chan_ioctl DAHDI_SET_BUFINFO: bufsize 16..DAHDI_MAX_BLOCKSIZE (EINVAL
        # otherwise), then dahdi_reallocbufs(chan, bufsize, numbufs): the block size is
        # bufsize and the buffers are fresh.
        if not 16 <= arg.bufsize <= lib.DAHDI_MAX_BLOCKSIZE:
            raise DahdiOperationError(errno.EINVAL, name, f"{f.path} (bufsize "
                                                          f"{arg.bufsize})")
        f.numbufs = arg.numbufs
        if arg.bufsize != f.blocksize:
            f.blocksize = arg.bufsize
            f.t0 = self.now()
            f.blocks_read = 0
            f.skip_at = None
        if f.chan:
            # dahdi_reallocbufs: fresh buffers, nothing to compare a frame with or repeat.
            ch = self.chans[f.chan]
            ch.mtp2_last = ch.mtp2_repeat = None

    def _ioctl_get_bufinfo(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        arg.numbufs = f.numbufs
        arg.bufsize = f.blocksize
        arg.txbufpolicy = arg.rxbufpolicy = self.lib.DAHDI_POLICY_IMMEDIATE
        arg.readbufs = min(max(self._blocks_due(f), 0), f.numbufs) if f.chan else 0
        if f.chan and self.cross.crossed(self.spans[self.chans[f.chan].span - 1]):
            self.cross.transmit(self.chans[f.chan])
        arg.writebufs = len(self.chans[f.chan].tx) // f.blocksize if f.chan else 0

    def _ioctl_flush(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if arg[0] & self.lib.DAHDI_FLUSH_WRITE:
            ch.tx.clear()
        if arg[0] & self.lib.DAHDI_FLUSH_READ:
            f.blocks_read += max(self._blocks_due(f), 0)
        if arg[0] & self.lib.DAHDI_FLUSH_EVENT:
            ch.events.clear()

    def _ioctl_setlinear(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_SETLINEAR: "Makes no sense on non-audio channels".
        ch = self._chan_of(f, name)
        if not ch.audio:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        ch.linear = bool(arg[0])

    def _ioctl_setlaw(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        self._chan_of(f, name)
        if arg[0] not in (lib.DAHDI_LAW_DEFAULT, lib.DAHDI_LAW_ALAW, lib.DAHDI_LAW_MULAW):
            raise DahdiOperationError(errno.EINVAL, name, f"law {arg[0]}")
        f.law_override = arg[0] or None

    def _ioctl_echocancel_params(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if not ch.audio:
            # dahdi_chan_ioctl DAHDI_ECHOCANCEL_PARAMS: EINVAL without DAHDI_FLAG_AUDIO
            # (a B-channel needs DAHDI_AUDIOMODE first; HDLC channels never have it).
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        params = self.ffi.cast("struct dahdi_echocanparams *", arg)
        ch.echocan = int(params.tap_length)

    def _ioctl_echotrain(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        self._chan_of(f, name)

    def _ioctl_audiomode(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_AUDIOMODE: "Only literal clear channels can be put in";
        # on: audio, no HDLC; off: no audio, and the echo canceller is freed.
        ch = self._clear_only(f, name)
        ch.audio = bool(arg[0])
        ch.hdlc_fcs = False
        if not ch.audio:
            # "chan->rxgain = defgain; chan->txgain = defgain" with the canceller freed.
            ch.echocan = 0
            ch.rxgain = ch.txgain = None

    def tx_gain(self: SimulatedKernel, ch: _Chan) -> bytes | None:
        """The table what ``ch`` sends goes through: __dahdi_process_getaudio_chunk ends
        with "txb[x] = ms->txgain[txb[x]]" (silence filled in for an underrun too), on
        channels with DAHDI_FLAG_AUDIO only (dahdi_transmit)."""
        return ch.txgain if ch.audio else None

    def _gains_chan(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> _Chan:
        """dahdi_ioctl_getgains/setgains: ``chan`` 0 is the fd's own channel, another is
        chan_from_num's (EINVAL when there is none); EINVAL without DAHDI_FLAG_AUDIO."""
        number = int(arg.chan)
        if number == 0:
            ch = self._chan_of(f, name)
        elif number in self.chans:
            ch = self.chans[number]
        else:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {number}")
        if not ch.audio:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        return ch

    def _ioctl_getgains(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._gains_chan(f, arg, name)
        arg.chan = ch.number
        self.ffi.memmove(arg.rxgain, ch.rxgain or IDENTITY_GAIN, 256)
        self.ffi.memmove(arg.txgain, ch.txgain or IDENTITY_GAIN, 256)

    def _ioctl_setgains(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._gains_chan(f, arg, name)
        rx = bytes(self.ffi.buffer(arg.rxgain, 256))
        tx = bytes(self.ffi.buffer(arg.txgain, 256))
        # dahdi_ioctl_setgains: both tables equal to defgain free the custom ones; any
        # other setting replaces both ("This is a custom gain setting").
        if rx == IDENTITY_GAIN and tx == IDENTITY_GAIN:
            ch.rxgain = ch.txgain = None
        else:
            ch.rxgain, ch.txgain = rx, tx
        arg.chan = ch.number

    def _clear_only(self: SimulatedKernel, f: _Fd, name: str) -> _Chan:
        ch = self._chan_of(f, name)
        if ch.sigtype != self.lib.DAHDI_SIG_CLEAR:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not a clear "
                                                          "channel)")
        return ch

    def _ioctl_buffer_events(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_BUFFER_EVENTS: sets or clears DAHDI_FLAGBIT_BUFEVENTS.
        self._chan_of(f, name).bufevents = bool(arg[0])
