"""dahdi_genconf (and fxotune) against the simulated DAHDI kernel (issue 14, item 2).

The simulated kernel's ``/proc/dahdi`` (what dahdi-tools' Perl modules read) follows
dahdi-base.c's ``dahdi_seq_show``; under ``trunkline dahdi-sim`` the real
``dahdi_genconf`` reads it, probes the analog ports with the real ``dahdi_cfg``, and
writes a system.conf that must say what ``trunkline config generate`` says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dahdi_helpers import sim_card
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.backends.dahdi import sysconf
from trunkline.drivers.backends.dahdi.device import CHANNEL, CTL
from trunkline.drivers.backends.dahdi.simprocfs import lineconfig_str, render_span, write_tree
from trunkline.drivers.commissioning.via_genconf import genconf_parameters

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
TRUNKLINE = f"{sys.executable} -m trunkline"
TIMEOUT = 120  # a hung tool fails the test instead of the run (not a timing assertion)


def _needs(*tools: str) -> pytest.MarkDecorator:
    missing = [t for t in tools if shutil.which(t, path=SBIN) is None]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed "
                              "(Debian's dahdi package, installed by scripts/setup)")


def sim(script: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``trunkline dahdi-sim -- sh -c SCRIPT`` (one simulated kernel for the script)."""
    command = [sys.executable, "-m", "trunkline", "dahdi-sim", "--", "sh", "-c", script,
               "sh", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT,
                          env=dict(os.environ, PATH=SBIN), check=False)


# -- /proc/dahdi as dahdi-base.c writes it ------------------------------------------------
def test_lineconfig_str_names_coding_framing_crc4_in_bit_order():
    _, kernel = sim_card()
    lib = kernel.lib
    assert lineconfig_str(lib.DAHDI_CONFIG_CCS | lib.DAHDI_CONFIG_HDB3
                          | lib.DAHDI_CONFIG_CRC4) == "CCS/HDB3/CRC4"
    assert lineconfig_str(lib.DAHDI_CONFIG_ESF | lib.DAHDI_CONFIG_B8ZS) == "ESF/B8ZS"
    assert lineconfig_str(lib.DAHDI_CONFIG_D4 | lib.DAHDI_CONFIG_AMI) == "D4/AMI"
    assert lineconfig_str(lib.DAHDI_CONFIG_HDB3) == "HDB3"  # E1 CAS: no framing bit
    assert lineconfig_str(0) == ""


_NAMES = {4: "D4", 5: "ESF", 6: "AMI", 7: "B8ZS", 8: "CCS", 9: "HDB3", 10: "CRC4"}


@given(st.integers(min_value=0, max_value=(1 << 17) - 1))
def test_lineconfig_str_takes_one_coding_one_framing_and_crc4(lineconfig: int):
    names = [n for n in lineconfig_str(lineconfig).split("/") if n]
    bits = [b for b, n in _NAMES.items() for m in names if m == n]
    assert bits == sorted(bits)  # in bit order
    assert all(lineconfig & (1 << b) for b in bits)  # only bits that are set
    assert sum(n in ("AMI", "B8ZS", "HDB3") for n in names) <= 1
    assert sum(n in ("D4", "ESF", "CCS") for n in names) <= 1


def test_proc_dahdi_span_and_channels_as_dahdi_seq_show(tmp_path: Path):
    _, kernel = sim_card()
    lib, ffi = kernel.lib, kernel.ffi
    text = render_span(kernel, 1).splitlines()
    # Span line: name, quoted description, (MASTER), lineconfig, alarms, ClockSource.
    assert text[0] == 'Span 1: SIM/1 "Simulated E1 span 1" (MASTER) CCS/HDB3/CRC4 ClockSource '
    assert text[1] == ""
    assert text[2] == "\t   1 SIM/1/1 Clear "
    assert text[17] == "\t  16 SIM/1/16 HDLCFCS "
    # A channel held open is "(In use)"; an attached echo canceller is named with its
    # state (ACTIVE once an instance runs: DAHDI_ECHOCANCEL_PARAMS on an audio channel).
    ctl = kernel.open(CTL)
    ec = ffi.new("struct dahdi_attach_echocan *")
    ec.chan, ec.echocan = 32, b"oslec"
    kernel.ioctl(ctl, lib.DAHDI_ATTACH_ECHOCAN, ec)
    fd = kernel.open(CHANNEL)
    kernel.ioctl(fd, lib.DAHDI_SPECIFY, ffi.new("int *", 32))
    analog = render_span(kernel, 2).splitlines()
    assert analog[0] == 'Span 2: SIM/2 "Simulated analog span 2" '
    assert analog[2] == "\t  32 SIM/2/1 FXSKS (In use) (EC: OSLEC - INACTIVE) "
    assert analog[3] == "\t  33 SIM/2/2 FXOKS "
    params = ffi.new("struct dahdi_echocanparams *")
    params.tap_length = 128
    kernel.ioctl(fd, lib.DAHDI_ECHOCANCEL_PARAMS, params)
    assert render_span(kernel, 2).splitlines()[2].endswith("(EC: OSLEC - ACTIVE) ")
    kernel.close(fd)
    # Alarms and counters: a span in RED with bipolar violations.
    kernel.inject("alarm", span=1, alarm="red")
    kernel.inject("counters", span=1, bpv=7)
    red = render_span(kernel, 1).splitlines()
    assert red[0].endswith("CCS/HDB3/CRC4 RED ") and "(MASTER)" not in red[0]
    assert red[1:4] == ["\tBPV count: 7", "\tFAS error count: 1", ""]
    assert red[4] == "\t   1 SIM/1/1 Clear RED "
    write_tree(kernel, tmp_path)
    assert sorted(p.name for p in (tmp_path / "proc/dahdi").iterdir()) == ["1", "2"]


