"""``trunkline scan``: the boards and spans found, their alarms, framing, sync source and
counters, each fault with its likely cause; and the USB telephony devices (mobile
modules, sticks still in storage mode, USB boards) beside them (:mod:`.usbdevices`).

With ``--card dahdi`` and no DAHDI loaded, it lists the boards on the PCI bus and the
kernel module each needs (:func:`_print_pci`), and the USB devices, before the error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from trunkline.errors import BackendError, CardNotFound

from .common import alarm_text, make_finding, open_card, report

__all__ = ["scan_command"]


def scan_command(args: argparse.Namespace) -> int:
    from .checks import (
        describe_card,
        diagnose_span,
        diagnose_timing,
    )

    if getattr(args, "via", None) == "dahdi_scan":
        from .via import scan_via_dahdi_scan

        return scan_via_dahdi_scan(args)

    try:
        card = open_card(args)
    except CardNotFound:
        if args.card.split(":", 1)[0] == "dahdi":
            _print_pci(args.sysfs)
            usb, _ = _scan_usb(args)
            if usb is not None:
                from .usbdevices.verdicts import usb_lines

                print("\n".join(usb_lines(usb)), file=sys.stderr)
        raise
    with card:
        info = describe_card(card)
        findings = []
        try:
            card.read_frames()  # one frame: lets the card report its current state
            card.poll_events()
        except BackendError as err:
            findings.append(make_finding("FAIL", "timing", "the card delivers no frames",
                                     f"no timing source: {err}"))
        else:
            if _settle_modules(card, info):
                info = describe_card(card)
        statuses = {s.number: card.span_status(s.number) for s in card.spans}
        rows = []
        for s in card.spans:
            st = statuses[s.number]
            findings += diagnose_span(s, st, card.alarm_detail(s.number))
            c = st.counters
            rows.append({
                "span": s.number, "kind": s.kind.value, "signalling": s.signalling.value,
                "channels": len(s.channels), "dchannel": s.dchannel, "framing": s.framing,
                "coding": s.coding, "crc4": s.crc4, "law": s.law,
                "alarms": alarm_text(st.alarms), "sync_source": st.sync_source,
                "counters": {"bpv": c.bpv, "crc4": c.crc4, "fas": c.fas, "ebit": c.ebit,
                             "errsec": c.errsec, "slips": c.timingslips,
                             "irqmisses": c.irqmisses},
                "description": s.description,
            })
        findings += diagnose_timing(card, statuses)
        for hw in info["spans"]:
            by_reason: dict[str, list[int]] = {}
            for ch, reason in sorted(hw.get("unusable", {}).items()):
                by_reason.setdefault(reason, []).append(ch)
            for reason, chans in by_reason.items():
                from trunkline.ranges import format_ranges

                findings.append(make_finding("WARN", f"DAHDI span {hw['span']} channels "
                                         f"{format_ranges(chans)}", reason))
        version = card.version()
        if version is not None:
            info["dahdi_version"], info["echo_cancellers"] = version
    usb, usb_verdicts = _scan_usb(args)
    findings += usb_verdicts
    modules = [hw for hw in info["spans"] if "sim" in hw]
    if args.json:
        extra: dict = {"card": info, "spans": rows}
        if usb is not None:
            from .usbdevices.verdicts import usb_report

            extra["usb"] = usb_report(usb, modules)
        return report(findings, True, extra)
    print(f"card: {info['name']} (backend {info['backend']})")
    if "dahdi_version" in info:
        print(f"DAHDI {info['dahdi_version']}, echo cancellers: "
              f"{info['echo_cancellers'] or 'none'}")
    for hw in info["spans"]:
        if "devicetype" not in hw:
            print(_module_line(hw) if "sim" in hw else
                  f"  span {hw.get('span')}: {hw.get('name', '')} at "
                  f"{hw.get('location', '?')}")
            continue
        from trunkline.drivers.backends.dahdi.profiles import profile_for

        prof = profile_for(hw["devicetype"])
        module = f", module {prof.module}" if prof else ""
        print(f"  DAHDI span {hw['span']}: {hw['name']} \"{hw['description']}\" "
              f"[{hw['manufacturer']} {hw['devicetype']}{module}] at {hw['location']}, "
              f"IRQ {hw['irq']}, {hw['configured']}/{hw['channels']} channels configured")
    print()
    print(f"{'span':>4} {'kind':<4} {'sig':<6} {'chans':>5} {'framing':<14} {'alarms':<16} "
          f"{'sync':>4} {'bpv':>5} {'crc4':>5} {'fas':>5} {'slips':>5} {'irqm':>5}")
    for r in rows:
        framing = "/".join(x for x in (r["framing"], r["coding"], "crc4" if r["crc4"] else "")
                           if x) or "-"
        c = r["counters"]
        print(f"{r['span']:>4} {r['kind']:<4} {r['signalling']:<6} {r['channels']:>5} "
              f"{framing:<14} {r['alarms']:<16} {r['sync_source']:>4} {c['bpv']:>5} "
              f"{c['crc4']:>5} {c['fas']:>5} {c['slips']:>5} {c['irqmisses']:>5}")
    print()
    if usb is not None:
        from .usbdevices.verdicts import usb_lines

        print("\n".join(usb_lines(usb, modules)))
        print()
    return report(findings)


#: How long `scan` lets a mobile card's modules answer their init (AT, SIM, network)
#: before it reports them as they are: at least this many frames and seconds.
SETTLE_FRAMES = 150
SETTLE_SECONDS = 3.0


def _settle_modules(card: Any, info: dict) -> bool:
    """Tick a card with mobile modules (hardware entries carrying ``initialised``) until
    each has answered its init, or the settle time is over; True if it ticked."""
    if all(hw.get("initialised", True) for hw in info["spans"]):
        return False
    from trunkline.clock import RealClock

    clock = RealClock()
    deadline = clock.now() + SETTLE_SECONDS
    frame = 0
    while not all(hw.get("initialised", True) for hw in card.hardware()):
        if frame >= SETTLE_FRAMES and clock.now() >= deadline:
            break  # both spent: a virtual-time card runs its frames faster than this
        card.read_frames()
        card.poll_events()
        frame += 1
    return True


def _module_line(hw: dict) -> str:
    """One mobile module: where it is, its SIM and its network, as the backend says."""
    dbm = f", {hw['dbm']} dBm" if hw.get("dbm") is not None else ""
    imsi = f", IMSI {hw['imsi']}" if hw.get("imsi") else ""
    iccid = f", ICCID {hw['iccid']}" if hw.get("iccid") else ""
    operator = f" on {hw['operator']}" if hw.get("operator") else ""
    state = "" if hw.get("responding", True) else ", not answering"
    return (f"  module span {hw['span']}: {hw.get('name', '')} "
            f"({hw.get('manufacturer', '')}) at {hw.get('location', '?')}: SIM "
            f"{hw.get('sim', 'unknown')}{imsi}{iccid}, {hw.get('registration', 'unknown')}"
            f"{operator}{dbm}{state}")


def _scan_usb(args: argparse.Namespace) -> tuple[Any, list]:
    """The USB devices under ``--sysfs`` and their verdicts; (None, []) with --no-usb."""
    if getattr(args, "no_usb", False):
        return None, []
    from .usbdevices import discover_usb
    from .usbdevices.verdicts import usb_findings

    usb = discover_usb(args.sysfs)
    return usb, usb_findings(usb)


def _print_pci(sysfs: str) -> None:
    from trunkline.drivers.backends.dahdi.profiles import find_boards

    boards = find_boards(sysfs)
    if not boards:
        print("no known telephony board on the PCI bus", file=sys.stderr)
        return
    for b in boards:
        state = f"driven by {b.loaded_driver}" if b.loaded_driver else \
            f"no driver: modprobe {b.module}"
        print(f"PCI {b.address}: {b.description} [{b.pci_id}] ({b.profile.vendor}): {state}",
              file=sys.stderr)
        if b.profile.firmware:
            print(f"  firmware it may load from /lib/firmware: "
                  f"{', '.join(b.profile.firmware)}", file=sys.stderr)

