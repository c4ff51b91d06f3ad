"""Server-rendered SVG charts for the operator console (no JavaScript, no external assets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#4338ca", "#0f766e", "#b45309", "#be123c", "#6d28d9", "#0369a1"]


def stacked_columns_svg(
    *, days: Sequence[date], series: Sequence[tuple[str, Sequence[float]]], title: str, height: int = 160
) -> SafeString:
    """One stacked column per day; each series a colour. Every value is escaped or numeric."""
    n = len(days)
    if not n:
        return mark_safe("")
    totals = [sum(values[i] for _, values in series) for i in range(n)]
    top = max(max(totals), 1)
    width, left, bottom = 640, 34, 22
    step = (width - left) / n
    bar = max(step * 0.7, 1)
    parts = [
        f'<text x="0" y="12" class="fr-axis">{int(top)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" class="fr-axis-line"/>',
    ]
    plot = height - bottom - 8
    for i, day in enumerate(days):
        y = height - bottom
        x = left + i * step
        for s, (label, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = plot * value / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)} {day:%d %b}: {value:g}</title></rect>"
            )
        if i % max(n // 6, 1) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" class="fr-axis">{day:%d %b}</text>')
    legend = "".join(
        # SVG attributes, not style attributes: the Content-Security-Policy allows no inline style.
        f'<span class="fr-legend"><svg class="fr-swatch" viewBox="0 0 1 1" aria-hidden="true">'
        f'<rect width="1" height="1" fill="{PALETTE[s % len(PALETTE)]}"/></svg>'
        f"{escape(label)}</span>"
        for s, (label, _) in enumerate(series)
    )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="fr-chart"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )
    return mark_safe(f'<figure class="fr-figure">{svg}<figcaption>{legend}</figcaption></figure>')  # noqa: S308


def share_bar(share: float) -> SafeString:
    """A horizontal bar for a share between 0 and 1."""
    pct = max(0.0, min(share, 1.0)) * 100
    return mark_safe(  # noqa: S308 — numeric only
        f'<span class="fr-share" role="img" aria-label="{pct:.0f} %"><svg viewBox="0 0 100 1" '
        f'preserveAspectRatio="none" aria-hidden="true"><rect width="{pct:.1f}" height="1"/></svg></span>'
    )
