"""Small SVG charts drawn on the server, for the printable daily report: bars, lines
with a reference (the abandon cap), stacked bars. No script, no style attribute (only
presentation attributes, which a strict Content-Security-Policy allows), every label
escaped. Each function returns one ``<svg>`` element with a ``<title>`` for screen
readers, sized by its viewBox so it scales to the page and to paper."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

#: A palette that stays apart in greyscale print (dark to light).
COLORS = ("#1f4e79", "#c0392b", "#7f8c8d", "#27ae60", "#e67e22", "#8e44ad", "#95a5a6")
W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 34


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{round(value, 6):g}"


def _axis(y_max: float, percent: bool) -> list[str]:
    out = []
    for i in range(5):
        v = y_max * i / 4
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 4
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#ddd" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
                   f'fill="#444">{escape(_fmt(round(v, 4), percent))}</text>')
    return out


def _scale(values: Sequence[float | None], extra: Sequence[float] = ()) -> float:
    """The axis top: four gridline steps of 1, 2, 2.5 or 5 times a power of ten, so the
    labels read as round numbers (0, 5, 10, 15, 20 rather than 0, 4.4, 8.8...)."""
    top = max([v for v in values if v is not None] + list(extra) + [0.0])
    if top <= 0:
        return 1.0
    raw = top * 1.05 / 4
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    return step * 4


def _frame(title: str, body: list[str], legend: Sequence[tuple[str, str]]) -> str:
    keys = []
    x = LEFT
    for name, color in legend:
        keys.append(f'<rect x="{x}" y="{H - 12}" width="10" height="10" fill="{color}"/>'
                    f'<text x="{x + 14}" y="{H - 3}" font-size="10" fill="#222">'
                    f'{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
            + "".join(body) + "".join(keys) + "</svg>")


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
         *, percent: bool = False) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    values = [v for _, vs in series for v in vs]
    y_max = _scale(values)
    body = _axis(y_max, percent)
    n = max(1, len(labels))
    slot = (W - LEFT - RIGHT) / n
    width = slot * 0.8 / max(1, len(series))
    for i, label in enumerate(labels):
        x0 = LEFT + i * slot + slot * 0.1
        for j, (_, vs) in enumerate(series):
            v = vs[i] if i < len(vs) else 0.0
            h = (H - TOP - BOTTOM) * (v / y_max)
            body.append(f'<rect x="{x0 + j * width:.1f}" y="{H - BOTTOM - h:.1f}" '
                        f'width="{max(width - 1, 1):.1f}" height="{h:.1f}" '
                        f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(label)} '
                        f'{escape(series[j][0])}: {escape(_fmt(v, percent))}</title></rect>')
        if n <= 24 or i % 2 == 0:
            body.append(f'<text x="{LEFT + i * slot + slot / 2:.1f}" y="{H - BOTTOM + 12}" '
                        f'text-anchor="middle" font-size="10" fill="#444">'
                        f'{escape(label)}</text>')
    legend = [(name, COLORS[j % len(COLORS)]) for j, (name, _) in enumerate(series)]
    return _frame(title, body, legend)


def lines(title: str, labels: Sequence[str],
          series: Sequence[tuple[str, Sequence[float | None]]], *, percent: bool = False,
          references: Sequence[tuple[str, float]] = ()) -> str:
    """Lines over ``labels`` (None leaves a gap), with dashed horizontal reference lines
    (a cap, a target) that turn the chart's meaning into a picture."""
    values = [v for _, vs in series for v in vs]
    y_max = _scale(values, [r for _, r in references])
    body = _axis(y_max, percent)
    n = len(labels)
    span = W - LEFT - RIGHT

    def x_at(i: int) -> float:
        return LEFT + (span * (i + 0.5) / n if n else 0)

    def y_at(v: float) -> float:
        return H - BOTTOM - (H - TOP - BOTTOM) * v / y_max

    for k, (name, level) in enumerate(references):
        color = "#c0392b" if k == 0 else "#e67e22"
        # labels at alternate ends, so a cap and a target close together both read
        x, anchor = (W - RIGHT - 2, "end") if k % 2 == 0 else (LEFT + 4, "start")
        body.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y_at(level):.1f}" '
                    f'y2="{y_at(level):.1f}" stroke="{color}" stroke-dasharray="6 4" '
                    f'stroke-width="1.5"/><text x="{x}" y="{y_at(level) - 3:.1f}" '
                    f'text-anchor="{anchor}" font-size="10" fill="{color}">{escape(name)} '
                    f'{escape(_fmt(level, percent))}</text>')
    for j, (name, vs) in enumerate(series):
        color = COLORS[j % len(COLORS)]
        run: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                if len(run) > 1:
                    body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                                f'points="{" ".join(run)}"/>')
                run = []
                continue
            run.append(f"{x_at(i):.1f},{y_at(v):.1f}")
            body.append(f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2.5" '
                        f'fill="{color}"><title>{escape(labels[i])} {escape(name)}: '
                        f'{escape(_fmt(v, percent))}</title></circle>')
        if len(run) > 1:
            body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                        f'points="{" ".join(run)}"/>')
    step = max(1, n // 12)
    for i, label in enumerate(labels):
        if i % step == 0:
            body.append(f'<text x="{x_at(i):.1f}" y="{H - BOTTOM + 12}" text-anchor="middle" '
                        f'font-size="10" fill="#444">{escape(label)}</text>')
    legend = [(name, COLORS[j % len(COLORS)]) for j, (name, _) in enumerate(series)]
    return _frame(title, body, legend)


def stacked(title: str, labels: Sequence[str],
            parts: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Horizontal bars of shares (each row's parts add up to at most 1): where each
    agent's time went."""
    row_h = 18
    height = TOP + row_h * max(1, len(labels)) + 30
    body = []
    left = 110
    span = W - left - RIGHT
    for i, label in enumerate(labels):
        y = TOP + i * row_h
        body.append(f'<text x="{left - 4}" y="{y + 12}" text-anchor="end" font-size="10" '
                    f'fill="#222">{escape(label)}</text>')
        x = float(left)
        for j, (name, shares) in enumerate(parts):
            share = max(0.0, shares[i] if i < len(shares) else 0.0)
            w = span * min(share, 1.0)
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 4}" '
                            f'fill="{COLORS[j % len(COLORS)]}"><title>{escape(label)} '
                            f'{escape(name)}: {share * 100:.1f}%</title></rect>')
            x += w
    keys = []
    x = left
    for j, (name, _) in enumerate(parts):
        keys.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" '
                    f'fill="{COLORS[j % len(COLORS)]}"/><text x="{x + 14}" y="{height - 5}" '
                    f'font-size="10" fill="#222">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" role="img" '
            f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
            + "".join(body) + "".join(keys) + "</svg>")
