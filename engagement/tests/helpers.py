"""Helpers for the engagement tests."""

from __future__ import annotations

import random

from django.test import RequestFactory

from engagement import services
from engagement.bigfive.inventory import ITEMS
from focusedroom.context import RequestContext


def answers(value: int = 3) -> dict[str, int]:
    return {item.id: value for item in ITEMS}


def random_answers(seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    return {item.id: rng.randint(1, 5) for item in ITEMS}


def fake_request(path: str = "/big-five/", *, ip: str = "203.0.113.7", ua: str = "Mozilla/5.0 (X11; Linux x86_64)"):
    request = RequestFactory().post(path, REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)
    request.visitor_id = "visitor1234"
    request.visitor_id_used = False
    return request


def page_context(request=None, *, source: str = "page") -> RequestContext:
    """The context a page builds for this request (the fake Big Five page request by default)."""
    return RequestContext.from_request(request or fake_request(), source=source, issue_visitor_id=True)


def submit(*, request=None, context: RequestContext | None = None, **fields):
    """Submit through the service (the path page and API share)."""
    fields.setdefault("answers", random_answers())
    data = services.bigfive_clean(**fields)
    if context is None:
        context = RequestContext.from_request(request, issue_visitor_id=True) if request else RequestContext.system()
    return services.bigfive_submit(data=data, context=context)


def submit_now(**kwargs):
    """``submit`` and what follows it in the worker (``engagement.result_recorded``, run at commit in
    tests): for tests that read the effects of a submission."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return submit(**kwargs)


def form_post_data(values: dict[str, int] | None = None, **extra) -> dict:
    data = {item.id: str(v) for item, v in zip(ITEMS, (values or answers()).values(), strict=True)}
    data.update({k: str(v) for k, v in extra.items()})
    return data
