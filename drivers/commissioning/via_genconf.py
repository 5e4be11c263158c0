"""``trunkline config generate --via dahdi_genconf``: the real dahdi_genconf writes
system.conf, trunkline reads it back into its model.

Why: installers generate system.conf with ``dahdi_genconf`` (dahdi-tools' Perl script);
running it for them, with trunkline's choices as its parameters, gives the file they
know, and reading it back (``config import``'s reader) puts it in trunkline's model, so
that it can be compared with trunkline's own ``config generate``
(tests/dahdi/test_genconf_fxotune_tools.py does, on the simulated board).

How dahdi_genconf works (dahdi-tools 3.1.0, ``Dahdi::Config::Gen::System``): it reads
the spans from ``/proc/dahdi`` (``Dahdi::spans``), probes each analog port of a
WCTDM/OPVXA1200 board by letting ``dahdi_cfg`` try ``fxoks=N`` and ``fxsks=N``, and takes
its choices from ``genconf_parameters`` (``GENCONF_PARAMETERS``): the tone zone
(``lc_country``), the echo canceller (``echo_can``), each span's side (``pri_termtype``).
The file goes where ``DAHDI_CONF_FILE`` says. This wrapper writes a parameters file that
keeps the machine's own (``/etc/dahdi/genconf_parameters``) and sets those three from
trunkline's options, runs ``dahdi_genconf system`` into a temporary file, and reads it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from trunkline.errors import BackendError

from .via import run_tool

__all__ = ["MACHINE_PARAMETERS", "genconf_parameters", "generate_via_dahdi_genconf"]

MACHINE_PARAMETERS = "/etc/dahdi/genconf_parameters"
#: The genconf_parameters keys this wrapper sets from trunkline's options.
OUR_KEYS = ("lc_country", "echo_can", "pri_termtype")


def genconf_parameters(machine: str, zone: str, echocanceller: str, pri: str) -> str:
    """A genconf_parameters text: ``machine``'s lines without :data:`OUR_KEYS` (and
    their indented continuation lines: ``Dahdi::Config::Params`` reads a key without a
    value as a list), then ours. ``pri`` is trunkline's side (cpe/net): genconf's TE/NT."""
    kept: list[str] = []
    dropping = False
    for line in machine.splitlines():
        body = line.split("#", 1)[0].rstrip()
        if dropping and body[:1].isspace() and body.strip():
            continue
        dropping = False
        key = body.split(None, 1)[0].lower() if body.strip() and not body[:1].isspace() \
            else ""
        if key in OUR_KEYS:
            dropping = True
            continue
        kept.append(line)
    side = "NT" if pri == "net" else "TE"
    ours = [f"lc_country {zone}", f"echo_can {echocanceller or 'none'}", "pri_termtype",
            f"\tSPAN/* {side}"]
    return "\n".join([*kept, "# set by trunkline config generate --via dahdi_genconf",
                      *ours]) + "\n"


def generate_via_dahdi_genconf(zone: str, echocanceller: str, pri: str):
    """Run ``dahdi_genconf system``; its system.conf read into a
    :class:`~trunkline.drivers.backends.dahdi.sysconf.DahdiConfig`, and its text."""
    from trunkline.drivers.backends.dahdi import sysconf

    machine_file = os.environ.get("GENCONF_PARAMETERS", MACHINE_PARAMETERS)
    try:
        machine = Path(machine_file).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        machine = ""  # (dahdi_genconf too: a missing file is no error)
    with tempfile.TemporaryDirectory(prefix="trunkline-genconf-") as tmp:
        params = Path(tmp) / "genconf_parameters"
        params.write_text(genconf_parameters(machine, zone, echocanceller, pri),
                          encoding="utf-8")
        target = Path(tmp) / "system.conf"
        env = dict(os.environ, GENCONF_PARAMETERS=str(params), DAHDI_CONF_FILE=str(target))
        proc = run_tool("dahdi_genconf", "system", env=env)
        if "Empty configuration -- no spans" in proc.stderr or not target.is_file():
            raise BackendError("dahdi_genconf found no spans: /proc/dahdi lists none (is "
                               "the dahdi module loaded, and the board's driver?)")
        text = target.read_text(encoding="utf-8")
        config = sysconf.import_files(target)
    config.source = "dahdi_genconf"
    # dahdi_genconf's side of each PRI span is chan_dahdi's (pri_cpe/pri_net, written by
    # its chandahdi generator from the same pri_termtype); system.conf has no place for it.
    for group in config.groups:
        if group.signalling == "bchan":
            group.options.setdefault("pri", pri)
    return config, text
