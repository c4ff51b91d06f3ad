"""Formatting filters for the experiment results view."""

from django import template

from experiments.charts import interval_svg

register = template.Library()


@register.filter
def percent(value, digits=0):
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f} %"


@register.filter
def percent_short(value):
    """0.05 -> "5 %", 0.025 -> "2.5 %"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:g} %"


@register.filter
def signed_percent(value, digits=1):
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f} %"


@register.filter
def interval(row):
    return interval_svg(row)


@register.filter
def covariate_names(names) -> str:
    """The covariates of a regression adjustment, in words."""
    names = list(names or [])
    words = []
    if "pre_exposure" in names:
        words.append("the same metric before exposure")
    if any(n.startswith("trait_") or n == "took_big_five" for n in names):
        words.append("the Big Five domain percentiles of those who took the test before")
    return " and ".join(words) or "pre-exposure data"
