"""The simulated kernel's HDLC channels: D-channels and MTP2 links, and their far end.

Why apart: channels that move whole frames (HDLC-FCS D-channels, MTP2 links, clear
channels in FCS mode) and the test's end of them (:class:`DChannelPeer`) are one job,
apart from the audio path. From dahdi-base.c: the FCS the kernel appends and strips
(``fasthdlc``, PPP_FCS: the CRC-16 of ITU-T Q.921 / ISO 3309), the MTP2 receiver
dropping a repeated frame, DAHDI_HDLCFCSMODE.
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trunkline.drivers.backends.dahdi.simstate import _Chan, _Fd, _Span

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel


def fcs16(data: bytes) -> int:
    """The HDLC frame check sequence (ITU-T Q.921 / ISO 3309 CRC-16, reflected 0x8408)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


class DChannelPeer:
    """The far end of a simulated D-channel or MTP2 link (for tests): whole frames,
    without FCS; on an MTP2 link both directions drop a frame identical to the one
    before it, as the kernel's MTP2 receivers do."""

    def __init__(self, kernel: SimulatedKernel, chan: _Chan, span: _Span) -> None:
        self._kernel = kernel
        self._chan = chan
        self._span = span
        self._last: bytes | None = None

    @property
    def up(self) -> bool:
        return self._kernel._span_up(self._span)

    def send(self, frame: bytes) -> None:
        if not self.up:
            return
        if self._mtp2:
            if frame == self._chan.mtp2_last:
                return  # the kernel's MTP2 receiver drops a repeated frame
            self._chan.mtp2_last = bytes(frame)
        self._chan.hdlc_in.append(self._kernel.with_fcs(frame))

    def receive(self) -> bytes | None:
        """The next frame the channel sent; on an MTP2 link, as an MTP2 receiver takes
        them (a frame identical to the one before it is dropped)."""
        while self._chan.hdlc_out:
            frame = self._chan.hdlc_out.popleft()
            if self._mtp2 and frame == self._last:
                continue
            self._last = frame
            return frame
        return None

    @property
    def _mtp2(self) -> bool:
        return self._chan.sigtype == self._kernel.lib.DAHDI_SIG_MTP2


class HdlcChannels:
    """Which channels move frames, and their far end for tests (a mixin of
    :class:`~.simkernel.SimulatedKernel`)."""

    def is_hdlc(self: SimulatedKernel, ch: _Chan) -> bool:
        """Whether ``ch`` moves whole HDLC frames (D-channel, MTP2 link, or FCS mode)."""
        lib = self.lib
        return ch.hdlc_fcs or ch.sigtype in (lib.DAHDI_SIG_HDLCFCS, lib.DAHDI_SIG_HARDHDLC,
                                             lib.DAHDI_SIG_MTP2)

    @staticmethod
    def with_fcs(frame: bytes) -> bytes:
        """A frame as an HDLC-FCS channel reads it: followed by its two FCS bytes."""
        fcs = fcs16(frame)
        return bytes(frame) + bytes([fcs & 0xFF, fcs >> 8])

    def dchannel_peer(self: SimulatedKernel, span: int) -> DChannelPeer:
        s = self.span_by_number(span)
        for ch in self._span_chans(s):
            if ch.sigtype in (self.lib.DAHDI_SIG_HDLCFCS, self.lib.DAHDI_SIG_HARDHDLC,
                              self.lib.DAHDI_SIG_MTP2):
                return DChannelPeer(self, ch, s)
        raise ValueError(f"simulated span {span} has no D-channel")

    def _is_hdlc(self: SimulatedKernel, f: _Fd) -> bool:
        return self.is_hdlc(self.chans[f.chan])

    def _ioctl_hdlcfcsmode(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_HDLCFCSMODE: literal clear channels only; audio off.
        ch = self._clear_only(f, name)
        ch.audio = False
        ch.hdlc_fcs = bool(arg[0])
