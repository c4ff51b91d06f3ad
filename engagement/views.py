"""Pages: the Big Five test, its report, the member's reports and compare links, and the demo blog post."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import is_member
from engagement import selectors, services
from engagement.bigfive.report import BANDS
from engagement.blog import POSTS
from engagement.forms import TRACKING_FIELDS, BigFiveForm, BlogEngagementForm
from engagement.models import CompareLink
from focusedroom.charts import trend_svg
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message

RESULT_SUBMITTED_FRAGMENT = "submitted"


def _member(request):
    user = request.user
    return user if user.is_authenticated and is_member(user) else None


EMAILED_SESSION_KEY = "engagement.bigfive.emailed"  # reports just submitted with an email, not logged in
EMAILED_KEEP = 5


def _remember_emailed(request: HttpRequest, public_id: str) -> None:
    """The report page says "check your inbox" to the browser that just submitted with an email."""
    ids = [i for i in request.session.get(EMAILED_SESSION_KEY, []) if i != public_id]
    request.session[EMAILED_SESSION_KEY] = [public_id, *ids][:EMAILED_KEEP]


def _compare_target(value: str) -> CompareLink | None:
    """The compare link a test was started from (``?compare=<public id>/<signature>``), if still valid."""
    public_id, _, signature = (value or "").partition("/")
    if not public_id or not signature:
        return None
    try:
        return services.compare_link_for_invite(public_id=public_id, signature=signature)
    except ApplicationError:
        return None


@require_http_methods(["GET", "POST"])
def bigfive(request: HttpRequest) -> HttpResponse:
    """The test: one long server-rendered form; ``static/engagement/bigfive.js`` pages it.

    A logged-in member's test is saved to their account: the form is pre-filled from their
    profile and asks no email. Started from a compare link (``?compare=``), the test leads back
    to it."""
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
                if data.email and member is None:
                    _remember_emailed(request, result.public_id)
                link = _compare_target(form.cleaned_data.get("compare", ""))
                if link is not None and member is not None:
                    return redirect(services.compare_link_invite_path(link))
                url = reverse("bigfive-result", args=[result.public_id])
                return redirect(f"{url}#{RESULT_SUBMITTED_FRAGMENT}")
        status = 400
    else:
        initial = {k: request.GET.get(k, "")[:100] for k in TRACKING_FIELDS if k != "referrer"}
        initial["referrer"] = request.META.get("HTTP_REFERER", "")[:2000]
        initial["compare"] = request.GET.get("compare", "")[:100]
        if member is not None:
            initial.update(selectors.bigfive_prefill(user=member))
        form = BigFiveForm(initial=initial, member=member)
        status = 200
    context = {"form": form, "member": member, "duration": selectors.bigfive_duration()}
    return render(request, "engagement/bigfive.html", context, status=status)


@require_GET
def bigfive_result(request: HttpRequest, public_id: str) -> HttpResponse:
    """A report. Its owner (logged in) sees its number, the change since their previous report (and whether
    it exceeds measurement error) and can invite someone to compare; anyone else with the link sees the
    scores only, and an invitation to become a member."""
    result = selectors.quiz_result_get(public_id=public_id)
    if result is None:
        raise Http404("No such report.")
    is_owner = selectors.quiz_result_is_owner(result=result, user=request.user)
    previous = selectors.quiz_result_previous(result=result) if is_owner else None
    context = {
        "result": result,
        "is_owner": is_owner,
        "invite_to_join": not request.user.is_authenticated,
        "emailed": result.public_id in request.session.get(EMAILED_SESSION_KEY, []),
        "report": selectors.bigfive_report(result=result, previous=previous),
        "share_url": request.build_absolute_uri(reverse("bigfive-result", args=[result.public_id])),
    }
    response = render(request, "engagement/bigfive_result.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


def member_required(view):
    """Logged-in members only (staff get a 404: they take no tests of their own here)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_member(request.user):
            raise Http404("Staff accounts have no reports.")
        return view(request, *args, **kwargs)

    return wrapper


