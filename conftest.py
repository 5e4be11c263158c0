"""Options shared by every test folder (pytest reads the root conftest first)."""

from __future__ import annotations

import trunkline  # noqa: F401  (sets single-threaded BLAS before any test imports numpy)
from trunkline.logs import configure_logging

# Warnings and errors only, to whatever stderr is current: libpri and the gateway log
# at debug/info, which would drown test output.
configure_logging("warning", json=False)


def pytest_addoption(parser):
    parser.addoption(
        "--card", default="emulated",
        help="card the hil-tests run against: 'emulated' (default), 'emulated:CARD.toml', "
             "or 'dahdi' on a machine with a board",
    )
