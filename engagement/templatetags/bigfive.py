"""Template helpers of the Big Five pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def with_minutes(text: str, minutes) -> str:
    """Put the test's duration into a headline: ``{minutes}`` becomes the measured median (in minutes).

    Headline variants of the landing page's experiment write "in about {minutes} minutes" rather than a
    number of their own, so every headline says what the lead paragraph says."""
    if "{minutes}" not in (text or ""):
        return text
    return text.replace("{minutes}", str(minutes) if minutes else "a few")
