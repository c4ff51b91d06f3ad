"""The Big Five pages: the form (works without JavaScript) and the report."""

import pytest
from django.urls import reverse

from accounts.models import User
from engagement.models import QuizResult
from engagement.tests.helpers import answers, form_post_data, random_answers, submit

pytestmark = pytest.mark.django_db


def test_form_page_renders_all_items_headline_and_csrf(client):
    response = client.get("/big-five/?utm_source=ads&utm_campaign=spring", HTTP_REFERER="https://ref.test/x")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Discover your personality with the free Big Five test" in html  # the headline include
    assert html.count('data-item="') == 120
    assert html.count('type="radio"') == 120 * 5 + 3  # + the sex choice
    assert "csrfmiddlewaretoken" in html
    assert 'name="utm_source" value="ads"' in html and 'value="https://ref.test/x"' in html
    assert "engagement/bigfive.js" in html
    assert 'name="opt_in"' in html and "checked" not in html.split('name="opt_in"')[1].split(">")[0]


def test_valid_post_redirects_to_the_report(client):
    data = form_post_data(
        random_answers(3),
        email="Page@Example.com",
        name="Page Person",
        age=33,
        career_stage="mid_career",
        purpose="Reduce stress at work",
        sex="M",
        utm_source="ads",
    )
    response = client.post("/big-five/", data)
    result = QuizResult.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/big-five/results/{result.public_id}/#submitted"
    assert result.customer.email == "page@example.com" and result.report_id == 1 and result.utm_source == "ads"
    assert result.quiz_metadata["source"] == "page"
    assert response.cookies.get("fr_aid")  # the visitor id was used and set


def test_invalid_post_is_400_with_errors_next_to_fields_and_nothing_stored(client):
    data = form_post_data(answers(3), email="not-an-email", age="9")
    del data["N1-1"]
    data["E1-1"] = "7"
    response = client.post("/big-five/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please answer this statement." in html and "Choose 1 to 5." in html
    assert "Age must be between 13 and 120." in html and "Enter a valid email address." in html
    assert "2 of 120 statements are still unanswered; they are marked below." in html
    assert '<a href="#item-N1-1">Go to the first one</a>' in html  # without JavaScript too
    assert 'action="/big-five/#form-errors"' in html  # the answer page opens at the message
    assert 'value="3"' in html and "checked" in html  # given answers are kept
    assert not QuizResult.objects.exists() and not User.objects.exists()


def test_report_page_shows_chart_facets_suggestions_share_link_and_print_css(client):
    result = submit(email="report@example.com", name="Rita Report", purpose="Build better habits")
    response = client.get(reverse("bigfive-result", args=[result.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rita's Big Five personality report" in html
    assert "<svg" in html and html.count('class="bf-fill') == 2 * 5 + 30  # the chart (wide, narrow), a bar per facet
    assert html.count('<th scope="row">') == 5 and html.count('class="bf-facet"') == 30
    assert "Suggestions" in html and "For your habits goal" in html
    assert f"/big-five/results/{result.public_id}/" in html and "data-copy" in html
    assert 'media="print"' in html and "report-print.css" in html
    assert "Since report" not in html  # first report: nothing to compare
    assert response["X-Robots-Tag"] == "noindex"


def test_report_shows_change_since_previous_report_to_its_owner_only(client):
    submit(email="twice@example.com", answers=answers(2))
    second = submit(email="twice@example.com", answers=answers(4))
    url = reverse("bigfive-result", args=[second.public_id])
    public = client.get(url).content.decode()  # anyone with the link: the scores only
    assert "Since report" not in public and "Report 2" not in public and 'class="bf-prev"' not in public
    client.force_login(second.customer)
    html = client.get(url).content.decode()
    assert "Report 2 ·" in html
    assert "Since report 1" in html and "The thin mark shows report 1" in html
    assert html.count('class="bf-prev"') == 2 * 5  # in the wide and the narrow chart


def test_unknown_report_is_404(client):
    assert client.get("/big-five/results/nope/").status_code == 404


def test_print_stylesheet_covers_the_whole_report():
    from django.contrib.staticfiles import finders

    with open(finders.find("engagement/report-print.css")) as handle:
        css = handle.read()
    for needle in ("@page", "print-color-adjust", ".bf-facets", ".print-only", "break-inside"):
        assert needle in css
