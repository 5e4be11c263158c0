"""trunkline: an open hard dialer on commodity telephony boards.

The distribution has three layers, each importable on its own (see DESIGN.md):

- :mod:`trunkline.drivers`: cards, spans and channels over backends (emulated, DAHDI), DSP.
- :mod:`trunkline.gateway`: the service presenting every channel through one API.
- :mod:`trunkline.dialer`: campaigns, pacing, agents, compliance.

Importing :mod:`trunkline` loads no native library: backends and cffi bindings are
imported lazily, when first used.
"""

import os as _os

# The media tick multiplies small matrices (channels x a few hundred) every 20 ms. A
# multi-threaded BLAS wakes and spins worker threads for each of them, which on a
# 2-core machine turned a 40 us product into 7.5 ms (benchmarks/bench_gateway.py). One
# BLAS thread is right for real-time audio; the variables must be set before numpy
# loads BLAS, so they are set here, and runtime.limit_blas_threads() enforces it later.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

from trunkline._version import __version__ as __version__  # noqa: E402
