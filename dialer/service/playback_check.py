"""The service's sound files checked on every gateway before it starts.

``trunkline dialer serve --hold-file WAV`` names music on hold that the gateway plays
when an agent presses Hold; ``--abandon-file WAV`` the message an abandoned customer
hears. Both are files on the gateway's host, confined to its prompts folder (red-team
defect 4), so only the gateway can say whether one is playable. Without a check, a typo
showed only when the first customer was put on hold (silence, or the fallback tone) or
abandoned (no message, which the TSR and Ofcom require). Here each gateway is asked
once at start (``prompts.check``: the check ``call.play`` makes, without a call), and a
file that would not play stops the start with the option, the gateway and its reason.

A gateway that cannot be reached stops the start too when a file is given: the file
cannot be vouched for. One too old to know ``prompts.check`` is reported and passed
(the file is then found wanting only when played, as before).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from trunkline.dialer.runner.sound_files import check_sound_files
from trunkline.errors import ConfigError

__all__ = ["check_playback_files"]


def check_playback_files(specs: Iterable[Any], files: Mapping[str, str | None], *,
                         warn: TextIO | None = None) -> None:
    """Ask each gateway of ``specs`` (:class:`~trunkline.dialer.service.host.GatewaySpec`:
    ``name``, ``open() -> (port, close)``) whether each file of ``files`` (option ->
    path; None: not given) would play; :class:`ConfigError` naming the option, the file,
    the gateway and the reason at the first that would not. Opens nothing when no file
    is given."""
    given = {option: path for option, path in files.items() if path is not None}
    if not given:
        return
    for spec in specs:
        try:
            port, close = spec.open()
        except Exception as err:
            options = ", ".join(f"{option} {path!r}" for option, path in given.items())
            raise ConfigError(f"{options}: cannot be checked: gateway {spec.name} cannot "
                              f"be reached ({err})") from err
        try:
            if not check_sound_files(port, given, gateway=f"gateway {spec.name}"):
                print(f"trunkline: {', '.join(given)}: gateway {spec.name} cannot check "
                      "files (no prompts.check: an older gateway); they are checked "
                      "when first played", file=warn or sys.stderr)
        finally:
            close()
