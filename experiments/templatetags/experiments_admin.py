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
def signed_percent(value, digits=1):
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f} %"


@register.filter
def interval(row):
    return interval_svg(row)
