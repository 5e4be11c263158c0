"""The gateway's methods for a supervisor on an agent's call (docs/gateway.md):
``call.monitor`` (listen, whisper, barge, and changing mode on the fly) and
``call.takeover``. ``call.listen`` stays as it was (the ``listen`` mode of
``call.monitor``); the rules are :mod:`trunkline.gateway.media.supervise`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trunkline.gateway.media.supervise import MODES, monitor, takeover
from trunkline.gateway.rpc.registry import Param

if TYPE_CHECKING:
    from trunkline.gateway.service import GatewayService

__all__ = ["register_supervise_methods"]


def register_supervise_methods(service: GatewayService) -> None:
    """Add ``call.monitor`` and ``call.takeover`` to ``service.registry``."""
    r = service.registry
    engine = service.engine
    run = service.run

    @r.method("call.monitor", role="control", params={
        "call": Param(int, required=True, doc="the supervisor's call (its position)"),
        "target": Param(int, doc="the agent's call; omit to stop"),
        "mode": Param(str, default="listen", choices=MODES,
                      doc="listen (silent), whisper (the agent hears), barge (all hear)")})
    async def call_monitor(session: Any, call: int, target: int | None = None,
                           mode: str = "listen") -> dict[str, Any]:
        """Put a supervisor on an agent's call, change its mode, or take it off."""
        return await run(lambda: monitor(engine, call, target, mode))

    @r.method("call.takeover", role="control", params={
        "call": Param(int, required=True, doc="the supervisor's call (its position)"),
        "target": Param(int, required=True, doc="the agent's call")})
    async def call_takeover(session: Any, call: int, target: int) -> dict[str, Any]:
        """The supervisor takes the agent's place on the customer; the agent's call
        stays up, out of the bridge."""
        return await run(lambda: takeover(engine, call, target))
