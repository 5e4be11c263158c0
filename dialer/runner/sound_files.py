"""The sound files a run plays, checked on its gateway before the first call.

A campaign's ``machine_message``, the runner's abandon message and the desk's music on
hold are WAVs on the gateway's host, confined to its prompts folder (red-team defect
4): only the gateway can say whether one would play. Asked once at start through
``prompts.check`` (the check ``call.play`` makes, without a call), a typo stops the
start naming the setting and the reason, instead of showing as silence on the first
machine, abandon or Hold. A port without the method (a test double) or a gateway too
old to know it (``unknown_method``) is not asked: the file is then found wanting only
when played, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trunkline.errors import ConfigError
from trunkline.gateway.rpc.errors import ErrorCode, RpcError

__all__ = ["check_sound_files"]


def check_sound_files(port: Any, files: Mapping[str, str | None], *,
                      gateway: str = "the gateway") -> bool:
    """Ask ``port`` (``check_playback(file)``) about each file of ``files`` (what names
    it in a message -> path; None or empty: not given); :class:`ConfigError`
    ``LABEL 'PATH': GATEWAY cannot play it: REASON`` at the first that would not play.
    False when the gateway cannot check files (nothing was asked), else True."""
    check = getattr(port, "check_playback", None)
    if check is None:
        return False
    for label, path in files.items():
        if not path:
            continue
        try:
            check(path)
        except RpcError as err:
            if err.code is ErrorCode.UNKNOWN_METHOD:
                return False
            raise ConfigError(f"{label} {path!r}: {gateway} cannot play it: "
                              f"{err.message}") from err
    return True
