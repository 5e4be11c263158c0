"""Single background threads for work that must never run in the media tick.

Writing documents (fax PDFs) and finishing recordings touch the disk for an unknown
time; each kind of work gets one lazily created thread, shared by every call.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def worker(name: str) -> ThreadPoolExecutor:
    """The one-thread pool called ``name`` (created on first use)."""
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix=f"trunkline-{name}")
        return pool


def drain(timeout: float = 30.0) -> None:
    """Wait until every background thread has finished the work queued so far.

    The in-process gateway calls this after each tick of virtual time, so that what a
    background thread reports (a fax delivered, a recording checked) lands in the same
    tick however fast the machine is.
    """
    with _lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.submit(lambda: None).result(timeout=timeout)
