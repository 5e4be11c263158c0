"""Where a client may name files: every client-given path is confined to its root.

A gateway client names files on the gateway's host: a recording to write
(``call.record``), a fax to receive (``call.fax_receive``, ``fax.route_add``), documents
to send (``call.fax_send``, ``fax.send``, ``fax.broadcast``, fax-on-demand) and prompts
to play (``call.play``). A client is not the host's administrator, so each of those
paths must lie inside the folder configured for its purpose (docs/gateway.md, "Files a
client may name"): ``[recordings] root``, ``[fax] documents`` and ``[media] prompts``.

The rule is applied once, here, by every method (issue 15, red-team 4: ``call.record``
wrote through ``../../..``, ``call.play`` and ``fax.send`` read any file of the host):

- a relative path is taken inside the root; an absolute one must already lie in it;
- a ``..`` component or a NUL byte is refused outright (whatever it would resolve to);
- the path is resolved with every symbolic link followed (``os.path.realpath``) and the
  result must still lie inside the root (a link that leads out is an escape); the
  resolved path is what the gateway then opens, so no link is followed afterwards;
- a file to read must be a regular file (not a folder, a device or a FIFO, which would
  block the reader or read a disk); a file to write must not exist as anything but a
  regular file;
- the refusal says the same whether or not the path exists outside the root, so a client
  cannot probe the host with it; only inside its root is "no such file" (``not_found``)
  told apart.

Refusals are :class:`PathRefused` (``invalid_params`` on the wire, naming the method,
the parameter and the root); a missing file inside the root is :class:`NoSuchFile`
(``not_found``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from trunkline.errors import InvalidRequest, NotFound

__all__ = ["GatewayPaths", "NoSuchFile", "PathRefused", "PathRoot", "default_prompts"]

#: How much of a refused value a message repeats (a megabyte path is not echoed back).
_SHOWN = 120


def default_prompts() -> Path:
    """``$TRUNKLINE_PROMPTS``, else ``$XDG_STATE_HOME/trunkline/prompts`` (or
    ``~/.local/state/trunkline/prompts``), beside the default recordings and fax spool."""
    env = os.environ.get("TRUNKLINE_PROMPTS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "trunkline" / "prompts"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "...'"


class PathRefused(InvalidRequest):
    """A client-given path that is not allowed (outside its root, ``..``, NUL, a
    device...). ``param`` is the parameter, ``root`` the folder it must lie in."""

    def __init__(self, message: str, *, param: str, root: Path) -> None:
        self.param = param
        self.root = root
        super().__init__(message)


class NoSuchFile(NotFound):
    """A file to read that does not exist inside its root."""


@dataclass(frozen=True)
class PathRoot:
    """The folder one kind of client-named file must lie in.

    ``purpose`` names the kind in messages ("recordings", "fax documents", "prompts").
    """

    purpose: str
    root: Path

    def _refuse(self, method: str, param: str, value: object, why: str) -> PathRefused:
        return PathRefused(f"{method}: {param} {_shown(value)} {why}; {self.purpose} must "
                           f"lie in {self.root} (a relative path is taken there)",
                           param=param, root=self.root)

    def resolve(self, value: object, *, method: str, param: str) -> Path:
        """The real path ``value`` names inside the root, every link followed; raises
        :class:`PathRefused` for anything else (the checks of the module docstring)."""
        if not isinstance(value, str) or not value:
            raise self._refuse(method, param, value, "is not a path")
        if "\x00" in value:
            raise self._refuse(method, param, value, "contains a NUL byte")
        if ".." in Path(value).parts:
            raise self._refuse(method, param, value, "contains '..'")
        try:
            root = Path(os.path.realpath(self.root))
            real = Path(os.path.realpath(Path(value) if os.path.isabs(value)
                                         else root / value))
        except (OSError, ValueError):  # a link loop on a strict platform, a bad name
            raise self._refuse(method, param, value, "cannot be resolved") from None
        if real != root and root not in real.parents:
            # The same words whether or not the path exists, or is a link: a client
            # learns nothing about the host outside the root.
            raise self._refuse(method, param, value, "lies outside the allowed folder")
        return real

    def file_to_read(self, value: object, *, method: str, param: str) -> Path:
        """An existing regular file inside the root (resolved)."""
        real = self.resolve(value, method=method, param=param)
        try:
            mode = os.stat(real).st_mode
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchFile(f"{method}: {param} {_shown(value)}: no such file in "
                             f"{self.root}") from None
        except OSError as err:
            raise self._refuse(method, param, value,
                               f"cannot be read ({err.strerror or err})") from None
        if not stat.S_ISREG(mode):
            raise self._refuse(method, param, value, f"is {_kind(mode)}, not a regular file")
        return real

    def file_to_write(self, value: object, *, method: str, param: str) -> Path:
        """A file inside the root that is new or a regular file (resolved)."""
        real = self.resolve(value, method=method, param=param)
        if real == Path(os.path.realpath(self.root)):
            raise self._refuse(method, param, value, "is the folder itself, not a file")
        try:
            mode = os.stat(real).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return real
        except OSError as err:
            raise self._refuse(method, param, value,
                               f"cannot be written ({err.strerror or err})") from None
        if not stat.S_ISREG(mode):
            raise self._refuse(method, param, value, f"is {_kind(mode)}, not a regular file")
        return real

    def folder(self, value: object, *, method: str, param: str) -> Path:
        """A folder inside the root, existing or to be created (resolved)."""
        real = self.resolve(value, method=method, param=param)
        try:
            mode = os.stat(real).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return real
        except OSError as err:
            raise self._refuse(method, param, value,
                               f"cannot be used ({err.strerror or err})") from None
        if not stat.S_ISDIR(mode):
            raise self._refuse(method, param, value, f"is {_kind(mode)}, not a folder")
        return real


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


@dataclass(frozen=True)
class GatewayPaths:
    """The roots of one gateway service (built from its configuration)."""

    recordings: PathRoot
    fax: PathRoot
    prompts: PathRoot

    @classmethod
    def of(cls, *, recordings: Path, fax_documents: Path, prompts: Path) -> GatewayPaths:
        return cls(PathRoot("recordings", Path(recordings)),
                   PathRoot("fax documents", Path(fax_documents)),
                   PathRoot("prompts", Path(prompts)))