@member_required
@require_GET
def my_reports(request: HttpRequest) -> HttpResponse:
    """Every report of the member with a trend chart per domain, and their compare links."""
    data = selectors.bigfive_reports_of_member(user=request.user)
    charts = [
        {
            "code": series["code"],
            "name": series["name"],
            "svg": trend_svg(
                points=[(f"Report {p['report_id']}", p["percentile"], p["reliable"]) for p in series["points"]],
                title=f"{series['name']}: percentile by report",
                bands=(BANDS["low_end"], BANDS["high_start"]),
            ),
        }
        for series in data["trend"]
    ]
    links = [
        {"link": link, "is_owner": link.owner_id == request.user.pk}
        for link in selectors.compare_links_of_person(user=request.user)
    ]
    return render(request, "engagement/my_reports.html", {**data, "charts": charts, "links": links})


# ------------------------------------------------------------------------ compare links


@member_required
@require_POST
def compare_create(request: HttpRequest, public_id: str) -> HttpResponse:
    result = selectors.quiz_result_get(public_id=public_id)
    if result is None or not selectors.quiz_result_is_owner(result=result, user=request.user):
        raise Http404("No such report.")
    try:
        link = services.compare_link_create(
            owner=request.user, result=result, context=RequestContext.from_request(request)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("bigfive-result", public_id=result.public_id)
    return redirect("bigfive-compare", public_id=link.public_id)


@require_http_methods(["GET", "POST"])
def compare_invite(request: HttpRequest, public_id: str, signature: str) -> HttpResponse:
    """The invitation: explains what is shared; a member with a report joins with a button (POST)."""
    try:
        link = services.compare_link_for_invite(public_id=public_id, signature=signature)
    except ApplicationError as exc:
        return render(request, "engagement/compare_invalid.html", {"message": exc.message}, status=404)
    user = request.user
    if user.is_authenticated and user.pk in (link.owner_id, link.guest_id):
        return redirect("bigfive-compare", public_id=link.public_id)
    if link.guest_id is not None:
        message = "This comparison is private to the two people in it."
        return render(request, "engagement/compare_invalid.html", {"message": message}, status=404)
    member = _member(request)
    latest = selectors.quiz_result_latest_of_person(user=member) if member is not None else None
    if request.method == "POST":
        if member is None:
            return redirect(f"{reverse('login')}?next={request.path}")
        try:
            services.compare_link_join(link=link, guest=member, context=RequestContext.from_request(request))
        except ValidationError as exc:
            messages.error(request, error_message(exc))
        except ApplicationError as exc:
            return render(request, "engagement/compare_invalid.html", {"message": exc.message}, status=404)
        else:
            return redirect("bigfive-compare", public_id=link.public_id)
    context = {
        "link": link,
        "owner_name": selectors.person_first_name(link.owner) or "A FocusedRoom member",
        "member": member,
        "latest": latest,
        "test_url": f"{reverse('bigfive')}?compare={link.public_id}/{signature}",
        "duration": selectors.bigfive_duration(),
    }
    return render(request, "engagement/compare_invite.html", context)


@login_required
@require_GET
def compare_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The comparison, for its two people only (a 404 for anyone else); the owner also finds the invitation
    link here while nobody has joined."""
    link = selectors.compare_link_of_viewer(public_id=public_id, user=request.user)
    if link is None:
        raise Http404("No such comparison.")
    context = {**selectors.compare_link_view(link=link, viewer=request.user), "bands": BANDS}
    if context["viewer_is_owner"] and link.is_open:
        context["invite_url"] = request.build_absolute_uri(services.compare_link_invite_path(link))
    response = render(request, "engagement/compare.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def compare_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    link = selectors.compare_link_of_viewer(public_id=public_id, user=request.user)
    if link is None:
        raise Http404("No such comparison.")
    services.compare_link_revoke(link=link, user=request.user, context=RequestContext.from_request(request))
    messages.success(request, "The comparison is revoked: nobody sees it any more.")
    return redirect("my-reports")


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
