"""system.conf read as dahdi_cfg reads it (issue 14): the corpus of installers' files,
each keyword's meaning, every rejection with its line, and -- where dahdi-tools is
installed -- the real ``dahdi_cfg -t`` giving the same verdict on the same lines."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.drivers.backends.dahdi import cfgsyntax, sysconf
from trunkline.drivers.backends.dahdi.sysconf import SystemConfError
from trunkline.ranges import format_ranges

DATA = Path(__file__).parent / "data"
GOOD = sorted(p.name for p in DATA.glob("*.conf") if p.name != "broken.conf")


def parse(text: str) -> sysconf.DahdiConfig:
    return sysconf.parse_system_conf(text, "system.conf")


def error_lines(text: str) -> list[int]:
    try:
        parse(text)
    except SystemConfError as err:
        return sorted({n for n, _ in err.errors})
    return []


def round_trip(config: sysconf.DahdiConfig) -> sysconf.DahdiConfig:
    """import -> TOML -> generate system.conf -> import."""
    again = sysconf.config_from_string(sysconf.to_toml(config))
    return parse(sysconf.to_system_conf(again))


# -- the corpus -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", GOOD)
def test_every_corpus_file_imports_and_round_trips(name):
    config = sysconf.parse_system_conf((DATA / name).read_text(), name)
    assert sysconf.to_toml(round_trip(config)) == sysconf.to_toml(config)


def groups(name: str) -> dict[str, list[tuple[str, str, str, str]]]:
    config = parse((DATA / name).read_text())
    out: dict[str, list[tuple[str, str, str, str]]] = {}
    for g in config.groups:
        out.setdefault(g.signalling, []).append(
            (format_ranges(g.channels), g.idlebits, g.echocanceller, g.law))
    return out


def test_te420_four_e1_pri_spans():
    config = parse((DATA / "te420_e1_pri.conf").read_text())
    assert [(s.span, s.timing, s.kind, s.crc4) for s in config.spans] == [
        (1, 1, "e1", True), (2, 2, "e1", True), (3, 3, "e1", True), (4, 0, "e1", True)]
    g = groups("te420_e1_pri.conf")
    assert [c for c, *_ in g["dchan"]] == ["16", "47", "78", "109"]
    assert g["bchan"][3] == ("94-108,110-124", "", "oslec", "")
    assert config.zone == "cn" and config.loadzones == ["cn"]


def test_openvox_a1200_ports_and_a_law_on_the_fxo_ports():
    g = groups("openvox_a1200_analog.conf")
    assert g == {"fxs_ks": [("1-6", "", "oslec", "")],     # fxoks: phones
                 "fxo_ks": [("7-12", "", "oslec", "alaw")]}  # fxsks: PSTN lines


def test_openvox_a800_one_line_per_port_and_two_echo_cancellers():
    config = parse((DATA / "openvox_a800_analog.conf").read_text())
    assert config.loadzones == ["us", "cn"] and config.zone == "cn"
    ec = {c: g.echocanceller for g in config.groups for c in g.channels}
    assert ec == {1: "mg2", 2: "mg2", 3: "mg2", 4: "mg2", 5: "oslec", 6: "oslec",
                  7: "oslec", 8: "oslec"}


def test_e1_cas_r2_line():
    config = parse((DATA / "e1_cas_r2.conf").read_text())
    assert (config.spans[0].framing, config.spans[0].kind) == ("cas", "e1")
    assert groups("e1_cas_r2.conf") == {"cas": [("1-15,17-31", "1101", "oslec", "")]}
    assert "cas=1-15,17-31:1101" in sysconf.to_system_conf(config)


def test_bri_ports_te_and_nt_with_termination():
    config = parse((DATA / "bri_b410p.conf").read_text())
    assert [(s.kind, s.nt, s.term) for s in config.spans] == [
        ("bri", False, False), ("bri", False, False), ("bri", True, True), ("bri", True, True)]
    layout, _ = sysconf.channel_layout(config)
    assert layout[6] == (2, 3) and layout[7] == (3, 1)   # three channels a port
    text = sysconf.to_system_conf(config)
    assert "span=1,1,0,ccs,ami,te" in text and "span=3,0,0,ccs,ami,nt,term" in text
    toml = sysconf.to_toml(config)
    assert 'kind = "bri"' in toml and "nt = true" in toml and "term = true" in toml


def test_t1_pri():
    config = parse((DATA / "t1_pri.conf").read_text())
    assert (config.spans[0].kind, config.spans[0].framing, config.spans[0].coding) == (
        "t1", "esf", "b8zs")
    assert groups("t1_pri.conf") == {"bchan": [("1-23", "", "hwec", "")],
                                     "dchan": [("24", "", "", "")]}


def test_the_less_common_keywords_keep_their_meaning():
    config = parse((DATA / "mixed_keywords.conf").read_text())
    g = groups("mixed_keywords.conf")
    assert g["dacs"] == [("1-4", "25", "", "mulaw")]          # 1-4 cross-connect 25-28
    assert g["clear"] == [("5-8", "", "", "mulaw")]           # one bonded pipe
    assert g["nethdlc"] == [("9-10", "hdlc0", "", "mulaw")]
    assert g["cas"] == [("11-20", "0001", "", "mulaw")]       # user= is cas=
    assert g["bchan"] == [("21", "", "", ""), ("22", "", "", "mulaw")]   # indclear; deflaw
    assert config.hdlc56k == (9,) and config.spans[0].yellow
    text = sysconf.to_system_conf(config)
    for line in ("dacs=1-4:25", "clear=5-8", "nethdlc=9-10:hdlc0", "cas=11-20:0001",
                 "56k=9", "mulaw=1-20,22-24"):
        assert line in text.splitlines()


def test_dacs_destinations_count_as_configured():
    assert error_lines("dacs=1-2:10\nbchan=11\n") == [2]
    assert error_lines("bchan=11\ndacs=1-2:10\n") == [2]


def test_broken_file_names_each_line():
    with pytest.raises(SystemConfError) as info:
        sysconf.parse_system_conf((DATA / "broken.conf").read_text(), "broken.conf")
    assert [n for n, _ in info.value.errors] == [5, 6, 7, 8, 9, 10, 11, 12]
    text = str(info.value)
    assert "line 5: channel 31 already configured as bchan on line 3" in text
    assert "line 8: unknown keyword 'sf'" in text
    assert "line 11: unknown keyword 'echo' (did you mean echocanceller?)" in text


# -- meanings, one keyword at a time ------------------------------------------------------------
def test_law_lines_the_last_wins_and_deflaw_resets():
    config = parse("bchan=1-4\nalaw=1-4\nmulaw=2\ndeflaw=3\n")
    assert {c: g.law for g in config.groups for c in g.channels} == {
        1: "alaw", 2: "mulaw", 3: "", 4: "alaw"}
    config = parse("alaw=1\nfxoks=1\nmulaw=9\n")   # before the type is fine too
    assert config.groups[0].law == "alaw"
    assert any(":3: law on channel 9, which has no channel type" in w
               for w in config.warnings)


def test_span_options_the_last_of_nt_and_te_wins():
    assert parse("span=1,0,0,ccs,ami,nt,te\n").spans[0].nt is False
    assert parse("span=1,0,0,ccs,ami,te,nt\n").spans[0].nt is True
    assert parse("SPAN=1,0,0,CCS,AMI,TERM\n").spans[0].term is True
    assert parse("span=1,0,0,ccs,hdb3,crc4,yellow,yellow\n").spans[0].kind == "e1"


def test_radio_lines_are_kept_in_order_and_written_back():
    text = "ctcss=1,2,D3\nrxgain=-5\nchannels=1-4\nfxoks=1-4\ninvertcor=y\nchannel=5\n"
    config = parse(text)
    assert config.radio == ["ctcss=1,2,D3", "rxgain=-5", "channels=1-4", "invertcor=y",
                            "channel=5"]
    assert any("trunkline drives no radio interface" in w for w in config.warnings)
    assert round_trip(config).radio == config.radio
    many = "".join(f"ctcss={t},0,{t}\n" for t in range(1, 16))   # 14 tone slots
    assert error_lines(many) == [15]
    assert error_lines(many.replace("ctcss=15", "channels=1\nctcss=15")) == []


def test_lists_are_read_as_apply_channels_reads_them():
    config = parse("bchan = 5, 1-3 ,2,\t\nechocanceller=oslec,,1-3,\n")
    assert {c: g.echocanceller for c, g in config.channel_map().items()} == {
        1: "oslec", 2: "oslec", 3: "oslec", 5: ""}
    assert parse("fxoks=3x\n").groups[0].channels == (3,)   # sscanf("%d") stops at 'x'
    assert any("names no channels" in w for w in parse("echocanceller=oslec\n").warnings)


@pytest.mark.parametrize(("line", "message"), [
    ("bchan=5-3", "it must start before it ends"),
    ("bchan=0", "bad channel '0'"),
    ("bchan=1024", "bad channel '1024'"),
    ("bchan=1-", "bad channel range '1-'"),
    ("bchan=1,,2", "bad channel ''"),
    ("span=1,256,0,ccs,hdb3", "timing must be 0"),
    ("span=1,-1,0,ccs,hdb3", "timing must be 0"),
    ("span=1,0,8,ccs,hdb3", "lbo must be 0..7"),
    ("span=1,0,0,ccs,hdb3,crc4,yellow,nt,term,te", "span= takes"),
    ("span=1,0,0,ccs,hdb3,nope", "unknown span option 'nope'"),
    ("span=1,0,0,sf,b8zs", "framing must be"),
    ("dynamic=eth,00:11:22:33:44:55/0,0,1", "channels must be a number > 0"),
    ("dynamic=eth,addr,24", "dynamic= takes"),
    ("cas=1-15", "idle bits"),
    ("cas=1-15:11x1", "idle bits"),
    ("dacs=1-2", "first destination channel"),
    ("defaultzone=xx", "no such tone zone 'xx'"),
    ("loadzone=us,cn", "one zone per loadzone= line"),
    ("sf=1", "unknown keyword 'sf'"),
    ("ctcss=1,2", "ctcss= takes 3 values"),
    ("ctcss=0,2,3", "rxtone must be a number >= 1"),
    ("corthresh=100", "corthresh must be one of"),
    ("exttone=3", "exttone must be y, n, i or 0..2"),
    ("dcsrx=0", "dcsrx must be a number >= 1"),
    ("channels=4-1", "it must start before it ends"),
    ("fxoks", "expected 'keyword=value'"),
    ("fxoks=", "expected 'keyword=value'"),
    ("=1-4", "expected 'keyword=value'"),
    ("  # an indented comment", "a line of only blanks"),
    ("\t", "a line of only blanks"),
])
def test_each_rejection_names_its_line(line, message):
    with pytest.raises(SystemConfError) as info:
        parse(f"# first\n{line}\n")
    assert [n for n, _ in info.value.errors] == [2]
    assert message in str(info.value)


def test_a_long_line_is_read_in_pieces_as_dahdi_cfg_reads_it():
    # readline's fgets takes 255 bytes at a time; the rest is a line of its own.
    long = "echocanceller=oslec," + ",".join(str(c) for c in range(1, 100))
    with pytest.raises(SystemConfError) as info:
        parse(f"# first\n{long}\nbogus=1\n")
    assert [n for n, _ in info.value.errors] == [3, 4]
    text = str(info.value)
    assert "line 3: the rest of line 2 of the file, longer than 255 characters" in text
    assert "line 4: unknown keyword 'bogus'" in text and "(line 3 of the file: " in text
    assert error_lines("fxoks=1 #" + "x" * 246 + "#and the rest\n") == []
    assert error_lines("#" + "0" * 300 + "\nfxoks=1\n") == [2]
    assert error_lines("fxoks=1" + " " * 248 + "\n") == []   # 255 bytes, then "\n"


def test_a_crlf_file_is_read_with_its_carriage_returns(tmp_path):
    # dahdi_cfg reads bytes: "fxoks=1\r" is trimmed, but an empty CRLF line ("\r") is a
    # line of blanks, a syntax error.
    (tmp_path / "system.conf").write_bytes(b"fxoks=1\r\n\r\nfxoks=2\r\n")
    with pytest.raises(SystemConfError) as info:
        sysconf.import_files(tmp_path / "system.conf")
    assert [n for n, _ in info.value.errors] == [2]
    (tmp_path / "system.conf").write_bytes(b"fxoks=1\r\n# note\r\nfxoks=2\r\n")
    assert len(sysconf.import_files(tmp_path / "system.conf").groups) == 2


def test_nothing_is_written_when_the_import_fails(tmp_path, capsys):
    (tmp_path / "system.conf").write_text((DATA / "broken.conf").read_text())
    out = tmp_path / "card.toml"
    assert main(["config", "import", "--system-conf", str(tmp_path / "system.conf"),
                 "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "8 errors" in err and "line 12: dacs needs" in err
    assert not out.exists()


def test_generated_lines_stay_within_dahdi_cfgs_line_length():
    config = parse("".join(f"bchan={c}\n" for c in range(1, 400, 2)))
    text = sysconf.to_system_conf(config)
    assert max(len(line) for line in text.splitlines()) <= cfgsyntax.MAX_LINE
    assert parse(text).channel_map().keys() == config.channel_map().keys()


# -- hypothesis: lists and round trips -----------------------------------------------------------
@given(st.lists(st.tuples(st.integers(1, 1023), st.integers(0, 5)), min_size=1, max_size=12),
       st.sampled_from(["", " ", "\t"]), st.booleans())
def test_any_written_list_reads_as_its_channels(parts, blank, trailing):
    text = f",{blank}".join(f"{lo}-{min(lo + n, 1023)}" if n else str(lo) for lo, n in parts)
    text += "," if trailing else ""
    want = sorted({c for lo, n in parts for c in range(lo, min(lo + n, 1023) + 1)})
    assert cfgsyntax.channel_list(text) == tuple(want)
    assert cfgsyntax.channel_list(format_ranges(want)) == tuple(want)


@st.composite
def files(draw):
    """Valid system.conf files over every keyword dahdi_cfg knows (radio excepted):
    E1, T1 and BRI spans, any channel type, law and echo canceller lines in any order."""
    lines: list[str] = []
    base = 1   # channel lines go after the spans' channels (the kernel decides theirs)
    for number in range(1, draw(st.integers(0, 4)) + 1):
        kind = draw(st.sampled_from(["e1", "t1", "bri"]))
        base += sysconf.SPAN_CHANNELS[kind]
        opts = {"e1": ["ccs,hdb3", "cas,hdb3", "ccs,ami", "ccs,hdb3,crc4"],
                "t1": ["esf,b8zs", "d4,ami", "esf,b8zs,yellow"],
                "bri": ["ccs,ami,te", "ccs,ami,nt", "ccs,ami,nt,term", "ccs,ami,te,term"]}
        lines.append(f"span={number},{draw(st.integers(0, 255))},{draw(st.integers(0, 7))},"
                     f"{draw(st.sampled_from(opts[kind]))}")
    free = list(range(base, base + 200))
    for _ in range(draw(st.integers(0, 8))):
        key = draw(st.sampled_from(sorted(sysconf.SYSTEM_CONF_TYPES)))
        size = draw(st.integers(1, 6))
        start = draw(st.integers(0, max(0, len(free) - 2 * size - 1)))
        chans = free[start:start + size]
        if not chans:
            break
        suffix = {"cas": ":1101", "user": ":0101", "nethdlc": ":hdlc1"}.get(key, "")
        if key in ("dacs", "dacsrbs"):
            targets = free[start + size:start + 2 * size]
            if len(targets) < size or targets != list(range(targets[0], targets[0] + size)):
                continue
            suffix = f":{targets[0]}"
            chans = chans + targets
        free = [c for c in free if c not in chans]
        lines.append(f"{key}={format_ranges(chans[:size] if suffix[1:].isdigit() else chans)}"
                     f"{suffix}")
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(["alaw", "mulaw", "deflaw", "echocanceller", "56k"]))
        lo = draw(st.integers(1, base + 190))
        chans = f"{lo}-{lo + draw(st.integers(0, 9))}"
        lines.append(f"echocanceller={draw(st.sampled_from(['oslec', 'mg2']))},{chans}"
                     if key == "echocanceller" else f"{key}={chans}")
    for radio in draw(st.lists(st.sampled_from(["ctcss=1,0,D2", "rxgain=-3", "exttone=i",
                                                "corthresh=3125", "channels=1-2"]),
                               max_size=3)):
        lines.append(radio)
    for zone in draw(st.lists(st.sampled_from(["us", "cn", "de"]), max_size=2)):
        lines.append(f"loadzone={zone}")
    if draw(st.booleans()):
        lines.append(f"defaultzone={draw(st.sampled_from(['us', 'cn', 'de']))}")
    return "\n".join(draw(st.permutations(lines))) + "\n"


@settings(max_examples=150, deadline=None)
@given(files())
def test_import_generate_import_is_the_same_for_any_file(text):
    config = parse(text)
    assert sysconf.to_toml(round_trip(config)) == sysconf.to_toml(config)


# -- the real dahdi_cfg ------------------------------------------------------------------------
def real_dahdi_cfg(tmp_path: Path, text: str) -> tuple[int, list[int]] | None:
    """``dahdi_cfg -t`` (read the file, configure nothing) on ``text``: its exit status
    and the lines it names. It opens /dev/dahdi/ctl before reading, so it runs in a
    private user and mount namespace whose /dev holds an empty file of that name
    (dahdi_cfg.c main: -t exits after parsing, before any ioctl). None where that
    cannot be done (no dahdi-tools, no unshare, namespaces forbidden)."""
    exe, unshare = shutil.which("dahdi_cfg") or "/usr/sbin/dahdi_cfg", shutil.which("unshare")
    if not Path(exe).exists() or unshare is None:
        return None
    conf = tmp_path / "system.conf"
    conf.write_text(text)
    script = ("mount -t tmpfs none /dev && mkdir /dev/dahdi && : > /dev/dahdi/ctl && "
              f"exec {exe} -t -c {conf}")
    try:
        done = subprocess.run([unshare, "-r", "-m", "sh", "-c", script], capture_output=True,
                              text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if "Notice: Configuration file is" not in done.stderr and done.returncode != 0:
        return None   # the namespace could not be made; dahdi_cfg never read the file
    return done.returncode, sorted({int(n) for n in re.findall(r"^line (\d+):", done.stderr,
                                                               re.M)})


@pytest.fixture(scope="module")
def dahdi_cfg(tmp_path_factory):
    base = tmp_path_factory.mktemp("dahdi_cfg")
    if real_dahdi_cfg(base, "fxoks=1\n") != (0, []):
        pytest.skip("the real dahdi_cfg cannot run here (dahdi-tools, unshare)")
    return lambda text: real_dahdi_cfg(base, text)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.conf")))
def test_the_real_dahdi_cfg_agrees_on_the_corpus(dahdi_cfg, name):
    text = (DATA / name).read_text()
    lines = error_lines(text)
    assert dahdi_cfg(text) == ((1, lines) if lines else (0, []))


#: Lines dahdi_cfg's reader passes but the kernel or the apply step refuses, which we
#: refuse on their line (docs/dahdi.md): T1 framing with E1 coding and back, crc4 on T1
#: (dahdi-base.c dahdi_spanconfig, linecompat), unknown or comma-joined loadzone names
#: (tone_zone_register fails), span 0 or past 127, dacs destinations past channel 1023
#: (dahdi_cfg writes past its cc[] table), a signalling the span's channels do not
#: offer (:mod:`.sigcaps`; the generator numbers spans from 2, so no channel's span is
#: certain and nothing is checked), radio channel= lines (dahdi_cfg opens the channels
#: while it reads; there are none in its namespace). Lines the generator below avoids.
LINE_PARTS = st.one_of(
    st.builds("span={},{},{},{},{}{}".format, st.sampled_from(["2", "3x", "x", "4"]),
              st.sampled_from(["0", "1", "255", "256", "-1", "t"]),
              st.sampled_from(["0", "7", "8", "-1"]),
              st.sampled_from(["ccs,hdb3", "CAS,AMI", "esf,b8zs", "d4,ami", "sf,ami",
                               "ccs,b9zs"]),
              st.just(""), st.sampled_from(["", ",crc4", ",yellow", ",nt,term", ",te",
                                            ",bogus", ",,", ",a,b,c,d,e"]))
    .filter(lambda line: not re.search(r"(esf|d4),\w+,crc4", line)),
    st.builds("{}={}{}".format,
              st.sampled_from(["bchan", "fxoks", "FXSKS", "cas", "user", "dacs", "clear",
                               "nethdlc", "e&m", "unused", "mtp2", "alaw", "deflaw", "56k",
                               "sf", "bchannel", "Echo"]),
              st.sampled_from(["1-4", "3", "4-1", "0", "1024", "1023", "2,,3", "5,", "1-",
                               "-2", "x", " 6 - 8 ", "9x", "1-4,3"]),
              st.sampled_from(["", ":1101", ":11", ":12", ":x", ": 1101", "::0110"]))
    .filter(lambda line: not line.startswith("dacs=") or "1101" not in line),
    st.builds("echocanceller={}".format, st.sampled_from(["oslec,1-4", "oslec", ",3",
                                                          "mg2,1-2,,7", "oslec,4-2"])),
    st.builds("dynamic={}".format, st.sampled_from(["eth,addr,24,0", "eth,addr,0,1",
                                                    "eth,addr,24", "eth,a,b,c,d",
                                                    "eth,addr,24,-1", "eth,addr,24,0,"])),
    st.builds("{}={}".format,
              st.sampled_from(["ctcss", "dcsrx", "rxdcs", "tx", "debouncetime", "bursttime",
                               "exttone", "invertcor", "corthresh", "rxgain", "txgain",
                               "deemp", "preemp"]),
              st.sampled_from(["1", "0", "-3", "2", "3", "y", "N", "i", "x", "D5", "1,2",
                               "1,2,3", "1,-1,3", "5,0,d9", "3125", "25000", "1,"])),
    st.sampled_from(["defaultzone=cn", "defaultzone=XX", "defaultzone=US", "loadzone=de",
                     "bogus", "=3", "fxoks=", "# comment", "  ", "fxoks=7 # seven", "",
                     "  # indented", "\tfxoks=8", "fxoks=9\r", "\r", "a=b=c",
                     "#" + "0" * 300, "#" + "0" * 254 + "#", "fxoks=10 #" + "y" * 260,
                     "fxoks=11" + " " * 247, "fxoks=12" + " " * 248,
                     "mulaw=" + ",".join(str(c) for c in range(1, 90)),
                     "mulaw=" + ",".join(str(c) for c in range(1, 90)) + "#=x"]),
)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINE_PARTS, min_size=1, max_size=8))
def test_the_real_dahdi_cfg_rejects_the_same_lines(dahdi_cfg, lines):
    text = "\n".join(lines) + "\n"
    ours = error_lines(text)
    assert dahdi_cfg(text) == ((1, ours) if ours else (0, []))


# -- what the kernel refuses on the spans (sigcaps.py) ------------------------------------------
@pytest.mark.parametrize(("text", "line", "message"), [
    ("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nfxoks=16\n", 3,
     "fxoks=16: span 1: robbed-bit/CAS signalling on an E1 CCS span"),
    ("span=1,1,0,cas,hdb3\ncas=1-15,17-31:1101\ndchan=16\n", 3,
     "dchan=16: channel 16 is timeslot 16 of span 1, an E1 CAS span"),
    ("span=1,1,0,cas,hdb3\ne&m=1-15\n", 2, "e&m=1-15: span 1: e&m is for T1; use e&me1"),
    ("span=1,1,0,esf,b8zs\ne&me1=1-23\n", 2, "e&me1=1-23: span 1: e&me1 is for E1 CAS"),
    ("span=1,1,0,cas,hdb3\nbchan=1-15\nmtp2=17\n", 3, "mtp2=17: span 1: the span (E1 CAS)"),
    ("span=1,1,0,ccs,hdb3\nspan=2,2,0,ccs,hdb3\nbchan=32-46\ncas=48-62:1101\n", 4,
     "cas=48-62: span 2"),
])
def test_signalling_the_spans_channels_do_not_offer_is_refused(text, line, message):
    with pytest.raises(SystemConfError) as info:
        parse(text)
    assert [n for n, _ in info.value.errors] == [line]
    assert message in str(info.value) and "the kernel refuses it" in str(info.value)


def test_spans_whose_channels_are_uncertain_are_not_checked():
    # span 1 has no span= line (an analog card before it?): channel numbers are a guess.
    parse("span=2,1,0,ccs,hdb3\nfxoks=1-4\n")
    parse("span=1,1,0,ccs,hdb3\nfxoks=1-4\ndynamic=eth,eth0/00:11:22:33:44:55,24,0\n")
    parse("span=1,1,0,ccs,ami,te\nbchan=1-2\nhardhdlc=3\n")   # BRI: its driver decides
    parse("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nmtp2=16\nfxoks=32-35\n")  # after the span


def test_config_apply_sets_law_yellow_and_bonded_clear_channels():
    from dahdi_helpers import sim_card

    from trunkline.drivers.commissioning.config import plan_apply

    config = parse("span=1,1,0,ccs,hdb3,crc4,yellow\nbchan=1-15\ndchan=16\nclear=17-20\n"
                   "bchan=21-31\nalaw=1-15\nmulaw=17-20\n")
    card, kernel = sim_card()
    lib = kernel.lib
    with card:
        findings, actions = plan_apply(card, config)
    assert not [f for f in findings if f.level == "FAIL"]
    lc = next(arg for _, request, arg in actions if request == "DAHDI_SPANCONFIG")
    assert lc.lineconfig & lib.DAHDI_CONFIG_NOTOPEN and lc.lineconfig & lib.DAHDI_CONFIG_CRC4
    cc = {arg.chan: arg for _, request, arg in actions if request == "DAHDI_CHANCONFIG"}
    assert cc[1].deflaw == lib.DAHDI_LAW_ALAW and cc[21].deflaw == lib.DAHDI_LAW_DEFAULT
    assert (cc[17].sigtype, cc[17].master) == (lib.DAHDI_SIG_CLEAR, 17)
    assert (cc[18].sigtype, cc[18].master) == (lib.DAHDI_SIG_SLAVE, 17)
    assert cc[18].deflaw == lib.DAHDI_LAW_MULAW
    assert (cc[21].sigtype, cc[21].master) == (lib.DAHDI_SIG_CLEAR, 21)


def test_chan_dahdi_settings_do_not_split_a_bonded_line(tmp_path):
    (tmp_path / "system.conf").write_text("clear=1-4\nbchan=5-6\n")
    (tmp_path / "chan_dahdi.conf").write_text("[channels]\nsignalling=pri_cpe\ncontext=a\n"
                                              "channel => 1-2,5\n"
                                              "context=b\nchannel => 3-4,6\n")
    config = sysconf.import_files(tmp_path / "system.conf", tmp_path / "chan_dahdi.conf")
    got = {(g.signalling, g.channels, g.options.get("context")) for g in config.groups}
    assert got == {("clear", (1, 2, 3, 4), "a"), ("bchan", (5,), "a"), ("bchan", (6,), "b")}


# -- the real dahdi_cfg applying the files to a simulated board (trunkline dahdi-sim) -----------
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
#: Simulated boards matching each file (simkernel.py's system description).
BOARDS = {
    "te420": '[[span]]\ntype = "E1"\nconfigured = ""\n' * 4,
    "e1": '[[span]]\ntype = "E1"\nconfigured = ""\n',
    "t1": '[[span]]\ntype = "T1"\nconfigured = ""\n',
    "a1200": '[[span]]\ntype = "analog"\nports = [' + '"fxs", ' * 6 + '"fxo", ' * 6 + "]\n",
    "a800": '[[span]]\ntype = "analog"\nports = [' + '"fxo", ' * 8 + "]\n",
}
#: (file or system.conf text, board). mixed_keywords.conf (dacs, whose DAHDI_SIG_DACS
#: dahdi_ioctl_chanconfig derives from clear but the simulated kernel refuses) and the
#: BRI file (no BRI board is simulated) are left out.
APPLIED = [
    ("te420_e1_pri.conf", "te420"), ("e1_cas_r2.conf", "e1"), ("t1_pri.conf", "t1"),
    ("openvox_a1200_analog.conf", "a1200"), ("openvox_a800_analog.conf", "a800"),
    ("broken.conf", "e1"),
    ("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nfxoks=16\n", "e1"),   # RBS on E1 CCS
    ("span=1,1,0,cas,hdb3\ne&m=1-15\n", "e1"),                      # e&m on E1
    ("span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\nalaw=1-31\nmulaw=5\n", "e1"),
]


@pytest.mark.skipif(shutil.which("dahdi_cfg", path=SBIN) is None,
                    reason="dahdi-tools (Debian's dahdi, installed by scripts/setup) missing")
@pytest.mark.parametrize(("source", "board"), APPLIED)
def test_dahdi_cfg_under_dahdi_sim_accepts_and_refuses_what_import_does(
        tmp_path, source, board):
    from trunkline.drivers.commissioning.dahditools import cfg_errors

    conf = DATA / source if source.endswith(".conf") else tmp_path / "system.conf"
    if not source.endswith(".conf"):
        conf.write_text(source)
    system = tmp_path / "board.toml"
    system.write_text('spec = "1.0"\nloadzones = []\n\n' + BOARDS[board])
    tools = subprocess.run(
        [sys.executable, "-m", "trunkline", "dahdi-sim", "--system", str(system), "--",
         "dahdi_cfg", "-c", str(conf)], capture_output=True, text=True, timeout=120,
        check=False, env=dict(os.environ, PATH=SBIN))
    lines = error_lines(conf.read_text())
    if tools.returncode == 0:
        assert lines == [], tools.stderr
    else:
        # dahdi_cfg names the lines its reader refuses; the kernel's EINVAL names a
        # channel, which import refuses on the line that configures it.
        assert lines, tools.stderr
        named = sorted({n for n, _ in cfg_errors(tools.stderr)})
        assert named == (lines if named else [])
        assert named or "DAHDI_CHANCONFIG failed" in tools.stderr
