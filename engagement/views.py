"""Pages: the Big Five test and its report, and the demo blog post with the engagement widget."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import is_member
from engagement import selectors, services
from engagement.blog import POSTS
from engagement.forms import TRACKING_FIELDS, BigFiveForm, BlogEngagementForm
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors

RESULT_SUBMITTED_FRAGMENT = "submitted"


def _member(request):
    user = request.user
    return user if user.is_authenticated and is_member(user) else None


@require_http_methods(["GET", "POST"])
def bigfive(request: HttpRequest) -> HttpResponse:
    """The test: one long server-rendered form; ``static/engagement/bigfive.js`` pages it.

    A logged-in member's test is saved to their account: the form is pre-filled from their
    profile and asks no email."""
    member = _member(request)
    if request.method == "POST":
        form = BigFiveForm(request.POST, member=member)
        if form.is_valid():
            try:
                data = services.bigfive_clean(**form.service_kwargs())
                result = services.bigfive_submit(
                    data=data, context=RequestContext.from_request(request, issue_visitor_id=True)
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                url = reverse("bigfive-result", args=[result.public_id])
                return redirect(f"{url}#{RESULT_SUBMITTED_FRAGMENT}")
        status = 400
    else:
        initial = {k: request.GET.get(k, "")[:100] for k in TRACKING_FIELDS if k != "referrer"}
        initial["referrer"] = request.META.get("HTTP_REFERER", "")[:2000]
        if member is not None:
            initial.update(selectors.bigfive_prefill(user=member))
        form = BigFiveForm(initial=initial, member=member)
        status = 200
    return render(request, "engagement/bigfive.html", {"form": form, "member": member}, status=status)


@require_GET
def bigfive_result(request: HttpRequest, public_id: str) -> HttpResponse:
    """A report. Its owner (logged in) sees its number and the change since their previous report;
    anyone else with the link sees the scores only."""
    result = selectors.quiz_result_get(public_id=public_id)
    if result is None:
        raise Http404("No such report.")
    is_owner = selectors.quiz_result_is_owner(result=result, user=request.user)
    previous = selectors.quiz_result_previous(result=result) if is_owner else None
    context = {
        "result": result,
        "is_owner": is_owner,
        "report": selectors.bigfive_report(result=result, previous=previous),
        "share_url": request.build_absolute_uri(reverse("bigfive-result", args=[result.public_id])),
    }
    response = render(request, "engagement/bigfive_result.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def bigfive_pending(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed offer to add a report to one's history: GET shows a button (mail scanners follow
    links but do not press buttons), POST adds it."""
    try:
        if request.method == "POST":
            result = services.pending_result_confirm(raw_token=token, context=RequestContext.from_request(request))
            return render(request, "engagement/bigfive_pending_done.html", {"result": result})
        pending = services.pending_result_get(raw_token=token)
    except ApplicationError as exc:
        context = {
            "message": exc.message,
            "reason": exc.extra.get("reason", ""),
            "public_id": exc.extra.get("public_id"),
        }
        return render(request, "engagement/bigfive_pending_invalid.html", context, status=exc.status_code)
    return render(request, "engagement/bigfive_pending.html", {"pending": pending, "result": pending.result})


@require_GET
def blog_index(request: HttpRequest) -> HttpResponse:
    return render(request, "engagement/blog_index.html", {"posts": list(POSTS.values())})


@ensure_csrf_cookie
@require_GET
def blog_post(request: HttpRequest, slug: str) -> HttpResponse:
    post = POSTS.get(slug)
    if post is None:
        raise Http404("No such post.")
    summary = selectors.blog_engagement_summary(
        post_slug=post.slug, user_identifier=services.blog_visitor_identifier(RequestContext.from_request(request))
    )
    return render(
        request,
        "engagement/blog_post.html",
        {"post": post, "summary": summary, "form": BlogEngagementForm()},
    )


@require_POST
def blog_engage(request: HttpRequest, slug: str) -> HttpResponse:
    """The widget without JavaScript: a plain form post, then back to the post."""
    post = POSTS.get(slug)
    if post is None:
        raise Http404("No such post.")
    form = BlogEngagementForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        if data["engagement_type"] != "helpful_no":
            data["feedback_text"] = ""  # the shared textarea only goes with "No"
        try:
            _, created = services.blog_engagement_record(
                post_slug=post.slug, context=RequestContext.from_request(request), **data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Thanks for your feedback!" if created else "You already told us — thanks!")
            return redirect("blog-post", slug=post.slug)
    summary = selectors.blog_engagement_summary(
        post_slug=post.slug, user_identifier=services.blog_visitor_identifier(RequestContext.from_request(request))
    )
    return render(request, "engagement/blog_post.html", {"post": post, "summary": summary, "form": form}, status=400)
