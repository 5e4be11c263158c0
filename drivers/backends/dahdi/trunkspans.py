"""MFC/R2 and SS7 spans from chan_dahdi.conf: its per-channel settings as per-span
module options on the system.conf spans.

chan_dahdi gives openr2 and libss7 settings to blocks of channels; trunkline's MFC/R2
module takes them per span, the SS7 module per linkset (shared by its spans) and per
span (``cic_start``, ``signalling_timeslot``). :func:`attach` finds each channel's span
(:func:`~.sysconf.channel_layout`) and checks what a span cannot hold:

* one span, one set of MFC/R2 settings (chan_dahdi would open a second openr2 context);
* an SS7 span's CICs must follow its timeslots: chan_dahdi counts a CIC per channel
  written (``cicbeginswith=1``, ``channel => 1-15,17-31`` gives timeslot 17 CIC 16),
  the module numbers a span's circuits ``cic_start + timeslot - 1`` (Q.763 1.2 a);
* links are numbered (SLC) 0, 1... in span order, as the SS7 module does; chan_dahdi
  numbers them in sigchan order, or by ``slc=``;
* the linkset's destination (``defaultdpc``) must be the adjacent point: the module
  routes through no signalling transfer point;
* signalling links are channels in the kernel's MTP2 mode (system.conf ``mtp2=``); a
  ``dchan=`` or ``hardhdlc=`` sigchan (chan_dahdi takes those too) becomes ``mtp2``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trunkline.drivers.backends.dahdi.chandahdi import Block, ChanDahdi, SigChan
from trunkline.drivers.backends.dahdi.sigopts import (
    r2_problem,
    same_point_code,
    ss7_point_code,
)
from trunkline.drivers.backends.dahdi.sysconf import (
    ChannelGroup,
    DahdiConfig,
    SpanConf,
    channel_layout,
    format_ranges,
)

__all__ = ["attach"]

Problem = tuple[str, int, str]


def _problem(where: str, message: str) -> Problem:
    file, _, line = where.rpartition(":")
    return file, int(line), message


@dataclass
class _Linkset:
    sigchans: list[SigChan] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class _Context:
    """What the checks of every linkset share."""

    config: DahdiConfig
    layout: dict[int, tuple[int, int]]
    span_of: Callable[[int, str], SpanConf | None]
    taken: dict[int, str]
    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)
    to_mtp2: list[int] = field(default_factory=list)


def attach(config: DahdiConfig, parsed: ChanDahdi) -> list[Problem]:
    """Give ``config``'s spans the MFC/R2 and SS7 settings of ``parsed``; returns the
    problems found (file, line, what), changing nothing when there are any."""
    problems: list[Problem] = []
    layout, notes = channel_layout(config)
    spans = {s.span: s for s in config.spans}
    taken: dict[int, str] = {}
    changes: list[tuple[SpanConf, str, dict[str, Any], str]] = []

    def span_of(channel: int, where: str) -> SpanConf | None:
        span_no = layout.get(channel, (0, 0))[0]
        if span_no not in spans:
            problems.append(_problem(where, f"channel {channel} is on no span of "
                                            f"{config.source} (no span= line covers it)"))
            return None
        return spans[span_no]

    # -- MFC/R2: one set of options per span.
    r2: dict[int, tuple[dict[str, Any], str]] = {}
    for block in parsed.blocks:
        if block.signalling != "mfcr2":
            continue
        for channel in block.channels:
            span = span_of(channel, block.where)
            if span is None:
                break
            first = r2.setdefault(span.span, (block.r2, block.where))
            if first[0] != block.r2:
                diff = sorted(k for k in {*first[0], *block.r2}
                              if first[0].get(k) != block.r2.get(k))
                problems.append(_problem(block.where, f"span {span.span} gets other MFC/R2 "
                                f"settings ({', '.join(diff)}) than at {first[1]}; trunkline "
                                "sets them per span"))
                break
    for number, (options, where) in sorted(r2.items()):
        span = spans[number]
        refused = r2_problem(number, options)
        if refused:
            problems.append(_problem(where, refused))
        if span.kind == "e1" and span.framing != "cas":
            problems.append(_problem(where, f"span {number} speaks MFC/R2 but is framed "
                            f"{span.framing} ({config.source}:{span.line}): E1 CAS needs "
                            "framing cas (TS16 carries the ABCD bits)"))
        taken[number] = where
        changes.append((span, "mfcr2", dict(options), ""))

    # -- SS7: linksets.
    linksets: dict[str, _Linkset] = {}
    for sigchan in parsed.sigchans:
        linksets.setdefault(sigchan.linkset, _Linkset()).sigchans.append(sigchan)
    for block in parsed.blocks:
        if block.signalling == "ss7":
            linksets.setdefault(block.linkset, _Linkset()).blocks.append(block)
    ctx = _Context(config, layout, span_of, taken, problems)
    for name, linkset in sorted(linksets.items(), key=lambda kv: int(kv[0])):
        found = _linkset(ctx, name, linkset)
        changes += [(span, "ss7", options, name) for span, options in found]
    if problems:
        return problems
    config.warnings.extend(notes + ctx.warnings)
    for span, signalling, options, linkset in changes:
        span.signalling, span.options, span.linkset = signalling, options, linkset
    _make_mtp2(config, ctx.to_mtp2)
    return problems


def _linkset(ctx: _Context, name: str, linkset: _Linkset
             ) -> list[tuple[SpanConf, dict[str, Any]]]:
    """The spans of one linkset with their options (nothing if it has problems)."""
    config, span_of, problems = ctx.config, ctx.span_of, ctx.problems
    start = len(problems)
    if not linkset.sigchans:
        problems.append(_problem(linkset.blocks[0].where, f"linkset {name} has circuits but "
                                 "no sigchan (signalling link)"))
        return []
    first = linkset.sigchans[0]
    settings = first.settings
    variant = settings["variant"]
    for sigchan in linkset.sigchans[1:]:
        if sigchan.settings != settings:
            problems.append(_problem(sigchan.where, f"linkset {name}'s point codes, ss7type "
                            f"or networkindicator differ from its sigchan at {first.where}"))
    if not same_point_code(settings["dpc"], settings["apc"], variant):
        problems.append(_problem(first.where, f"defaultdpc {settings['dpc']} is not the "
                        f"adjacent point {settings['apc']}: routes through a signalling "
                        "transfer point are not supported"))
    for block in linkset.blocks:
        dpc = block.ss7.get("dpc")
        if dpc is None:
            continue
        try:
            code, _ = ss7_point_code(dpc[0], variant)
        except ValueError:
            continue  # reported at its sigchan
        if not same_point_code(code, settings["apc"], variant) and not same_point_code(
                code, settings["dpc"], variant):
            problems.append(_problem(block.where, f"these channels' defaultdpc {dpc[0]} "
                            f"is not the adjacent point {settings['apc']}: routes through a "
                            "signalling transfer point are not supported"))
    # Links: channels in MTP2 mode, one per span, numbered in span order.
    groups = config.channel_map()
    links: dict[int, tuple[int, SigChan]] = {}
    for sigchan in linkset.sigchans:
        span = span_of(sigchan.channel, sigchan.where)
        group = groups.get(sigchan.channel)
        if span is None:
            continue
        if group is None or group.signalling not in ("mtp2", "dchan", "hardhdlc"):
            what = "not in" if group is None else f"{group.signalling} in"
            problems.append(_problem(sigchan.where, f"sigchan {sigchan.channel} is {what} "
                            f"{config.source}: a signalling link is mtp2= there"))
            continue
        if group.signalling != "mtp2":
            ctx.to_mtp2.append(sigchan.channel)
            ctx.warnings.append(f"{sigchan.where}: sigchan {sigchan.channel} is "
                                   f"{group.signalling} in {config.source}; written as mtp2 "
                                   "(the kernel's MTP2 mode, which the SS7 module needs)")
        if span.kind == "e1" and span.framing != "ccs":
            problems.append(_problem(sigchan.where, f"span {span.span} carries SS7 but is "
                            f"framed {span.framing} ({config.source}:{span.line}); a "
                            "signalling link needs framing ccs"))
        if span.span in links:
            problems.append(_problem(sigchan.where, f"span {span.span} has a second "
                            f"signalling link (first at {links[span.span][1].where}); "
                            "trunkline takes one per span"))
            continue
        timeslot = ctx.layout[sigchan.channel][1]
        links[span.span] = (timeslot, sigchan)
    for index, (span_no, (_, sigchan)) in enumerate(sorted(links.items())):
        slc = sigchan.slc if sigchan.slc is not None else linkset.sigchans.index(sigchan)
        if slc != index:
            problems.append(_problem(sigchan.where, f"this link is SLC {slc} for chan_dahdi, "
                            f"but trunkline numbers a linkset's links 0, 1... in span order, "
                            f"which makes it SLC {index} (span {span_no}): the adjacent point "
                            "must number it so too (write the sigchans in span order, "
                            "without slc=)"))
    # Circuits: cic_start per span, the CICs following the timeslots.
    circuits: dict[int, list[tuple[int, int, str]]] = {}
    for block in linkset.blocks:
        for channel, cic in zip(block.channels, block.cics, strict=True):
            span = span_of(channel, block.where)
            if span is None:
                break
            circuits.setdefault(span.span, []).append(
                (ctx.layout[channel][1], cic, block.where))
    seen: dict[int, str] = {}
    out: list[tuple[SpanConf, dict[str, Any]]] = []
    nai = _nai(linkset.blocks, ctx.warnings)
    base = {"variant": variant, "opc": settings["opc"], "apc": settings["apc"],
            "ni": settings["ni"], **nai}
    spans = {s.span: s for s in config.spans}
    for span_no in sorted({*links, *circuits}):
        span = spans[span_no]
        where = links[span_no][1].where if span_no in links else circuits[span_no][0][2]
        if span_no in ctx.taken:
            problems.append(_problem(where, f"span {span_no} is already taken at "
                                            f"{ctx.taken[span_no]}"))
            continue
        ctx.taken[span_no] = where
        options = dict(base)
        found = circuits.get(span_no, [])
        if found:
            timeslot, cic, at = found[0]
            options["cic_start"] = cic - timeslot + 1
            odd = next((c for c in found if c[1] - c[0] + 1 != options["cic_start"]), None)
            if odd is not None:
                there = "" if odd[2] == at else f" ({at})"
                problems.append(_problem(odd[2], f"span {span_no}: timeslot {timeslot} is CIC "
                                f"{cic}{there} but timeslot {odd[0]} is CIC {odd[1]}; "
                                "trunkline numbers a span's circuits by timeslot (CIC = "
                                "first + timeslot - 1): set cicbeginswith before each "
                                "channel => run, as the carrier numbers them"))
            elif options["cic_start"] < 0:
                problems.append(_problem(at, f"span {span_no}: timeslot {timeslot} is CIC "
                                f"{cic}, which puts timeslot 1 below CIC 0"))
        twice: dict[str, list[int]] = {}
        for _, cic, at in found:
            if cic in seen:
                twice.setdefault(seen[cic], []).append(cic)
            seen.setdefault(cic, at)
        for first_at, cics in twice.items():
            problems.append(_problem(found[0][2], f"span {span_no}: CIC(s) "
                            f"{format_ranges(cics)} of linkset {name} already given at "
                            f"{first_at}"))
        if span_no in links:
            options["signalling_timeslot"] = links[span_no][0]
        out.append((span, options))
    return out if len(problems) == start else []


#: chan_dahdi's nature of address indicators when none is set (chan_dahdi.c
#: ``dahdi_chan_conf_default``: SS7_NAI_NATIONAL for both); written, so that every span
#: of every linkset says them.
NAI_DEFAULTS = {"called_nai": "national", "calling_nai": "national"}


def _nai(blocks: list[Block], warnings: list[str]) -> dict[str, Any]:
    """The linkset's NAI options: chan_dahdi copies them to the linkset with each channel,
    so the last block's win (a warning says when blocks differ)."""
    if not blocks:
        return dict(NAI_DEFAULTS)
    last = {**NAI_DEFAULTS, **{k: v for k, v in blocks[-1].ss7.items() if k != "dpc"}}
    for block in blocks[:-1]:
        mine = {**NAI_DEFAULTS, **{k: v for k, v in block.ss7.items() if k != "dpc"}}
        if mine != last:
            warnings.append(f"{block.where}: ss7_called_nai/ss7_calling_nai differ "
                                   f"from {blocks[-1].where}'s; the linkset takes the last, "
                                   "as chan_dahdi does")
            break
    return last


def _make_mtp2(config: DahdiConfig, channels: list[int]) -> None:
    """Move ``channels`` out of their dchan/hardhdlc groups into mtp2 ones."""
    if not channels:
        return
    moved = set(channels)
    groups: list[ChannelGroup] = []
    for g in config.groups:
        keep = tuple(c for c in g.channels if c not in moved)
        gone = tuple(c for c in g.channels if c in moved)
        if keep:
            groups.append(ChannelGroup(keep, g.signalling, g.idlebits, g.echocanceller,
                                       dict(g.options), g.line, g.law))
        if gone:
            groups.append(ChannelGroup(gone, "mtp2", "", g.echocanceller, {}, g.line, g.law))
    config.groups = groups
