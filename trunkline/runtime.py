"""Process-wide settings a real-time media process needs."""

from __future__ import annotations


def limit_blas_threads() -> None:
    """Make numpy's BLAS single-threaded, even if numpy was loaded before trunkline.

    See trunkline/__init__.py for why: threaded BLAS costs milliseconds per small matrix
    product, which the 20 ms media tick cannot afford.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
