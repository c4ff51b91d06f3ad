"""Operator-console role groups and their model permissions.

Each group holds the permissions whose ``app_label.codename`` matches one of its
patterns. ``sync_roles()`` is idempotent; it runs after every ``migrate`` (so new
models get their permissions) and from ``manage.py setup_roles``.
"""

from __future__ import annotations

from fnmatch import fnmatch

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction

ROLES: dict[str, list[str]] = {
    # Runs experiments and campaigns; reads people, results and rewards.
    "Marketing": [
        "experiments.*",
        "profiles.*",
        "accounts.view_*",
        "engagement.view_*",
        "integrations.view_*",
        "integrations.read_audience",
        "integrations.sync_audience",
        "rewards.view_*",
        "rewards.add_product",
        "rewards.change_product",
        "rewards.add_achievementconfig",
        "rewards.change_achievementconfig",
        "rewards.add_rank",
        "rewards.change_rank",
        "rewards.add_rewarditem",
        "rewards.change_rewarditem",
    ],
    # Helps members: people, their results and their gems (adjustments included).
    "Support": [
        "accounts.view_customer",
        "accounts.change_customer",
        "accounts.view_user",
        "accounts.view_channel",
        "accounts.view_brand",
        "engagement.view_*",
        "integrations.view_*",
        "rewards.view_*",
        "rewards.adjust_*",
        "rewards.reverse_*",
    ],
    # Keeps the platform running: reads everything, runs integrations and brands.
    "Ops": [
        "*.view_*",
        "engagement.*",
        "integrations.*",
        "accounts.add_brand",
        "accounts.change_brand",
        "accounts.change_apitoken",
        "accounts.delete_apitoken",
        "procrastinate.change_procrastinatejob",  # retry a failed background job (console: Background work)
    ],
}


def permissions_for(patterns: list[str]) -> list[Permission]:
    perms = Permission.objects.select_related("content_type")
    return [p for p in perms if any(fnmatch(f"{p.content_type.app_label}.{p.codename}", pat) for pat in patterns)]


@transaction.atomic
def sync_roles() -> dict[str, int]:
    """Create the role groups and set their permissions; returns permission counts."""
    counts = {}
    for name, patterns in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = permissions_for(patterns)
        group.permissions.set(perms)
        counts[name] = len(perms)
    return counts


def sync_after_migrate(sender, **kwargs) -> None:
    # Permissions are created per app after its migrations; wait for the last app.
    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    if kwargs.get("using", "default") != "default":
        return
    sync_roles()
