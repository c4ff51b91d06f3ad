"""Server-rendered SVG charts for the operator console (no JavaScript, no external assets)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#4338ca", "#0f766e", "#b45309", "#be123c", "#6d28d9", "#0369a1"]


def nice_ticks(top: float, *, count: int = 4) -> list[float]:
    """Round axis values from 0 to at least ``top``: steps of 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step < 1:
        step = 1  # counts: whole numbers
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def stacked_columns_svg(
    *, days: Sequence[date], series: Sequence[tuple[str, Sequence[float]]], title: str, height: int = 200
) -> SafeString:
    """One stacked column per day, each series a colour; a value axis with round ticks and grid lines,
    and a date axis with a tick per day and a date every week (Mondays). Every value is escaped or numeric."""
    n = len(days)
    if not n:
        return mark_safe("")
    totals = [sum(values[i] for _, values in series) for i in range(n)]
    ticks = nice_ticks(max(totals))
    top = ticks[-1]
    width, left, right, upper, bottom = 640, 44, 8, 10, 34
    plot_h = height - upper - bottom
    base = height - bottom
    step = (width - left - right) / n
    bar = max(step * 0.7, 1)
    parts = []
    for tick in ticks:
        y = base - plot_h * tick / top
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="fr-grid-line"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="fr-axis">{_number(tick)}</text>')
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" class="fr-axis-line"/>')
    weekly = n > 10
    for i, day in enumerate(days):
        x = left + i * step
        middle = x + bar / 2
        y = base
        for s, (label, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)}, {day:%a %d %b}: {value:g}</title></rect>"
            )
        labelled = (day.weekday() == 0) if weekly else True
        parts.append(
            f'<line x1="{middle:.1f}" y1="{base}" x2="{middle:.1f}" y2="{base + (6 if labelled else 3)}" '
            'class="fr-axis-line"/>'
        )
        if labelled:
            parts.append(
                f'<text x="{middle:.1f}" y="{base + 18}" text-anchor="middle" class="fr-axis">{day:%d %b}</text>'
            )
    legend = "".join(
        # SVG attributes, not style attributes: the Content-Security-Policy allows no inline style.
        f'<span class="fr-legend"><svg class="fr-swatch" viewBox="0 0 1 1" aria-hidden="true">'
        f'<rect width="1" height="1" fill="{PALETTE[s % len(PALETTE)]}"/></svg>'
        f"{escape(label)}</span>"
        for s, (label, values) in enumerate(series)
    )
    caption = f"{escape(title)}: {_number(sum(totals))} in all, from {days[0]:%d %b} to {days[-1]:%d %b %Y}."
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{caption}" class="fr-chart"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
    return mark_safe(f'<figure class="fr-figure">{svg}<figcaption>{legend}</figcaption></figure>')  # noqa: S308


def share_bar(share: float) -> SafeString:
    """A horizontal bar for a share between 0 and 1."""
    pct = max(0.0, min(share, 1.0)) * 100
    return mark_safe(  # noqa: S308 — numeric only
        f'<span class="fr-share" role="img" aria-label="{pct:.0f} %"><svg viewBox="0 0 100 1" '
        f'preserveAspectRatio="none" aria-hidden="true"><rect width="{pct:.1f}" height="1"/></svg></span>'
    )


