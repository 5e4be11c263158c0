"""Build the dahdisim ``LD_PRELOAD`` library (``dahdisim.c``) and run programs under it.

Why a library of our own: the real dahdi-tools are unmodified Debian binaries; the only
way to put our simulated kernel under them without a kernel module is to take their
libc calls on ``/dev/dahdi/*`` (see ``dahdisim.c`` for what is forwarded) to
:class:`~.simserver.SimServer`.

The library is compiled on first use into trunkline's native cache (beside the cffi
bindings, keyed by a hash of the source, so an edited source is rebuilt) and
``scripts/setup`` builds it once, so CI and installers never compile at test time.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from trunkline.drivers.native.build import NativeBuildError, cache_dir

__all__ = ["ROOT_ENV", "SOCKET_ENV", "SPEED_ENV", "build_preload", "run_under_sim"]

#: The variable that tells the interposer where the server listens.
SOCKET_ENV = "TRUNKLINE_DAHDISIM_SOCKET"
#: The directory whose ``proc/dahdi`` the interposer reads for ``/proc/dahdi``.
ROOT_ENV = "TRUNKLINE_DAHDISIM_ROOT"
#: How many times faster than the wall clock the kernel and the program's sleeps run.
SPEED_ENV = "TRUNKLINE_DAHDISIM_SPEED"


def _source() -> str:
    return (resources.files("trunkline.drivers.backends.dahdi") / "dahdisim.c").read_text(
        encoding="utf-8")


def build_preload() -> Path:
    """The compiled interposer (built the first time); raises NativeBuildError."""
    source = _source()
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    directory = cache_dir()
    target = directory / f"dahdisim-{digest}.so"
    with open(directory / f"dahdisim-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise NativeBuildError(
                "cannot build the dahdisim interposer: no C compiler (install Debian's "
                "build-essential, as scripts/setup does)")
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            src = Path(tmp) / "dahdisim.c"
            src.write_text(source, encoding="utf-8")
            built = Path(tmp) / "dahdisim.so"
            proc = subprocess.run(
                [compiler, "-O2", "-Wall", "-shared", "-fPIC", "-o", str(built), str(src),
                 "-ldl", "-lpthread"], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise NativeBuildError(
                    "cannot build the dahdisim interposer (it needs dahdi/user.h from "
                    f"Debian's dahdi-source and a C compiler):\n{proc.stderr.strip()}")
            os.replace(built, target)
    return target


def run_under_sim(command: Sequence[str], system: str | Path | None = None,
                  speed: float = 1.0) -> int:
    """Run ``command`` against one fresh simulated kernel; its exit status.

    ``system`` is a simulated system (a file or a bundled name, as ``dahdi:sim=``
    takes); None is the default system (the sample TE420 and TDM410P). The kernel runs
    on the wall clock, since the program under it does. A command killed by a signal
    returns 128 + the signal's number, as a shell reports it. ``speed`` runs the kernel
    and the program's sleeps and wall clock that many times faster (dahdisim.c: for tools
    that wait on the wall clock, such as fxotune).
    """
    from trunkline.clock import RealClock, ScaledClock
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel, bundled_system
    from trunkline.drivers.backends.dahdi.simserver import SimServer

    library = build_preload()
    kernel = SimulatedKernel(bundled_system(str(system)) if system else None,
                             clock=RealClock() if speed == 1.0 else ScaledClock(speed))
    with tempfile.TemporaryDirectory(prefix="dahdisim-") as tmp:
        root = os.path.join(tmp, "root")
        server = SimServer(kernel, os.path.join(tmp, "kernel.sock"), root).start()
        env = dict(os.environ)
        env[SOCKET_ENV] = server.path
        env[ROOT_ENV] = root
        if speed != 1.0:
            env[SPEED_ENV] = repr(float(speed))
        env["LD_PRELOAD"] = " ".join(filter(None, [str(library), env.get("LD_PRELOAD")]))
        try:
            proc = subprocess.run(list(command), env=env, check=False)
        except FileNotFoundError as err:
            raise NativeBuildError(f"dahdi-sim: cannot run {command[0]!r}: "
                                   f"{err.strerror}") from err
        finally:
            server.stop()
            # dahdi_cfg's mutex for this kernel (dahdisim.c: sem_name), left behind when
            # dahdi_cfg exits without releasing it (apply_fiftysix's exit(-1)).
            sem = Path("/dev/shm") / ("sem.dahdi_cfg" + server.path.replace("/", "_"))
            sem.unlink(missing_ok=True)
    code = proc.returncode
    return 128 + signal.Signals(-code).value if code < 0 else code
