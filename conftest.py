"""Options shared by every test folder (pytest reads the root conftest first)."""

from __future__ import annotations

import trunkline  # noqa: F401  (sets single-threaded BLAS before any test imports numpy)


def pytest_addoption(parser):
    parser.addoption(
        "--card", default="emulated",
        help="card the hil-tests run against: 'emulated' (default), 'emulated:CARD.toml', "
             "or 'dahdi' on a machine with a board",
    )
