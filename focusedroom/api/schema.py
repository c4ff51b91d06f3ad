"""OpenAPI post-processing: document the shared error shape on every operation."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer", "example": 400},
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string", "example": "Some fields are invalid."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Field name (or nested path) -> list of messages.",
                    "example": {"email": ["Enter a valid email address."]},
                },
            },
            "additionalProperties": True,
        }
    },
}

ERROR_RESPONSES = {
    "400": "Invalid input; `fields` says which field and why.",
    "401": "Authentication is required.",
    "403": "Permission denied.",
    "404": "Not found.",
    "429": "Throttled.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
