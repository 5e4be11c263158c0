"""The gateway's softphone methods (docs/gateway.md, docs/softphone.md): ``webrtc.open``,
``webrtc.offer``, ``webrtc.candidate``, ``webrtc.close``, ``webrtc.status``,
``webrtc.test`` and ``webrtc.ice``.

The signalling is offer/answer with complete ICE gathering (the page waits for its
candidates, so does the gateway): one request, one reply, no trickle needed on a LAN;
``webrtc.candidate`` takes trickled candidates for pages that send them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trunkline.gateway.rpc.registry import Param
from trunkline.gateway.webrtc.settings import SoftphoneSettings
from trunkline.gateway.webrtc.softphone import Softphone

if TYPE_CHECKING:
    from trunkline.gateway.service import GatewayService

__all__ = ["register_webrtc_methods"]

#: The longest SDP accepted (a browser's offer is 2-6 kB).
MAX_SDP = 65536


def register_webrtc_methods(service: GatewayService,
                            settings: SoftphoneSettings | None = None) -> Softphone:
    """Add the WebRTC positions to ``service``'s engine and their methods to its registry."""
    softphone = Softphone(service.engine, settings)
    r = service.registry
    run = service.run
    call_param = {"call": Param(int, required=True, doc="the position's call id")}

    @r.method("webrtc.open", role="control", params={
        "label": Param(str, default="browser", maximum=64,
                       doc="what the call's number shows (the agent)"),
        "ring_timeout": Param(float, minimum=1, maximum=3600,
                              doc="seconds to wait for the page (default [webrtc])")})
    async def webrtc_open(session: Any, label: str = "browser",
                          ring_timeout: float | None = None) -> dict[str, Any]:
        """A browser position: a call of kind ``webrtc`` ringing until a page's peer
        connection comes up (then ``answered``, by a person)."""
        return await run(lambda: softphone.open(label, ring_timeout))

    @r.method("webrtc.offer", role="control", params={
        **call_param,
        "sdp": Param(str, required=True, maximum=MAX_SDP, doc="the page's SDP offer")})
    async def webrtc_offer(session: Any, call: int, sdp: str) -> dict[str, Any]:
        """The gateway's SDP answer (G.711 only; host candidates, or the configured
        TURN's). A new offer for the same position replaces the page that had it."""
        return await softphone.offer(call, sdp)

    @r.method("webrtc.candidate", role="control", params={
        **call_param,
        "candidate": Param(str, default="", maximum=1024,
                           doc="an a=candidate value; empty: no more candidates"),
        "mid": Param(str, maximum=32), "index": Param(int, minimum=0, maximum=64)})
    async def webrtc_candidate(session: Any, call: int, candidate: str = "",
                               mid: str | None = None, index: int | None = None
                               ) -> dict[str, Any]:
        """A trickled ICE candidate of the page."""
        return await softphone.candidate(call, candidate, mid, index)

    @r.method("webrtc.close", role="control", params={
        **call_param,
        "hangup": Param(bool, default=False,
                        doc="end the position's call too (else it waits [webrtc] "
                            "reconnect s for a new page)")})
    async def webrtc_close(session: Any, call: int, hangup: bool = False) -> dict[str, Any]:
        """Close the page's peer connection."""
        return await softphone.close(call, hangup)

    @r.method("webrtc.test", role="control", params={
        **call_param,
        "seconds": Param(float, default=3.0, minimum=0.5, maximum=10,
                         doc="how long the agent is recorded")})
    async def webrtc_test(session: Any, call: int, seconds: float = 3.0) -> dict[str, Any]:
        """The test call: a beep, the agent recorded ``seconds``, played back; its phase
        and the recording's level follow in ``webrtc.status`` (``test``) and as
        ``webrtc.test`` events."""
        return await run(lambda: softphone.test(call, seconds))

    @r.method("webrtc.ice", role="control", params=call_param)
    async def webrtc_ice(session: Any, call: int) -> dict[str, Any]:
        """The STUN/TURN servers (``urls``, ``username``, ``credential``) the position's
        page should use: ``[[webrtc.ice_server]]``, none by default. Control, not monitor:
        the TURN credential is in it."""
        return await run(lambda: softphone.ice(call))

    @r.method("webrtc.status", role="monitor", params=call_param)
    async def webrtc_status(session: Any, call: int) -> dict[str, Any]:
        """The peer's state and the audio's: packets, loss, late, concealment, the
        jitter buffer's delay."""
        return await softphone.status(call)

    return softphone