def test_genconf_parameters_keep_the_machines_and_set_ours():
    machine = ("# site\ncontext_lines  from-pstn\nlc_country  us\npri_termtype\n"
               "\tSPAN/1 NT\n\tSPAN/2 TE\necho_can mg2\nfxs_default_start ls\n")
    text = genconf_parameters(machine, "cn", "", "net")
    lines = text.splitlines()
    assert "context_lines  from-pstn" in lines and "fxs_default_start ls" in lines
    assert "lc_country  us" not in lines and "\tSPAN/1 NT" not in lines
    assert "echo_can mg2" not in lines
    assert lines[-4:] == ["lc_country cn", "echo_can none", "pri_termtype", "\tSPAN/* NT"]


# -- the real dahdi_genconf under dahdi-sim ------------------------------------------------
def _by_channel(config: sysconf.DahdiConfig, key: str) -> dict[int, str]:
    return {c: getattr(g, key) for g in config.groups for c in g.channels}


@_needs("dahdi_genconf", "dahdi_cfg")
def test_dahdi_genconf_agrees_with_config_generate(tmp_path: Path):
    out = sim(f"{TRUNKLINE} config generate --card dahdi -o ours.toml "
              f"--system-conf ours.conf && {TRUNKLINE} config generate --card dahdi "
              "--via dahdi_genconf -o theirs.toml --system-conf theirs.conf", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    ours = sysconf.load_config(tmp_path / "ours.toml")
    theirs = sysconf.load_config(tmp_path / "theirs.toml")
    text = (tmp_path / "theirs.conf").read_text()
    assert "Autogenerated by /usr/sbin/dahdi_genconf" in text  # genconf's own file
    assert "echocanceller=oslec,1-15,17-31" in text and "fxoks=127" in text
    # Same spans (number, timing, framing, coding, CRC4), same signalling on every
    # channel, the same echo canceller on the same channels, the same zones.
    def spans(c: sysconf.DahdiConfig) -> list[tuple]:
        return [(s.span, s.timing, s.lbo, s.framing, s.coding, s.crc4) for s in c.spans]
    assert spans(theirs) == spans(ours) == [
        (n, n, 0, "ccs", "hdb3", True) for n in range(1, 5)]
    assert _by_channel(theirs, "signalling") == _by_channel(ours, "signalling")
    sig = _by_channel(ours, "signalling")
    assert (sig[16], sig[1], sig[125], sig[127]) == ("dchan", "bchan", "fxo_ks", "fxs_ks")
    assert _by_channel(theirs, "echocanceller") == _by_channel(ours, "echocanceller")
    assert _by_channel(ours, "echocanceller")[16] == ""  # never on a D-channel
    assert (theirs.loadzones, theirs.zone) == (ours.loadzones, ours.zone) == (["cn"], "cn")
    assert {g.options.get("pri") for g in theirs.groups if g.signalling == "bchan"} == {"cpe"}


@_needs("dahdi_genconf", "dahdi_cfg")
def test_dahdi_genconf_follows_what_dahdi_cfg_applied(tmp_path: Path):
    # After dahdi_cfg has made span 1 an E1 CAS (R2) span, /proc/dahdi says so and
    # genconf still lays it out as PRI (its pri_connection_type), as on a board.
    (tmp_path / "r2.conf").write_text("span=1,1,0,cas,hdb3\ncas=1-15,17-31:1101\n")
    out = sim('dahdi_cfg -c r2.conf && head -4 /proc/dahdi/1 && '
              f'{TRUNKLINE} config generate --card dahdi --via dahdi_genconf -o g.toml '
              '--system-conf g.conf --zone us --echocanceller none', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    head = out.stdout.splitlines()
    assert head[0].startswith('Span 1: TE4/0/1 "T4XXP (PCI) Card 0 Span 1"')
    # The sample's line behind span 1 is CCS framed: a CAS span loses frame alignment.
    assert head[0].endswith('" HDB3 RED ') and head[1].startswith("\tFAS error count: ")
    assert head[3] == "\t   1 TE4/0/1/1 CAS RED "
    text = (tmp_path / "g.conf").read_text()
    assert "span=1,1,0,ccs,hdb3,crc4\n" in text and "echocanceller" not in text
    assert "loadzone\t= us\n" in text
