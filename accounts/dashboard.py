"""Panels of the member page ``/account/`` contributed by other apps.

An app registers a template and a function that returns its context for a person
(``register_panel`` in its ``AppConfig.ready()``); accounts renders them in order and
never imports the other apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[..., dict[str, Any]]  # (*, user, request) -> dict
    order: int = 100


_PANELS: list[Panel] = []


def register_panel(*, template: str, context: Callable[..., dict[str, Any]], order: int = 100) -> None:
    if all(p.template != template for p in _PANELS):
        _PANELS.append(Panel(template=template, context=context, order=order))


def panels_for(*, user, request) -> list[dict[str, Any]]:
    return [
        {"template": p.template, "context": p.context(user=user, request=request)}
        for p in sorted(_PANELS, key=lambda p: p.order)
    ]
