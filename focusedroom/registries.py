"""The registries through which an app reaches sideways or upwards without importing.

A lower app owns a place (the GDPR erasure, the member page, brand settings, the
customer's console page, the event log's references, the console dashboard); higher
apps register what they add there, in their ``AppConfig.ready()``. The plumbing knows
no app: entries are plain callables and template names.

    gdpr_parts          name -> GdprPart(export, erase): ``accounts`` runs them all
    account_panels      panels of ``/account/`` (template + context function)
    brand_settings      validators of ``Brand.settings`` (each app checks its own keys)
    customer_console    what other apps show on a customer's console page
    profile_console     panels on a target customer profile's console page (``integrations``: its audience)
    event_references    id checkers for the event log's reference columns (``product``)
    holdout_rules       who is in a brand's holdout (``experiments``); ``in_holdout`` asks them all
    guardrail_metrics   per-person outcomes experiments watch for harm (gems, unsubscribes, bounces)
    partitioned_tables  history tables partitioned by month (``focusedroom.partitions``)
    retention_jobs      each table's retention, run by the daily partition maintenance
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class Registry:
    """Named entries in registration order; registering a name again replaces the entry."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._entries: dict[str, Any] = {}

    def register(self, name: str, entry: Any) -> None:
        self._entries[name] = entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str, default: Any = None) -> Any:
        return self._entries.get(name, default)

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Any]:
        return list(self._entries.values())

    def __contains__(self, name: str) -> bool:
        return name in self._entries


@dataclass(frozen=True)
class GdprPart:
    """How an app exports (``export(*, user) -> JSON-ready``) and erases (``erase(*, user)``) a person.

    ``models`` lists the app's models that point at a person: the system check
    ``focusedroom.E001`` refuses a model with a foreign key to the user whose app has no part.
    """

    name: str
    export: Callable[..., Any]
    erase: Callable[..., None] | None = None
    order: int = 100  # erasure order: lower first (accounts pseudonymises the person last)


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[..., dict[str, Any]]  # (*, user, request) -> dict
    order: int = 100


@dataclass(frozen=True)
class CustomerConsoleExtension:
    """What an app adds to the customer's console page (inlines, list columns, actions)."""

    inlines: Iterable[type] = ()
    annotate: Callable[[Any], Any] | None = None  # queryset -> queryset with extra columns
    list_display: Iterable[str | Callable] = ()
    actions: Iterable[Callable] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GuardrailMetric:
    """An outcome experiments watch for harm, from any app's data, as SQL.

    ``sql`` is a SELECT of ``user_id, occurred_at, value`` rows — one per event of a person —
    that may use the named parameter ``%(since)s`` (the experiment's start) to read only recent
    rows. Experiments sum ``value`` per participant from the first exposure to the end of the
    conversion window (``kind="mean"``), or count whether any event happened
    (``kind="proportion"``), in the same SQL pass as the other results.
    ``harm`` says which direction hurts: ``"decrease"`` (fewer gems earned) or ``"increase"``
    (more unsubscribes).
    """

    name: str
    label: str
    sql: str
    kind: str = "mean"  # "mean" or "proportion"
    harm: str = "decrease"  # "decrease" or "increase"
    unit: str = ""
    order: int = 100


gdpr_parts = Registry("GDPR export and erasure, by app")
account_panels = Registry("panels of the member page /account/")
brand_settings = Registry("validators of Brand.settings")
customer_console = Registry("additions to the customer's console page")
event_references = Registry("checkers of ids that events refer to: name -> callable(ids) -> known ids")
holdout_rules = Registry("holdout membership: name -> callable(*, brand, user, anonymous_id) -> bool")
guardrail_metrics = Registry("guardrail metrics of experiments: name -> GuardrailMetric")
partitioned_tables = Registry("tables partitioned by month: table -> partitions.PartitionedTable")
retention_jobs = Registry("retention of history tables: name -> callable() -> what it removed")
profile_console = Registry("panels of a target customer profile's console page: template -> Panel")


def register_gdpr_part(
    *, name: str, export: Callable[..., Any], erase: Callable[..., None] | None = None, order: int = 100
) -> None:
    gdpr_parts.register(name, GdprPart(name=name, export=export, erase=erase, order=order))


def register_account_panel(*, template: str, context: Callable[..., dict[str, Any]], order: int = 100) -> None:
    account_panels.register(template, Panel(template=template, context=context, order=order))


def register_profile_panel(*, template: str, context: Callable[..., dict[str, Any] | None], order: int = 100) -> None:
    """A panel on a target customer profile's console page: ``context(*, profile, request)`` returns the
    template's context, or None to show nothing (e.g. the staff member may not see it)."""
    profile_console.register(template, Panel(template=template, context=context, order=order))


def register_guardrail_metric(metric: GuardrailMetric) -> None:
    if metric.kind not in ("mean", "proportion") or metric.harm not in ("decrease", "increase"):
        raise ValueError(f"guardrail {metric.name}: kind is mean|proportion, harm is decrease|increase")
    guardrail_metrics.register(metric.name, metric)


def in_holdout(*, brand=None, user=None, anonymous_id: str = "") -> bool:
    """Whether the person (or visitor) is in the brand's holdout (the default brand when ``brand`` is None).

    The rule is ``experiments``' (``experiments.selectors.holdout_contains``); apps beside it —
    ``rewards`` deciding whether a holdout campaign may reward someone — ask here.
    """
    return any(rule(brand=brand, user=user, anonymous_id=anonymous_id) for rule in holdout_rules.entries())
