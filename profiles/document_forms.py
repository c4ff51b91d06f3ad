"""Structured editors for the campaign records' JSON documents, for the operator console.

Seed 003 describes demographics, behaviour, persona and brand guidelines key by key; the
console shows a form field for every documented key (numbers, lists, choices, colour rows)
instead of a raw ``{}`` box. Keys the form does not know — and values whose shape it cannot
show — stay in a JSON box behind "Show JSON" and are saved as they are. The form only shapes
input: the document it builds is validated by the services with the JSON Schemas of
``profiles.schemas``, the same as through the API.

A ``DocumentField`` turns the posted inputs into one document; ``DocumentWidget`` renders a
document (or what was posted, when it comes back with errors) as those inputs.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from profiles import schemas

EXTRA = "__json"  # the name suffix of the "other keys" box
HEX = re.compile(r"^#(?:[0-9A-Fa-f]{3}){1,2}$")


LABELS = {"tv": "TV", "ai_generated": "AI-generated"}


def _label(value: str) -> str:
    """``"high_school"`` -> "High school", ``"non-binary"`` -> "Non-binary"."""
    return LABELS.get(value) or value.replace("_", " ").capitalize()


def _enum(*path: str) -> tuple[tuple[str, str], ...]:
    """The choices of an ``enum`` in ``profiles.schemas`` (one list of allowed values)."""
    node: Any = schemas.SCHEMAS
    for key in path:
        node = node[key]
    values = node["enum"] if "enum" in node else node["items"]["enum"]
    return tuple((v, _label(v)) for v in values)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # "text" or "color"
    size: int = 14


@dataclass(frozen=True)
class Part:
    """One documented key: where it sits in the document and how it is entered."""

    path: tuple[str, ...]
    label: str
    kind: str  # text, url, textarea, number, integer, choice, choices, tags, lines, rows
    choices: tuple[tuple[str, str], ...] = ()
    columns: tuple[Column, ...] = ()
    help: str = ""
    upper: bool = False
    wide: bool = False

    @property
    def key(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Group:
    legend: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Spec:
    groups: tuple[Group, ...]

    @property
    def parts(self) -> list[Part]:
        return [part for group in self.groups for part in group.parts]


COLOR_COLUMNS = (
    Column("name", "name", size=16),
    Column("hex", "hex", kind="color", size=9),
    Column("usage", "usage", size=22),
)


def _palette(prefix: tuple[str, ...], *, legend: str) -> Group:
    return Group(
        legend,
        tuple(
            Part((*prefix, tone), f"{tone} colours", "rows", columns=COLOR_COLUMNS, wide=True)
            for tone in ("primary", "secondary", "accent", "neutral")
        ),
    )


DEMOGRAPHICS = Spec(
    (
        Group(
            "Age and gender",
            (
                Part(("ageRange", "min"), "age from", "integer"),
                Part(("ageRange", "max"), "age to", "integer"),
                Part(("gender",), "gender", "choice", choices=_enum("demographics", "properties", "gender")),
            ),
        ),
        Group(
            "Location",
            (
                Part(("location", "countries"), "countries", "tags", help="Two-letter codes, e.g. US, CA", upper=True),
                Part(("location", "states"), "states or regions", "tags", help="Separated by commas"),
                Part(("location", "cities"), "cities", "lines", help="One per line"),
                Part(("location", "radius", "latitude"), "radius: latitude", "number"),
                Part(("location", "radius", "longitude"), "radius: longitude", "number"),
                Part(("location", "radius", "radius"), "radius: distance", "number"),
                Part(
                    ("location", "radius", "unit"),
                    "radius: unit",
                    "choice",
                    choices=_enum(
                        "demographics", "properties", "location", "properties", "radius", "properties", "unit"
                    ),
                ),
            ),
        ),
        Group(
            "Income, education and work",
            (
                Part(("incomeRange", "min"), "income from", "number"),
                Part(("incomeRange", "max"), "income to", "number"),
                Part(
                    ("educationLevel",),
                    "education",
                    "choice",
                    choices=_enum("demographics", "properties", "educationLevel"),
                ),
                Part(("languages",), "languages", "tags", help="Separated by commas"),
                Part(("occupations",), "occupations", "lines", help="One per line"),
            ),
        ),
    )
)

BEHAVIOR = Spec(
    (
        Group(
            "Behaviour",
            (
                Part(
                    ("devicePreferences",),
                    "devices",
                    "choices",
                    choices=_enum("behavior", "properties", "devicePreferences"),
                ),
                Part(
                    ("onlineActivityLevel",),
                    "online activity",
                    "choice",
                    choices=_enum("behavior", "properties", "onlineActivityLevel"),
                ),
                Part(("purchaseBehavior",), "purchase behaviour", "lines", help="One per line, e.g. frequent_buyer"),
                Part(("socialMediaPlatforms",), "social platforms", "tags", help="e.g. instagram, linkedin"),
            ),
        ),
    )
)

PERSONA = Spec(
    (
        Group(
            "Persona",
            (
                Part(("name",), "persona name", "text"),
                Part(("description",), "description", "textarea", wide=True),
                Part(("motivations",), "motivations", "lines", help="One per line"),
                Part(("painPoints",), "pain points", "lines", help="One per line"),
                Part(("values",), "values", "lines", help="One per line"),
                Part(("goals",), "goals", "lines", help="One per line"),
            ),
        ),
    )
)

HIGH_LEVEL_GUIDELINES = Spec(
    (
        Group(
            "Logo",
            (
                Part(("logo", "primaryLogoUrl"), "logo URL", "url", wide=True),
                Part(("logo", "usageRules"), "logo rules", "lines", help="One per line", wide=True),
            ),
        ),
        _palette(("colors",), legend="Colours"),
        Group(
            "Typography",
            (
                Part(("typography", "primaryFont"), "primary font", "text"),
                Part(("typography", "secondaryFont"), "secondary font", "text"),
                Part(("typography", "typeSizes"), "type sizes", "tags", help="e.g. 16px, 24px, 32px"),
            ),
        ),
        Group(
            "Voice",
            (
                Part(("voice", "tone"), "tone", "tags", help="e.g. friendly, confident"),
                Part(("voice", "doList"), "do", "lines", help="One per line"),
                Part(("voice", "dontList"), "don't", "lines", help="One per line"),
            ),
        ),
    )
)

FULL_STYLE_GUIDE = Spec(
    (
        Group(
            "Logo",
            (
                Part(("logoGuidelines", "clearSpace"), "clear space", "text", help="e.g. 0.5x logo height"),
                Part(("logoGuidelines", "minimumSize", "width"), "minimum width (px)", "number"),
                Part(("logoGuidelines", "minimumSize", "height"), "minimum height (px)", "number"),
            ),
        ),
        _palette(("colorPalette",), legend="Colour palette"),
        Group(
            "Typography",
            (
                Part(("typographyGuidelines", "primaryFont", "family"), "primary font", "text"),
                Part(("typographyGuidelines", "primaryFont", "fallback"), "primary fallback", "text"),
                Part(("typographyGuidelines", "secondaryFont", "family"), "secondary font", "text"),
                Part(("typographyGuidelines", "secondaryFont", "fallback"), "secondary fallback", "text"),
                Part(("typographyGuidelines", "typeScale"), "type scale", "tags", help="e.g. 12px, 16px, 24px"),
            ),
        ),
        Group(
            "Voice and tone",
            (
                Part(("voiceGuidelines", "brandVoice"), "brand voice", "text", wide=True),
                Part(("voiceGuidelines", "primaryTone"), "primary tone", "tags", help="e.g. professional, friendly"),
                Part(
                    ("voiceGuidelines", "messagingPillars"),
                    "messaging pillars",
                    "rows",
                    columns=(Column("name", "pillar", size=18), Column("description", "what it says", size=40)),
                    wide=True,
                ),
            ),
        ),
    )
)

METADATA = Spec(
    (
        Group(
            "Notes",
            (
                Part(("tags",), "tags", "tags", help="Separated by commas"),
                Part(("source",), "source", "choice", choices=_enum("metadata", "properties", "source")),
                Part(("notes",), "notes", "textarea", wide=True),
            ),
        ),
    )
)

SPECS: dict[str, Spec] = {
    "demographics": DEMOGRAPHICS,
    "behavior": BEHAVIOR,
    "persona": PERSONA,
    "high_level_guidelines": HIGH_LEVEL_GUIDELINES,
    "full_style_guide": FULL_STYLE_GUIDE,
    "metadata": METADATA,
}


# ----------------------------------------------------------------- documents <-> parts


def _get(document: Any, path: tuple[str, ...]) -> Any:
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _set(document: dict, path: tuple[str, ...], value: Any) -> None:
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _remove(document: dict, path: tuple[str, ...]) -> None:
    """Remove the key at ``path`` and the objects it leaves empty."""
    parents = [document]
    for key in path[:-1]:
        parents.append(parents[-1][key])
    del parents[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth] == {}:
            del parents[depth - 1][path[depth - 1]]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _clean_string(value: Any, *, multiline: bool = False) -> bool:
    """A string the form gives back unchanged: not empty, no surrounding spaces (one line unless ``multiline``)."""
    return (
        isinstance(value, str)
        and value != ""
        and value == value.strip()
        and (multiline or ("\n" not in value and "\r" not in value))
    )


def _clean_strings(value: Any, *, separator: str = "") -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(_clean_string(v) and (not separator or separator not in v) for v in value)
    )


def fits(part: Part, value: Any) -> bool:
    """Whether the form shows ``value`` for ``part`` and gives it back unchanged when nothing is edited.

    Anything else (empty values, other shapes, lists in another order than the choices) stays in
    the JSON box, so opening and saving a record never changes it.
    """
    kind = part.kind
    if kind in ("text", "url"):
        return _clean_string(value)
    if kind == "textarea":
        return _clean_string(value, multiline=True) and "\r" not in value
    if kind == "integer":
        return _is_number(value) and float(value).is_integer()
    if kind == "number":
        return _is_number(value)
    if kind == "choice":
        return isinstance(value, str) and value in {c for c, _ in part.choices}
    if kind == "choices":
        order = [c for c, _ in part.choices]
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, str) and v in order for v in value)
            and value == sorted(set(value), key=order.index)
        )
    if kind == "tags":
        return _clean_strings(value, separator=",") and (not part.upper or all(v == v.upper() for v in value))
    if kind == "lines":
        return _clean_strings(value)
    if kind == "rows":
        keys = {c.key for c in part.columns}
        return (
            isinstance(value, list)
            and bool(value)
            and all(
                isinstance(row, dict) and row and set(row) <= keys and all(_clean_string(v) for v in row.values())
                for row in value
            )
        )
    return False


def split(spec: Spec, document: Any) -> tuple[dict[str, Any], Any]:
    """``(values the form shows by part key, the rest of the document)``."""
    if not isinstance(document, dict):
        return {}, document
    rest = copy.deepcopy(document)
    shown: dict[str, Any] = {}
    for part in spec.parts:
        value = _get(document, part.path)
        if value is not None and fits(part, value):
            shown[part.key] = value
            _remove(rest, part.path)
    return shown, rest


def _number(text: str, *, integer: bool) -> int | float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    if integer and not value.is_integer():
        raise ValueError(text)
    return int(value) if value.is_integer() else value


@dataclass
class Submitted:
    """What the browser posted for one document: raw text per part, rows, and the JSON box."""

    values: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    extra: str = ""


def parse(spec: Spec, submitted: Submitted, *, name: str) -> dict:
    """The document the posted inputs describe; ``ValidationError`` names each unreadable input."""
    errors: list[str] = []
    extra_text = submitted.extra.strip()
    document: Any = {}
    if extra_text:
        try:
            document = json.loads(extra_text)
        except ValueError as exc:
            errors.append(f"{name} (other keys, JSON): {exc.msg} (line {exc.lineno}, column {exc.colno}).")
            document = {}
        if not isinstance(document, dict):
            errors.append(f"{name} (other keys, JSON): write a JSON object, e.g. {{}}.")
            document = {}
    for part in spec.parts:
        raw = submitted.values.get(part.key)
        value: Any = None
        if part.kind == "rows":
            rows = [
                {k: v.strip() for k, v in row.items() if v.strip()}
                for row in submitted.rows.get(part.key, [])
                if any(v.strip() for v in row.values())
            ]
            value = rows or None
        elif part.kind == "choices":
            chosen = raw if isinstance(raw, list) else ([raw] if raw else [])
            value = [c for c, _ in part.choices if c in chosen] or None
        elif raw is None or not str(raw).strip():
            value = None
        elif part.kind in ("number", "integer"):
            try:
                value = _number(str(raw).strip(), integer=part.kind == "integer")
            except ValueError:
                whole = "a whole number" if part.kind == "integer" else "a number"
                errors.append(f"{name}.{part.key}: enter {whole} (“{raw}”).")
        elif part.kind == "tags":
            value = [t.strip().upper() if part.upper else t.strip() for t in str(raw).split(",") if t.strip()] or None
        elif part.kind == "lines":
            value = [line.strip() for line in str(raw).splitlines() if line.strip()] or None
        elif part.kind == "textarea":
            value = str(raw).replace("\r\n", "\n").strip()
        else:
            value = str(raw).strip()
        if value is not None:
            _set(document, part.path, value)
    if errors:
        raise ValidationError(errors)
    return document


# ------------------------------------------------------------------ widget and field


class DocumentWidget(forms.Widget):
    template_name = "profiles/widgets/document.html"

    class Media:
        css = {"all": ["profiles/admin.css"]}
        js = ["profiles/documents.js"]

    def __init__(self, spec: Spec, attrs=None):
        super().__init__(attrs)
        self.spec = spec

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)
        copied.spec = self.spec
        return copied

    def value_from_datadict(self, data, files, name):
        prefix = f"{name}."
        submitted = Submitted(extra=data.get(f"{name}{EXTRA}", "") or "")
        for part in self.spec.parts:
            key = prefix + part.key
            if part.kind == "choices":
                submitted.values[part.key] = data.getlist(key) if hasattr(data, "getlist") else data.get(key, [])
            elif part.kind == "rows":
                indexes = sorted(
                    {
                        int(k[len(key) + 1 :].split(".")[0])
                        for k in data
                        if re.fullmatch(rf"{re.escape(key)}\.\d+\.\w+", k)
                    }
                )
                submitted.rows[part.key] = [
                    {c.key: str(data.get(f"{key}.{i}.{c.key}", "") or "") for c in part.columns} for i in indexes
                ]
            elif key in data:
                submitted.values[part.key] = data.get(key)
        return submitted

    def value_omitted_from_data(self, data, files, name):
        return False  # an unticked box or an emptied list is a real answer

    def id_for_label(self, id_):
        return None  # each input has its own label; the row's title labels nothing

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = (attrs or {}).get("id") or f"id_{name}"
        if isinstance(value, Submitted):
            shown = {**value.values, **value.rows}
            extra = value.extra
        else:
            shown, rest = split(self.spec, value)
            extra = "" if rest in (None, {}) else json.dumps(rest, ensure_ascii=False, indent=2)
        groups = []
        for group in self.spec.groups:
            parts = []
            for part in group.parts:
                parts.append(self._part_context(part, shown.get(part.key), name=name, base_id=base_id))
            groups.append({"legend": group.legend, "parts": parts})
        context["document"] = {
            "groups": groups,
            "extra": extra,
            "extra_name": f"{name}{EXTRA}",
            "extra_id": f"{base_id}{EXTRA}",
            "open": bool(extra.strip()),
        }
        return context

    def _part_context(self, part: Part, value: Any, *, name: str, base_id: str) -> dict:
        slug = part.key.replace(".", "_")
        found = {
            "part": part,
            "name": f"{name}.{part.key}",
            "id": f"{base_id}_{slug}",
            "help_id": f"{base_id}_{slug}_help",
        }
        if part.kind == "rows":
            rows = value if isinstance(value, list) else []
            rows = [r for r in rows if isinstance(r, dict)] + [{}]  # one empty row to add to
            found["rows"] = [
                {
                    "index": i,
                    "cells": [
                        {
                            "column": column,
                            "name": f"{name}.{part.key}.{i}.{column.key}",
                            "id": f"{base_id}_{slug}_{i}_{column.key}",
                            "value": str(row.get(column.key, "") or ""),
                            "swatch": str(row.get(column.key, "")) if HEX.match(str(row.get(column.key, ""))) else "",
                        }
                        for column in part.columns
                    ],
                }
                for i, row in enumerate(rows)
            ]
        elif part.kind == "choices":
            chosen = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            found["options"] = [
                {"value": c, "label": label, "checked": c in chosen, "id": f"{base_id}_{slug}_{c}"}
                for c, label in part.choices
            ]
        elif part.kind == "tags":
            found["value"] = ", ".join(value) if isinstance(value, list) else (value or "")
        elif part.kind == "lines":
            found["value"] = "\n".join(value) if isinstance(value, list) else (value or "")
        elif part.kind in ("number", "integer"):
            if value is None or isinstance(value, str):  # nothing, or what was typed
                found["value"] = value or ""
            elif part.kind == "integer" or (isinstance(value, float) and value.is_integer()):
                found["value"] = str(int(value))
            else:
                found["value"] = str(value)
        else:
            found["value"] = "" if value is None else str(value)
        return found


class DocumentField(forms.Field):
    """One JSON document (``name``: a key of ``SPECS``) entered through the fields of its spec
    and a box for other keys. ``nullable``: an empty document is ``None`` (a brand's full style
    guide is optional)."""

    def __init__(self, *, name: str, nullable: bool = False, **kwargs):
        self.document = name
        self.spec = SPECS[name]
        self.nullable = nullable
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", DocumentWidget(self.spec))
        super().__init__(**kwargs)

    def to_python(self, value):
        document = parse(self.spec, value, name=self.document) if isinstance(value, Submitted) else value
        if document is None:
            document = {}
        if self.nullable and document == {}:
            return None
        return document

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        try:
            return self.to_python(data) != self.to_python(initial)
        except ValidationError:
            return True

    def prepare_value(self, value):
        return value
