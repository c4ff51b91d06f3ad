"""Validation of ``Brand.settings``: each app validates the part it owns.

Apps register a validator in ``AppConfig.ready()``; ``Brand.clean()`` (the console's
form) runs them all. A validator raises ``ValidationError({"settings": [...]})``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_VALIDATORS: list[Callable[[Any], None]] = []


def register_validator(validator: Callable[[Any], None]) -> None:
    if validator not in _VALIDATORS:
        _VALIDATORS.append(validator)


def validate_brand_settings(settings: Any) -> None:
    for validator in _VALIDATORS:
        validator(settings)
