"""The operator console's dashboard: content, links, permissions and a fixed query budget."""

from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from engagement.tests.helpers import submit
from experiments import services as experiments
from integrations.models import OutboxMessage
from integrations.services import outbox_enqueue
from profiles import services as profiles_services
from profiles.tests.factories import make_budget


def add_data(n: int, tag: str) -> None:
    CustomerFactory.create_batch(n, channel_id=2)
    experiment = experiments.experiment_create(
        data={"name": f"Dash {tag}", "key": f"dash-{tag}"},
        variants=[{"name": "control", "weight": Decimal("0.5")}, {"name": "b", "weight": Decimal("0.5")}],
    )
    experiments.experiment_start(experiment=experiment)
    for i in range(n):
        experiments.exposure_record(key=f"dash-{tag}", anonymous_id=f"visitor-{tag}-{i:04d}")
    budget = make_budget(
        account_id=f"acct-{tag}",
        name=f"Budget {tag}",
        amount=Decimal("100"),
        alerts=[{"threshold": 50}, {"threshold": 80}],
    )
    profiles_services.budget_record_spend(budget=budget, actor=None, amount_spent=Decimal("85"))
    for _ in range(n):
        outbox_enqueue(user=None, event_name="dashboard_test")
    for i in range(n):
        submit(email=f"dash.{tag}.{i}@example.com", opt_in=bool(i % 2))
        submit()  # anonymous


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.DASHBOARD_CACHE_SECONDS = 0  # every view computes, so the tests see the data they add


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss@example.com", "s3cret-pass!"))
    return client


@pytest.mark.django_db
def test_dashboard_shows_every_section_with_links(admin_client):
    add_data(3, "a")
    page = admin_client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "FocusedRoom operator console" in html
    assert "New customers · last 30 days" in html and "<svg" in html
    assert "/admin/accounts/customer/?channel__id__exact=2" in html
    assert "Dash a" in html and "/results/" in html
    assert "Budget a" in html and "80 % crossed" in html
    pending = OutboxMessage.objects.filter(status="pending").count()
    assert pending >= 3  # the test's rows plus what the submissions announced
    assert f"{pending} pending" in html and "/admin/integrations/outboxmessage/?status__exact=pending" in html
    assert "Big Five tests · last 30 days" in html and "anonymous: 3" in html
    assert "Insight Gems · this week" in html and "/admin/rewards/ledgerentry/?kind__exact=CREDIT" in html
    # The linked changelists accept the filters they are given (an unknown filter redirects with ?e=1).
    links = [
        "/admin/accounts/customer/?channel__id__exact=2",
        "/admin/integrations/outboxmessage/?status__exact=pending",
        "/admin/engagement/quizresult/?quiz_type__exact=big_five&customer__isempty=0&customer__marketing_opt_in__exact=1",
        "/admin/rewards/ledgerentry/?kind__exact=CREDIT",
    ]
    for link in links:
        response = admin_client.get(link)
        assert response.status_code == 200, link


@pytest.mark.django_db
def test_dashboard_runs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    add_data(2, "small")
    with django_assert_max_num_queries(60) as small:
        admin_client.get("/admin/")
    add_data(25, "large")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert admin_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_dashboard_sections_follow_permissions(client, staff_with_perms):
    staff = staff_with_perms("accounts.view_customer")
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    assert "New customers" in html
    assert "Running experiments" not in html and "Outbox health" not in html


@pytest.mark.django_db
def test_dashboard_sections_are_cached_for_the_configured_time(admin_client, settings, django_assert_max_num_queries):
    from django.core.cache import cache

    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    add_data(2, "cached")
    with django_assert_max_num_queries(80) as first:
        admin_client.get("/admin/")
    with django_assert_max_num_queries(len(first.captured_queries) - 1) as second:
        html = admin_client.get("/admin/").content.decode()
    assert "Dash cached" in html  # served from the cache, same content
    assert len(second.captured_queries) < len(first.captured_queries)
    cache.clear()


@pytest.mark.django_db
def test_dashboard_is_a_grid_of_cards_then_every_record_type(admin_client):
    add_data(2, "grid")
    html = admin_client.get("/admin/").content.decode()
    assert 'class="fr-dashboard"' in html and 'class="fr-apps"' in html and "All records" in html
    assert html.index('class="fr-dashboard"') < html.index('class="fr-apps"')
    assert 'id="content-related"' not in html  # no fixed-width column beside the cards
    assert 'class="fr-grid-line"' in html and 'text-anchor="end" class="fr-axis"' in html  # value ticks
    assert "Your recent changes" in html
