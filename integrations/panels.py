"""The audience panel on a target customer profile's console page (``registries.profile_console``).

Live size (consented customers only), composition by channel, career stage and age band,
one small SVG histogram per trait (no script, no inline style), the change since last week and
the sync state. Staff without ``integrations.read_audience`` see no panel. Reads only.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from focusedroom.charts import histogram_svg, share_bar
from integrations import selectors
from integrations.models import AudienceSync


def audience_panel(*, profile, request) -> dict[str, Any] | None:
    if not request.user.has_perm("integrations.read_audience"):
        return None
    report = selectors.audience_report(profile=profile)
    size = report["size"]

    def shares(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**g, "bar": share_bar(g["count"] / size if size else 0)} for g in groups]

    traits = []
    for code, trait in report["composition"]["traits"].items():
        low, high = trait["range"]["min"], trait["range"]["max"]
        highlight = None
        if low is not None or high is not None:
            highlight = (min((low or 0) // 10, 9), min((100 if high is None else high) // 10, 9))
        traits.append(
            {
                "code": code,
                "label": trait["label"],
                "range": trait["range"],
                "without_result": trait["without_result"],
                "svg": histogram_svg(
                    bins=[(f"{b['label']} percentile", b["count"]) for b in trait["bins"]],
                    title=f"{trait['label']}: people per band of ten percentiles",
                    highlight=highlight,
                ),
            }
        )
    sync = report["sync"]
    if request.user.has_perm("integrations.sync_audience"):
        sync_url = (
            reverse("admin:integrations_audiencesync_change", args=[profile.pk])
            if sync["key"]
            else reverse("admin:integrations_audiencesync_add") + f"?profile={profile.pk}"
        )
    else:
        sync_url = ""
    return {
        "report": report,
        "channel": shares(report["composition"]["channel"]),
        "career_stage": shares(report["composition"]["career_stage"]),
        "age_band": shares([g for g in report["composition"]["age_band"] if g["count"]]),
        "traits": traits,
        "sync": sync,
        "sync_url": sync_url,
        "sync_model": AudienceSync._meta,
    }
