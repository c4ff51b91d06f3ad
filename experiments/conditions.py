"""Eligibility rules: GrowthBook-style JSON conditions on the participant's attributes.

``{"channel": 1, "device_type": {"$in": ["mobile", "tablet"]}, "$or": [{"country": "FR"}, {"age": {"$gte": 30}}]}``

A rule is an object whose keys are attributes (equality, or an object of operators) or
the logical keys ``$and``, ``$or``, ``$nor`` (lists of rules) and ``$not`` (a rule).
Operators: ``$eq $ne $lt $lte $gt $gte $in $nin $exists $regex``. A missing attribute
only satisfies ``$ne``, ``$nin`` and ``$exists: false``. Rules are validated when saved.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

ATTRIBUTES = {
    "channel": "acquisition channel id (1 Big Five Test, 2 eBook, 3 Mobile App)",
    "career_stage": "career stage value, e.g. mid_career",
    "country": "two-letter country code (person, else request context)",
    "device_type": "desktop, mobile, tablet, bot or other",
    "is_email_verified": "true or false",
    "is_member": "true when the participant is a known person",
    "language": "language code of the request, e.g. en",
    "age": "age in years",
    "marketing_opt_in": "true or false",
}
LOGICAL = {"$and", "$or", "$nor", "$not"}
OPERATORS = {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$exists", "$regex"}
_MISSING = object()


def validate_rules(rules: Any, path: str = "eligibility_rules") -> None:
    """Raise ``ValidationError`` ({path: [message]}) unless ``rules`` is a valid rule."""
    if not isinstance(rules, dict):
        raise ValidationError({path: ["A rule is a JSON object."]})
    for key, value in rules.items():
        where = f"{path}.{key}"
        if key in ("$and", "$or", "$nor"):
            if not isinstance(value, list):
                raise ValidationError({where: ["Expected a list of rules."]})
            for i, sub in enumerate(value):
                validate_rules(sub, f"{where}[{i}]")
        elif key == "$not":
            validate_rules(value, where)
        elif key.startswith("$"):
            raise ValidationError({where: [f"Unknown logical key; use one of {', '.join(sorted(LOGICAL))}."]})
        elif key not in ATTRIBUTES:
            raise ValidationError({where: [f"Unknown attribute; use one of {', '.join(sorted(ATTRIBUTES))}."]})
        elif isinstance(value, dict):
            for op, operand in value.items():
                if op not in OPERATORS:
                    raise ValidationError(
                        {f"{where}.{op}": [f"Unknown operator; use one of {', '.join(sorted(OPERATORS))}."]}
                    )
                if op in ("$in", "$nin") and not isinstance(operand, list):
                    raise ValidationError({f"{where}.{op}": ["Expected a list."]})
                if op == "$regex":
                    try:
                        re.compile(str(operand))
                    except re.error:
                        raise ValidationError({f"{where}.{op}": ["Invalid regular expression."]}) from None


def evaluate(rules: dict, attributes: dict[str, Any]) -> bool:
    for key, value in rules.items():
        if key == "$and":
            if not all(evaluate(sub, attributes) for sub in value):
                return False
        elif key == "$or":
            if value and not any(evaluate(sub, attributes) for sub in value):
                return False
        elif key == "$nor":
            if any(evaluate(sub, attributes) for sub in value):
                return False
        elif key == "$not":
            if evaluate(value, attributes):
                return False
        elif not _matches(value, attributes.get(key, _MISSING)):
            return False
    return True


def _matches(condition: Any, actual: Any) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        return all(_operator(op, operand, actual) for op, operand in condition.items())
    return actual is not _MISSING and actual == condition


def _compare(actual: Any, operand: Any) -> tuple[Any, Any] | None:
    if actual is _MISSING or actual is None or isinstance(actual, bool) or isinstance(operand, bool):
        return None
    if isinstance(actual, (int, float)) and isinstance(operand, (int, float)):
        return actual, operand
    if isinstance(actual, (int, float)) or isinstance(operand, (int, float)):
        try:
            return float(actual), float(operand)
        except (TypeError, ValueError):
            return None
    return str(actual), str(operand)


def _operator(op: str, operand: Any, actual: Any) -> bool:
    if op == "$exists":
        return (actual is not _MISSING and actual is not None) == bool(operand)
    if op == "$eq":
        return actual is not _MISSING and actual == operand
    if op == "$ne":
        return actual is _MISSING or actual != operand
    if op == "$in":
        return actual is not _MISSING and isinstance(operand, list) and actual in operand
    if op == "$nin":
        return actual is _MISSING or (isinstance(operand, list) and actual not in operand)
    if op == "$regex":
        return isinstance(actual, str) and re.search(str(operand), actual) is not None
    pair = _compare(actual, operand)
    if pair is None:
        return False
    a, b = pair
    return {"$lt": a < b, "$lte": a <= b, "$gt": a > b, "$gte": a >= b}.get(op, False)
