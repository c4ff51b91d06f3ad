"""The OpenAPI document: one tag per app, the pagination of each list, the real error answers,
strict request bodies and the links between operations.

* ``AutoSchema`` (``DEFAULT_SCHEMA_CLASS``) tags each operation with its app (``TAGS`` in
  the settings describe them), states how each list is paginated, and documents the error
  statuses the operation can really answer, each with its own example.
* ``StrictSerializerExtension`` documents the input serializers' strictness: request bodies
  allow no other property (``additionalProperties: false``), and declared aliases appear as
  properties of their own.
* ``add_links`` (a post-processing hook) links each create operation to the operations on
  the record it created (``$response.body#/id``), so clients — and stateful API testing —
  follow them.
"""

from __future__ import annotations

import re

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions, serializers
from rest_framework.pagination import CursorPagination, LimitOffsetPagination, PageNumberPagination

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {
                    "type": "string",
                    "description": "What went wrong, for programs (`invalid`, `not_found`, `throttled`, …).",
                },
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Field name (or nested path, or `non_field_errors`) -> list of messages.",
                },
            },
            "additionalProperties": True,
        }
    },
}


def _example(status: int, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"status": status, "code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


ERROR_EXAMPLES = {
    "400": (
        "Invalid input; `fields` says which field and why. Unknown fields are refused too.",
        {
            "invalid": _example(
                400,
                "invalid",
                "Some fields are invalid.",
                {"name": ["This field may not be blank."], "nmae": ["Unknown field. Did you mean name?"]},
            ),
            "parse_error": _example(400, "parse_error", "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
        },
    ),
    "400-query": (
        "Invalid query parameter; `fields` names it.",
        {
            "invalid": _example(
                400, "invalid", "Some fields are invalid.", {"created_before": ["Enter a valid date/time."]}
            ),
        },
    ),
    "401": (
        "No valid credentials (a missing, wrong or revoked token).",
        {
            "not_authenticated": _example(401, "not_authenticated", "Authentication credentials were not provided."),
            "authentication_failed": _example(401, "authentication_failed", "Invalid or revoked token."),
        },
    ),
    "403": (
        "Authenticated, but not allowed (a missing permission, or a browser session without CSRF token).",
        {"permission_denied": _example(403, "permission_denied", "You do not have permission to perform this action.")},
    ),
    "404": (
        "No such record (or not one of yours).",
        {"not_found": _example(404, "not_found", "Not found.")},
    ),
    "409": (
        "Conflict with the record's current state (a stale version, a record still in use, a lifecycle rule).",
        {
            "conflict": _example(
                409,
                "conflict",
                "This record has changed since version 2; reload it.",
                current_version=3,
            ),
            "protected": _example(
                409, "protected", "This record is still referenced by other records and cannot be deleted."
            ),
        },
    ),
    "413": (
        "The body is larger than the server accepts.",
        {"too_large": _example(413, "too_large", "The body is larger than 2,621,440 bytes.")},
    ),
    "422": (
        "The Idempotency-Key was already used for a different request.",
        {
            "idempotency_key_reused": _example(
                422, "idempotency_key_reused", "This Idempotency-Key was already used for a different request."
            )
        },
    ),
    "429": (
        "Too many requests; retry after the `Retry-After` header's seconds.",
        {"throttled": _example(429, "throttled", "Request was throttled. Expected available in 12 seconds.")},
    ),
}

BODY_METHODS = {"POST", "PUT", "PATCH"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _error_response(key: str) -> dict:
    description, examples = ERROR_EXAMPLES[key]
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {name: {"value": value} for name, value in examples.items()},
            }
        },
    }


