"""GDPR export and erasure across apps.

Each app registers, in its ``AppConfig.ready()``, how to export a person's data and how
to erase (pseudonymise) it: ``register(name="rewards", export=…, erase=…)``.
``export(*, user) -> dict | list`` returns JSON-serialisable data; ``erase(*, user)``
pseudonymises free text, IPs and user agents while keeping aggregates intact. The
accounts services call every registered part inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GdprPart:
    name: str
    export: Callable[..., Any]
    erase: Callable[..., None] | None = None


_PARTS: dict[str, GdprPart] = {}


def register(*, name: str, export: Callable[..., Any], erase: Callable[..., None] | None = None) -> None:
    _PARTS[name] = GdprPart(name=name, export=export, erase=erase)


def parts() -> list[GdprPart]:
    return list(_PARTS.values())
