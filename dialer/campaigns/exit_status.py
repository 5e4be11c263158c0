"""The exit status of the commands that take numbers in: ``dialer import``, ``dnc import``,
``dnc add`` (and ``dnc remove``, whose arguments are refused as add's are); one rule, so
a script or a cron job reads them all the same way.

* :data:`IMPORTED` (0): every row, line or argument was taken.
* :data:`FAILED` (1): nothing was taken: the error is said on stderr (no such campaign or
  file, a file in no text encoding, no number column, the same list imported already).
* :data:`IMPORTED_WITH_REFUSALS` (3): the file was taken, but rows (lines, arguments)
  were refused, each said with its line and reason (``dialer import`` also writes them to
  ``FILE.rejected.csv``); even when every row was refused, since the refusals are then
  the whole report.

Why a status of its own for the third case: before, ``dialer import`` exited 0 when it
refused rows and ``dnc import`` 1, so the same outcome read as success from one and as
failure from the other. 0 for it hides numbers that will be dialled wrongly or not barred
(a refused DNC line is a number the dialer will call); 1 for it makes a cron job that
retries on failure import the good rows again and again. 3 lets a job accept it on
purpose (``trunkline dialer import ... || [ $? -eq 3 ]``). 2 stays argparse's usage error
(and ``dnc check``'s "could not be read as a number"), so the next free status is taken.
Other tools keep a status of their own for a partial outcome the same way (rsync(1):
23, "Partial transfer due to error").
"""

from __future__ import annotations

IMPORTED = 0
FAILED = 1
IMPORTED_WITH_REFUSALS = 3

#: The sentence --help prints under each of these commands.
EPILOG = ("Exit status: 0 every entry taken; 3 taken, but some refused (each said with its "
          "line and reason); 1 nothing taken (the error is said).")


def status(refused: int) -> int:
    """The exit status once the input was taken, with ``refused`` entries refused."""
    return IMPORTED_WITH_REFUSALS if refused else IMPORTED
