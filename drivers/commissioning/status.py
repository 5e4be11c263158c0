"""``trunkline status``: a live view of the spans (alarms, counters) and of the channels
by state, drawn with rich; ``--once`` prints it once.

On mobile spans it shows each module's SIM, IMSI/ICCID, network and signal.
On MFC/R2 spans it also reads what the far end sends on each timeslot (the ABCD bits,
DAHDI_GETRXBITS) and says what that means while we send idle: idle, blocked, seized. It
sends nothing itself. The state of our own side's circuits (a call in progress, an SS7
linkset's links and circuits) lives in the gateway that drives them: ``trunkline gw
spans`` asks it (the commissioning tools sit below the gateway and do not talk to it).
"""

from __future__ import annotations

import argparse

from trunkline.clock import RealClock
from trunkline.ranges import format_ranges

from .common import alarm_text, open_card

__all__ = ["status_command", "status_tables"]


def status_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(width=120 if args.once else None, force_terminal=False if args.once
                      else None)
    clock = RealClock()
    with open_card(args) as card:
        if args.once:
            console.print(status_tables(card))
            return 0
        from rich.live import Live

        refreshes = 0
        with Live(status_tables(card), console=console, refresh_per_second=4) as live:
            while not args.count or refreshes < args.count:
                start = clock.now()
                frames = max(1, int(args.interval / 0.02))
                for _ in range(frames):
                    card.read_frames()  # keeps the card's time moving (and its alarms)
                card.poll_events()
                clock.sleep_until(start + args.interval)  # virtual-time cards: wall pacing
                live.update(status_tables(card))
                refreshes += 1
    return 0


def r2_far_end(card) -> list[tuple[int, str, str, list[int]]]:
    """For each MFC/R2 span: (span, received ABCD bits, what they mean while we are
    idle, timeslots), grouped by bits. The CAS channels are opened for the reading when
    they are not open already (DAHDI_GETRXBITS needs an open channel)."""
    from trunkline.drivers.model import SpanSignalling
    from trunkline.drivers.signalling.r2.variants import variant

    rows: list[tuple[int, str, str, list[int]]] = []
    for s in card.spans:
        name, _, var = (s.protocol or "").partition(":")
        if s.signalling is not SpanSignalling.CAS or name not in ("mfcr2", "") \
                or not s.channels:
            continue
        try:
            code = variant(var or "cn").line
        except ValueError:
            continue
        meaning = {code.idle: "idle", code.blocked: "blocked by the far end",
                   code.seizing: "seized by the far end (a call is waiting)",
                   code.answered: "answer signal with no call: a fault at the far end"}
        opened = [ch for ch in s.channels if ch not in card.open_channels]
        card.open(opened)
        try:
            found: dict[int, list[int]] = {}
            for ch in s.channels:
                found.setdefault(card.cas_bits(ch), []).append(card.channel(ch).timeslot)
        finally:
            card.close_channel(opened)
        for bits, slots in sorted(found.items(), key=lambda kv: min(kv[1])):
            rows.append((s.number, f"{bits:04b}", meaning.get(bits >> 2, "?"), slots))
    return rows


def mobile_rows(card) -> list[tuple[str, ...]]:
    """One row per mobile module (its span): the SIM (ready, absent, pin...), its IMSI
    and ICCID, the registration (TS 27.007 +CREG: home, roaming, searching, denied), the
    operator, the signal (+CSQ as dBm) and how often the module restarted."""
    rows = []
    for s in card.spans:
        if s.signalling.value != "mobile":
            continue
        st = card.modem(s.number).status()
        signal = "unknown" if st.get("dbm") is None else f"{st['dbm']} dBm"
        rows.append((str(s.number), str(st.get("name", "")), str(st.get("sim", "")),
                     str(st.get("imsi", "") or "-"), str(st.get("iccid", "") or "-"),
                     str(st.get("registration", "")), str(st.get("operator", "") or "-"),
                     signal, str(st.get("restarts", 0))))
    return rows


def status_tables(card):
    from rich.console import Group
    from rich.table import Table

    from trunkline.drivers.model import ChannelState

    spans = Table(title=f"{card.name}: spans")
    for col in ("span", "kind", "sig", "channels", "framing", "alarms", "sync", "bpv",
                "crc4", "fas", "slips", "irq misses"):
        spans.add_column(col)
    channels = Table(title="channels (by state)")
    for col in ("span", "idle", "offhook", "dialing", "ringing", "in use", "out of service"):
        channels.add_column(col)
    for s in card.spans:
        st = card.span_status(s.number)
        c = st.counters
        framing = "/".join(x for x in (s.framing, s.coding, "crc4" if s.crc4 else "") if x)
        alarms = alarm_text(st.alarms)
        style = "red" if "RED" in alarms or "BLUE" in alarms else \
            "yellow" if alarms != "OK" else "green"
        spans.add_row(str(s.number), s.kind.value, s.signalling.value, str(len(s.channels)),
                      framing or "-", f"[{style}]{alarms}[/]", str(st.sync_source),
                      str(c.bpv), str(c.crc4), str(c.fas), str(c.timingslips),
                      str(c.irqmisses))
        counts = dict.fromkeys(ChannelState, 0)
        for ch in s.channels:
            counts[card.channel_state(ch)] += 1
        channels.add_row(str(s.number), *(str(counts[k]) for k in (
            ChannelState.IDLE, ChannelState.OFFHOOK, ChannelState.DIALING,
            ChannelState.RINGING, ChannelState.IN_USE, ChannelState.OUT_OF_SERVICE)))
    tables = [spans, channels]
    r2 = r2_far_end(card)
    if r2:
        far = Table(title="MFC/R2: what the far end sends (we send idle)")
        for col in ("span", "timeslots", "ABCD", "meaning"):
            far.add_column(col)
        for span, bits, meaning, slots in r2:
            far.add_row(str(span), format_ranges(slots), bits, meaning)
        tables.append(far)
    mobile = mobile_rows(card)
    if mobile:
        table = Table(title="mobile modules: SIM and network")
        for col in ("span", "module", "SIM", "IMSI", "ICCID", "network", "operator",
                    "signal", "restarts"):
            table.add_column(col)
        for row in mobile:
            table.add_row(*row)
        tables.append(table)
    if any(s.signalling.value in ("cas", "ss7") for s in card.spans):
        from rich.text import Text

        tables.append(Text("Our side of MFC/R2 timeslots and SS7 links and circuits: "
                           "`trunkline gw spans` (the running gateway)."))
    return Group(*tables)

