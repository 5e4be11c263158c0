"""``trunkline status``: a live view of the spans (alarms, counters) and of the channels
by state, drawn with rich; ``--once`` prints it once.
"""

from __future__ import annotations

import argparse

from trunkline.clock import RealClock

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
    return Group(spans, channels)

