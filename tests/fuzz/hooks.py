"""Schemathesis hooks of the API fuzzer (``tests/fuzz/test_api_fuzz.py`` loads them).

FocusedRoom answers every 4xx as ``{"error": {"code", "message", "fields": {<field>: [...]}}}``.
Schemathesis learns from a server's validation messages to generate better data, but it
reads Django REST framework's bare ``{<field>: [...]}`` shape: this parser hands it the
``fields`` part, so "This field is required." teaches it about the field, not about a
field called ``error``.
"""

from __future__ import annotations

from schemathesis.core.error_feedback.parsers import PARSERS
from schemathesis.core.error_feedback.parsers.drf import DRFParser


@PARSERS.register
class FocusedRoomErrorParser:
    priority = 10  # before the bundled parsers

    def __init__(self) -> None:
        self._drf = DRFParser()

    def can_parse(self, *, body: object) -> bool:
        error = body.get("error") if isinstance(body, dict) else None
        return isinstance(error, dict) and isinstance(error.get("fields"), dict)

    def parse(self, *, operation, body, case):
        fields = body["error"]["fields"]
        if not fields:
            return ()
        return self._drf.parse(operation=operation, body=fields, case=case)
