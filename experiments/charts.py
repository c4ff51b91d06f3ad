"""Server-rendered SVG charts for the results view (no JavaScript, no external assets)."""

from __future__ import annotations

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

BAR_HEIGHT = 28
GAP = 14
LABEL_WIDTH = 150
PLOT_WIDTH = 420


def results_chart_svg(metric: dict) -> SafeString:
    """Conversion rate per variant (bars) and, for each challenger, the uplift interval (line)."""
    variants = metric["variants"]
    if not variants:
        return mark_safe("")
    top = max(max(v["conversion_rate"] for v in variants), 0.0001)
    height = len(variants) * (BAR_HEIGHT + GAP) + GAP
    parts = []
    for i, v in enumerate(variants):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = PLOT_WIDTH * v["conversion_rate"] / top
        css = "fr-bar-control" if v["is_control"] else "fr-bar-variant"
        parts.append(
            format_html(
                '<text x="0" y="{}" class="fr-chart-label">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" class="{}" rx="3"></rect>'
                '<text x="{}" y="{}" class="fr-chart-value">{} %</text>',
                f"{y + BAR_HEIGHT * 0.65:.1f}",
                v["name"][:22],
                LABEL_WIDTH,
                y,
                f"{width:.1f}",
                BAR_HEIGHT,
                css,
                f"{LABEL_WIDTH + width + 6:.1f}",
                f"{y + BAR_HEIGHT * 0.65:.1f}",
                f"{v['conversion_rate'] * 100:.2f}",
            )
        )
    title = escape(f"Conversion rate per variant: {metric['conversion_type']}")
    body = "".join(str(p) for p in parts)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{title}" class="fr-chart" '
        f'viewBox="0 0 {LABEL_WIDTH + PLOT_WIDTH + 90} {height}" width="100%"><title>{title}</title>{body}</svg>'
    )
    return mark_safe(svg)  # noqa: S308 — every interpolated value is escaped above


def interval_svg(row: dict) -> SafeString:
    """A small uplift interval: the confidence interval as a line, the estimate as a dot, 0 as a tick."""
    lo, hi = row.get("ci", [0, 0])
    bound = max(abs(lo), abs(hi), 0.01) * 1.1
    width, mid = 160, 80

    def x(v: float) -> float:
        return mid + v / bound * (mid - 6)

    css = (
        "fr-ci-win"
        if row.get("significant") and row["uplift"] > 0
        else ("fr-ci-lose" if row.get("significant") else "fr-ci-flat")
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="uplift {} % (interval {} % to '
        '{} %)" viewBox="0 0 {} 20" width="{}" height="20"><line x1="{}" x2="{}" y1="2" y2="18" '
        'class="fr-ci-zero"></line><line x1="{}" x2="{}" y1="10" y2="10" class="{}"></line>'
        '<circle cx="{}" cy="10" r="4" class="{}"></circle></svg>',
        f"{row['uplift'] * 100:+.1f}",
        f"{lo * 100:+.1f}",
        f"{hi * 100:+.1f}",
        width,
        width,
        mid,
        mid,
        f"{x(lo):.1f}",
        f"{x(hi):.1f}",
        css,
        f"{x(row['uplift']):.1f}",
        css,
    )