PAGINATION_NOTES = {
    CursorPagination: (
        "**Pagination: cursor.** Follow `next` and `previous` (opaque `cursor` values); `page_size` up to 200 "
        "(default 50). Newest first; a deep page costs the same as the first. No total count."
    ),
    PageNumberPagination: (
        "**Pagination: page number.** `page` (from 1) and `page_size` up to 200 (default 50); `count` is the total."
    ),
    LimitOffsetPagination: "**Pagination: limit/offset.** `limit` and `offset`; `count` is the total.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_tags(self) -> list[str]:
        explicit = super().get_tags()
        app = self.view.__class__.__module__.split(".")[0]
        return [app] if app != "focusedroom" else explicit

    def get_request_serializer(self):
        """Views that read input with a serializer of its own (``input_serializer_class``) document it."""
        input_class = getattr(self.view, "input_serializer_class", None)
        if input_class is not None and getattr(self.view, "action", None) in ("create", "update", "partial_update"):
            return input_class()
        return super().get_request_serializer()

    def get_description(self) -> str:
        description = super().get_description() or ""
        if self.method == "GET" and self._is_list_view():
            note = self._pagination_note()
            description = f"{description}\n\n{note}" if description else note
        return description

    def _pagination_note(self) -> str:
        paginator = self._get_paginator()
        if paginator is None:
            return "**Not paginated:** the whole list in one answer."
        for cls, note in PAGINATION_NOTES.items():
            if isinstance(paginator, cls):
                return note
        return "**Paginated.**"

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Answers say what the column holds: a nullable column's field is nullable and a blank choice
        is one of the enum's values, also for read-only fields (which drop ``allow_null``/``allow_blank``)."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions=bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if direction == "request":
            return _request_field(field, schema)
        model_field, nullable_path = _model_field(field)
        if nullable_path or (model_field is not None and model_field.null):
            if "$ref" in schema:
                schema = {"allOf": [schema], "nullable": True, **({"readOnly": True} if field.read_only else {})}
            else:
                schema["nullable"] = True
        blank = model_field is not None and getattr(model_field, "blank", False)
        if blank and isinstance(schema.get("enum"), list) and "" not in schema["enum"]:
            schema["enum"] = [*schema["enum"], ""]
        return schema

    def _allows_anyone(self) -> bool:
        return all(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        method = self.method.upper()
        has_path_parameters = "{" in self.path
        wanted = ["400" if method in BODY_METHODS else "400-query", "401"]
        if not self._allows_anyone() or method in UNSAFE_METHODS:
            wanted.append("403")
        if has_path_parameters:
            wanted.append("404")
        if method in UNSAFE_METHODS and (has_path_parameters or method == "POST"):
            wanted.append("409")
        if method in BODY_METHODS:
            wanted.append("413")
        if any(p.lower() == "idempotency-key" for p in self._idempotency_headers()):
            wanted.append("422")
        wanted.append("429")
        for key in wanted:
            responses.setdefault(key.split("-")[0], _error_response(key))
        return responses

    def _idempotency_headers(self) -> list[str]:
        return [
            getattr(parameter, "name", "")
            for parameter in (self.get_override_parameters() or [])
            if getattr(parameter, "location", "") == "header"
        ]


DECIMAL_TEXT = r"^-?\d{1,20}(\.\d{1,10})?$"


def _request_field(field, schema: dict) -> dict:
    """What a request field really takes: a decimal without declared digits is still a decimal
    number (as text), and a model's JSON document is the object or list its column defaults to."""
    if isinstance(field, serializers.DecimalField) and field.max_digits is None and "pattern" not in schema:
        schema["pattern"] = DECIMAL_TEXT
    elif isinstance(field, serializers.JSONField) and "type" not in schema:
        model_field, _ = _model_field(field)
        default = getattr(model_field, "default", None)
        kind = {dict: "object", list: "array"}.get(default)
        if kind is not None:
            schema["type"] = kind
            if field.allow_null:
                schema["nullable"] = True
    return schema


def _model_field(field):
    """``(model field, nullable on the way)`` for the column a serializer field shows: its ``source``
    followed from the serializer's model (``customer.email`` is null when ``customer`` is)."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or source == "*":
        return None, False
    names = source.split(".")
    nullable_path = False
    model_field = None
    for index, name in enumerate(names):
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None, nullable_path
        if index < len(names) - 1:
            nullable_path = nullable_path or bool(getattr(model_field, "null", False))
            model = getattr(model_field, "related_model", None)
            if model is None:
                return None, nullable_path
    return model_field, nullable_path


class StrictSerializerExtension(OpenApiSerializerExtension):
    """Request bodies of strict serializers: no other property, aliases documented."""

    target_class = "focusedroom.api.serializers.StrictInputMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction != "request":
            return schema
        schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        aliases = getattr(self.target, "aliases", {})
        pairs = [f"`{alias}` for `{name}`" for alias, name in aliases.items() if name in properties]
        if pairs:
            note = "Also accepted, as seed 003 names them (send one name of each pair): " + ", ".join(pairs) + "."
            schema["description"] = f"{schema['description']}\n\n{note}" if schema.get("description") else note
        return schema


def add_error_schema(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    return result


_PARAMETER = re.compile(r"\{([^}]+)\}")


def add_links(result, generator, request, public):
    """Link each ``POST <collection>/`` (201) to every operation on ``<collection>/{param}/…``."""
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        create = item.get("post")
        created = (create or {}).get("responses", {}).get("201")
        if not created or "{" in path:
            continue
        body_schema = created.get("content", {}).get("application/json", {}).get("schema", {})
        properties = _properties(body_schema, schemas)
        links = {}
        for other_path, other_item in paths.items():
            if not other_path.startswith(path) or other_path == path:
                continue
            parameters = _PARAMETER.findall(other_path[len(path) :])
            if len(parameters) != 1 or not other_path[len(path) :].startswith("{"):
                continue
            parameter = parameters[0]
            field = parameter if parameter in properties else ("id" if "id" in properties else None)
            if field is None:
                continue
            for method, operation in other_item.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {parameter: f"$response.body#/{field}"},
                    "description": f"The record just created, through {method.upper()} {other_path}.",
                }
        if links:
            created["links"] = links
    return result


def _properties(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return schema.get("properties", {})


def openapi_30(schema):
    """A JSON Schema (2020-12) as OpenAPI 3.0 writes it: numeric ``exclusiveMinimum``/``Maximum``
    become ``minimum``/``maximum`` with the boolean flag, ``const`` a one-value ``enum``."""
    if isinstance(schema, list):
        return [openapi_30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {}
    for key, value in schema.items():
        if key in ("$schema", "$id"):
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            converted["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            converted[key] = True
        elif key == "const":
            converted["enum"] = [value]
        elif key in ("properties", "patternProperties", "$defs", "definitions"):
            converted[key] = {name: openapi_30(item) for name, item in value.items()}
        else:
            converted[key] = openapi_30(value)
    return converted


class DocumentFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "focusedroom.api.serializers.DocumentField"

    def map_serializer_field(self, auto_schema, direction):
        schema = openapi_30(self.target.document_schema)
        if self.target.allow_null:
            schema["nullable"] = True
        return schema
