import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import ROLES, sync_roles
from focusedroom.api.throttling import RateThrottle


@pytest.mark.django_db
def test_signup_page_creates_a_member_who_confirms_the_address(client):
    response = client.post("/accounts/signup/", {"email": "page@example.com", "password": "correct-horse-42"})
    assert response.status_code == 200 and b"Check your inbox" in response.content
    assert client.get("/account/").status_code == 302  # not logged in: the answer is the same for every address
    assert User.objects.get(email="page@example.com").check_password("correct-horse-42")
    assert client.login(username="page@example.com", password="correct-horse-42")


@pytest.mark.django_db
def test_signup_page_shows_errors_next_to_fields(client):
    response = client.post("/accounts/signup/", {"email": "nope", "password": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="field field-invalid"' in html and "errorlist" in html
    assert not User.objects.exists()


@pytest.mark.django_db
def test_login_logout_and_password_reset(client, member, django_capture_on_commit_callbacks):
    from django.core import mail

    assert (
        client.post("/accounts/login/", {"username": member.email, "password": "correct-horse-42"}).status_code == 302
    )
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/account/").status_code == 302  # back to the login page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": member.email})
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_forms_carry_csrf_protection():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post("/accounts/signup/", {"email": "x@example.com", "password": "correct-horse-42"}).status_code == 403
    )


@pytest.mark.django_db
def test_role_groups_exist_with_sensible_permissions():
    sync_roles()  # idempotent
    counts = sync_roles()
    assert set(counts) == set(ROLES) == {"Marketing", "Support", "Ops"}
    support = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    assert "view_customer" in support and "change_customer" in support
    assert not any(c.endswith("experiment") for c in support)
    marketing = Group.objects.get(name="Marketing").permissions
    assert marketing.filter(codename="view_customer").exists()
    assert not marketing.filter(codename="delete_customer").exists()


@pytest.mark.django_db
def test_anonymous_clients_are_throttled_with_the_error_shape(client, monkeypatch):
    monkeypatch.setattr(RateThrottle, "anon_rate", "2/hour")
    statuses = [client.post("/api/v1/auth/token/", {}).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    body = client.post("/api/v1/auth/token/", {}).json()
    assert body["error"]["status"] == 429


@pytest.mark.django_db
def test_setup_roles_command_prints_the_permission_counts():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    counts = {name: Group.objects.get(name=name).permissions.count() for name in ROLES}
    assert all(counts.values())
    for name, count in counts.items():
        assert f"{name}: {count} permissions" in out.getvalue()


@pytest.mark.django_db
def test_ensure_demo_admin_creates_one_superuser_once_and_never_in_production(settings):
    import io

    from django.core.management import CommandError, call_command

    from accounts.management.commands.ensure_demo_admin import DEMO_EMAIL, DEMO_PASSWORD

    settings.IS_PRODUCTION = False
    out = io.StringIO()
    call_command("ensure_demo_admin", stdout=out)
    call_command("ensure_demo_admin", stdout=out)
    admin = User.objects.get(is_superuser=True)
    assert admin.email == DEMO_EMAIL and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert "Created demo admin" in out.getvalue() and out.getvalue().count("Console login") == 2

    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("ensure_demo_admin")


@pytest.mark.django_db
def test_the_staff_change_page_reads_the_permissions_with_their_content_types(
    admin_client, django_assert_max_num_queries
):
    """Each of the 300-odd permissions is shown as "app | model | name": one query for all, not one each."""
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user(email="staff.page@example.com", password="correct-horse-42", is_staff=True)
    assert Permission.objects.count() > 100
    with django_assert_max_num_queries(15):
        response = admin_client.get(f"/admin/accounts/staffuser/{staff.pk}/change/")
    assert response.status_code == 200 and b"staff.page@example.com" in response.content
