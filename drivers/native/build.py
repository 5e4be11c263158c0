"""Compile and load cffi API-mode extensions on first use, cached by content.

API mode lets the C compiler check our declarations against the library's real header
(a wrong struct layout or ioctl number fails the build instead of corrupting memory).
Building at first use rather than at ``pip install`` keeps ``import trunkline`` free of
native code and lets a missing ``-dev`` package produce a clear error naming it.

Extensions are built into ``$TRUNKLINE_CACHE`` (default ``~/.cache/trunkline/cffi``)
under a name that includes a hash of the declarations and the source, so a changed
binding is rebuilt and an unchanged one is loaded at once. A file lock makes concurrent
first uses (pytest-xdist workers) build once.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from trunkline.errors import BackendError

_LOADED: dict[str, ModuleType] = {}


class NativeBuildError(BackendError):
    """A native binding could not be compiled or loaded."""


def cache_dir() -> Path:
    base = os.environ.get("TRUNKLINE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "trunkline"
    )
    path = Path(base) / "cffi" / f"py{sys.version_info.major}{sys.version_info.minor}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_extension(
    name: str, cdef: str, source: str, *, libraries: tuple[str, ...] = (),
    debian_packages: tuple[str, ...] = (), extra_compile_args: tuple[str, ...] = (),
) -> ModuleType:
    """Build (once) and import the cffi extension ``name``; returns the module.

    ``debian_packages`` are named in the error when the build fails, so an installer
    knows what to install.
    """
    digest = hashlib.sha256(
        "\0".join([cdef, source, *libraries, *extra_compile_args]).encode()
    ).hexdigest()[:16]
    module_name = f"_trunkline_{name}_{digest}"
    if module_name in _LOADED:
        return _LOADED[module_name]
    directory = cache_dir()
    with open(directory / f"{module_name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = sorted(directory.glob(f"{module_name}.*.so")) + sorted(
            directory.glob(f"{module_name}.so")
        )
        if not built:
            built = [_compile(directory, module_name, cdef, source, libraries,
                              debian_packages, extra_compile_args)]
    spec = importlib.util.spec_from_file_location(module_name, built[0])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as err:
        raise NativeBuildError(f"cannot load the {name} binding: {err}") from err
    _LOADED[module_name] = module
    return module


def _compile(directory: Path, module_name: str, cdef: str, source: str,
             libraries: tuple[str, ...], debian_packages: tuple[str, ...],
             extra_compile_args: tuple[str, ...]) -> Path:
    import cffi
    from cffi import VerificationError

    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(module_name, source, libraries=list(libraries),
                   extra_compile_args=list(extra_compile_args))
    work = directory / f"{module_name}.build"
    try:
        path = ffi.compile(tmpdir=str(work), verbose=False)
    except (VerificationError, OSError) as err:
        hint = (f" (is {', '.join(debian_packages)} installed? apt-get install "
                f"{' '.join(debian_packages)})") if debian_packages else ""
        raise NativeBuildError(f"cannot build the {module_name} binding{hint}: {err}") from err
    target = directory / Path(path).name
    os.replace(path, target)
    return target
