"""The API's content negotiation and JSON parser: DRF's, with the common case answered directly.

Almost every API client sends no ``Accept`` header (or ``*/*``, or ``application/json``) and a JSON
body. DRF parses the ``Accept`` header into media types and ranks them against every renderer, and
reads a body through a text decoder stream, on every request — a measurable part of a small
request such as an exposure. The answers here are DRF's own for those cases; anything else (a
browser asking for HTML, ``?format=``, a media type with parameters) goes through DRF unchanged.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.settings import api_settings
from rest_framework.utils import json

# Accept headers (none at all counts as */*) whose answer is the JSON renderer with "application/json",
# as DRF chooses it. An empty header is not one of them: DRF refuses it (406).
_JSON_ACCEPTED = frozenset({"*/*", "application/json"})


class ContentNegotiation(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        if parsers and parsers[0].media_type == request.content_type:
            return parsers[0]  # DRF's answer: the first parser matches, no need to parse either type
        return super().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            renderers
            and renderers[0].media_type == "application/json"
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*").strip() in _JSON_ACCEPTED
            and api_settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser reading the body at once (``json.loads``) rather than through a decoder stream."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return json.loads(
                stream.read().decode(encoding), parse_constant=json.strict_constant if self.strict else None
            )
        except ValueError as exc:  # a decoding error is one too
            raise ParseError(f"JSON parse error - {exc}") from None
