"""``prompts.check``: is a file one ``call.play`` could play, without a call to play it on.

A client that will play a file later (the dialer's music on hold, its abandon message)
asks once, when it starts, instead of finding a typo when the first customer is put on
hold and hears silence. The check is the one ``call.play`` makes, in the same order: the
path confined to the prompts folder (:meth:`~trunkline.gateway.paths.PathRoot.file_to_read`,
red-team defect 4: same refusals, same words whether a path outside exists), then the
audio decoded as ``call.play`` decodes it
(:func:`~trunkline.drivers.dsp.wavfile.read_audio`). Read-only: nothing is created,
opened for writing or cached. The decoding runs on a worker thread, never on the tick.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.gateway.rpc.registry import Param

if TYPE_CHECKING:
    from trunkline.gateway.service import GatewayService

__all__ = ["register_prompt_methods"]

#: ``read_audio`` gives 8 kHz samples (the card's rate).
_RATE = 8_000


def register_prompt_methods(service: GatewayService) -> None:
    """Add ``prompts.check`` to ``service.registry``."""
    r = service.registry

    @r.method("prompts.check", role="control", params={
        "file": Param(str, required=True,
                      doc="a WAV in the prompts folder, as call.play's file")})
    async def prompts_check(session: Any, file: str) -> dict[str, Any]:
        """Whether ``file`` is one call.play would play: its resolved path and length
        (``invalid_params`` or ``not_found`` with call.play's words otherwise)."""
        path = service.paths.prompts.file_to_read(file, method="prompts.check",
                                                  param="file")
        samples = await asyncio.to_thread(read_audio, path)
        return {"file": str(path), "seconds": round(len(samples) / _RATE, 3)}
