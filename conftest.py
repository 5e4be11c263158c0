"""Options shared by every test folder (pytest reads the root conftest first)."""

from __future__ import annotations

import os
import tempfile

import trunkline  # noqa: F401  (sets single-threaded BLAS before any test imports numpy)
from trunkline.logs import configure_logging

# Services started by tests keep their fax spool, recordings and SMS store in a scratch
# folder of their own process (each pytest-xdist worker imports this file), never in the
# user's home and never shared between workers (one SQLite index per process).
_scratch = tempfile.mkdtemp(prefix="trunkline-tests-")
os.environ["TRUNKLINE_RECORDINGS"] = os.path.join(_scratch, "recordings")
os.environ["TRUNKLINE_FAX_SPOOL"] = os.path.join(_scratch, "fax")
os.environ["TRUNKLINE_SMS_STORE"] = os.path.join(_scratch, "sms.sqlite")

# The CLIs' words follow the POSIX locale (dialer/campaigns/refusal_words.py
# cli_language), and tests assert the English ones unless they pass --lang or an
# environment of their own: the messages category is English whatever the machine's.
if os.environ.get("LC_ALL"):
    os.environ["LC_ALL"] = "C.UTF-8"
os.environ["LC_MESSAGES"] = "C.UTF-8"

# Warnings and errors only, to whatever stderr is current: libpri and the gateway log
# at debug/info, which would drown test output.
configure_logging("warning", json=False)


def pytest_addoption(parser):
    parser.addoption(
        "--card", default="emulated",
        help="card the hil-tests run against: 'emulated' (default), 'emulated:CARD.toml', "
             "'dahdi:sim' (the DAHDI backend on the simulated kernel), or 'dahdi' on a "
             "machine with a board",
    )
