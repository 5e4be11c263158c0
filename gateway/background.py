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
