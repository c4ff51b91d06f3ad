"""The API's negotiation and JSON parser answer exactly as DRF's do, only faster for the usual case."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import parsers, renderers
from rest_framework.exceptions import NotAcceptable, ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from focusedroom.api.negotiation import ContentNegotiation, JSONParser

factory = APIRequestFactory()
RENDERER_LISTS = [
    [renderers.JSONRenderer(), renderers.BrowsableAPIRenderer()],
    [renderers.BrowsableAPIRenderer(), renderers.JSONRenderer()],
    [renderers.StaticHTMLRenderer()],
]
ACCEPTS = [
    None,
    "",
    "*/*",
    " */* ",
    "application/json",
    "application/json; indent=4",
    "application/json,",
    "text/html",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/xml",
    "APPLICATION/JSON",
]


def _choice(negotiation, accept, query, renderer_list):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(factory.get("/api/v1/x/" + query, **extra))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderer_list)
    except NotAcceptable:
        return "406"
    except Exception as exc:  # the same failure on both sides is what is compared
        return type(exc).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderer_list", RENDERER_LISTS, ids=["json-first", "html-first", "html-only"])
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api", "?format=csv", "?page=2"])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_renderer_chosen_is_drfs(accept, query, renderer_list):
    assert _choice(ContentNegotiation(), accept, query, renderer_list) == _choice(
        DefaultContentNegotiation(), accept, query, renderer_list
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="*/,;=. abcdejlnopqstx+0123456789", max_size=40))
def test_any_accept_header_gets_drfs_answer(accept):
    renderer_list = RENDERER_LISTS[0]
    assert _choice(ContentNegotiation(), accept, "", renderer_list) == _choice(
        DefaultContentNegotiation(), accept, "", renderer_list
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "multipart/form-data"],
)
@pytest.mark.parametrize(
    "parser_list",
    [[JSONParser()], [parsers.FormParser(), JSONParser()], [JSONParser(), parsers.FormParser()]],
    ids=["json", "form-first", "json-first"],
)
def test_the_parser_chosen_is_drfs(content_type, parser_list):
    request = Request(factory.post("/api/v1/x/", b"{}", content_type=content_type))
    assert ContentNegotiation().select_parser(request, parser_list) is DefaultContentNegotiation().select_parser(
        request, parser_list
    )


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (b'{"a": [1, 2.5, "\\u00e9"], "b": null}', "utf-8"),
        ('{"name": "Zoë"}'.encode(), "utf-8"),
        ('{"name": "Zoë"}'.encode("latin-1"), "latin-1"),
        (b'{"a": NaN}', "utf-8"),
        (b'{"a": Infinity}', "utf-8"),
        (b"{not json", "utf-8"),
        (b'{"a": "\xff"}', "utf-8"),
        (b"", "utf-8"),
        (b'{"a": 1}', "bz2_codec"),
    ],
)
def test_the_body_parsed_is_drfs(body, encoding):
    def parsed(parser):
        try:
            return parser.parse(io.BytesIO(body), "application/json", {"encoding": encoding})
        except ParseError as exc:
            return ParseError, str(exc.detail).split(" - ")[0]

    assert parsed(JSONParser()) == parsed(parsers.JSONParser())


@pytest.mark.django_db
def test_the_api_answers_json_and_refuses_nan_through_the_real_endpoint(client):
    ok = client.get("/api/v1/experiments/active/")
    assert ok.status_code == 200 and ok["Content-Type"] == "application/json"
    bad = client.post("/api/v1/conversions/", b'{"conversion_type": NaN}', content_type="application/json")
    assert bad.status_code == 400, bad.content
    assert "JSON parse error" in bad.content.decode()
    html = client.get("/api/v1/experiments/active/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