def trend_svg(
    *,
    points: Sequence[tuple[str, float, bool]],
    title: str,
    bands: tuple[float, float] | None = None,
    top: float = 100,
) -> SafeString:
    """A small line chart of one value across occasions (e.g. a percentile across reports).

    ``points`` are ``(label, value, marked)``, oldest first; a marked point is drawn filled (e.g. a change
    beyond measurement error), the others hollow. ``bands`` shades the ranges below the first and above
    the second value. The values are written above their points and listed in the chart's description,
    so nothing depends on colour. Fits any width (``viewBox``), no script, no inline style."""
    width, height, left, right, upper, bottom = 320, 150, 30, 8, 18, 26
    plot_w, plot_h = width - left - right, height - upper - bottom
    base = upper + plot_h
    n = len(points)

    def y(value: float) -> float:
        return base - plot_h * max(0.0, min(value, top)) / top

    inset = 14  # the first and last points stay clear of the axes

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else inset + (plot_w - 2 * inset) * i / (n - 1))

    parts = [f'<rect x="{left}" y="{upper}" width="{plot_w}" height="{plot_h}" class="fr-trend-area"/>']
    if bands is not None:
        low, high = bands
        parts.append(
            f'<rect x="{left}" y="{y(low):.1f}" width="{plot_w}" height="{base - y(low):.1f}" class="fr-trend-band"/>'
        )
        parts.append(
            f'<rect x="{left}" y="{upper}" width="{plot_w}" height="{y(high) - upper:.1f}" class="fr-trend-band"/>'
        )
    for tick in (0, 50, 100):
        parts.append(
            f'<text x="{left - 5}" y="{y(tick) + 4:.1f}" text-anchor="end" class="fr-axis">{_number(tick)}</text>'
        )
    if n > 1:
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v, _) in enumerate(points))
        parts.append(f'<polyline points="{line}" class="fr-trend-line" fill="none"/>')
    for i, (label, value, marked) in enumerate(points):
        cls = "fr-trend-point is-marked" if marked else "fr-trend-point"
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{5 if marked else 4}" class="{cls}">'
            f"<title>{escape(label)}: {_number(value)}</title></circle>"
        )
        above = y(value) - 8 if y(value) - 8 > upper + 4 else y(value) + 16
        parts.append(
            f'<text x="{x(i):.1f}" y="{above:.1f}" text-anchor="middle" class="fr-trend-value">{_number(value)}</text>'
        )
        step = max(1, math.ceil(n / 6))  # at most about six labels on the axis
        if i % step == 0 or i == n - 1:
            shown = label if n <= 3 else label.split()[-1]  # "Report 7" becomes "7" when many share the axis
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="fr-axis">{escape(shown)}</text>'
            )
    description = "; ".join(f"{escape(label)}: {_number(value)}" for label, value, _ in points)
    return mark_safe(  # noqa: S308 — every value is escaped or numeric
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="fr-trend" '
        f'aria-label="{escape(title)}. {description}."><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def histogram_svg(
    *, bins: Sequence[tuple[str, float]], title: str, highlight: tuple[int, int] | None = None
) -> SafeString:
    """A small column chart of counts per bin (e.g. people per band of ten percentiles).

    ``bins`` are ``(label, count)`` in axis order; ``highlight`` (first, last bin index) marks the bins a
    range selects with a different class. Each column carries its count as a ``<title>`` and the whole
    chart lists them in its ``aria-label``. No script, no inline style: the stylesheet colours the classes."""
    width, height, left, right, upper, bottom = 240, 96, 4, 4, 14, 18
    n = len(bins)
    if not n:
        return mark_safe("")
    top = max((count for _, count in bins), default=0) or 1
    plot_h = height - upper - bottom
    base = upper + plot_h
    step = (width - left - right) / n
    bar = max(step - 2, 1)
    parts = [f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" class="fr-axis-line"/>']
    for i, (label, count) in enumerate(bins):
        h = plot_h * count / top
        x = left + i * step + 1
        selected = highlight is not None and highlight[0] <= i <= highlight[1]
        cls = "fr-histogram-bar is-selected" if selected else "fr-histogram-bar"
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" class="{cls}">'
            f"<title>{escape(label)}: {_number(count)}</title></rect>"
        )
        if i in (0, n - 1) or (n > 4 and i == n // 2):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 5}" text-anchor="middle" class="fr-axis">'
                f"{escape(label.split('–')[0])}</text>"
            )
    description = "; ".join(f"{escape(label)}: {_number(count)}" for label, count in bins)
    return mark_safe(  # noqa: S308 — every value is escaped or numeric
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="fr-histogram" '
        f'aria-label="{escape(title)}. {description}."><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
