"""One-click email links: hashed, separate log-in and unsubscribe tokens, confirmed by POST,
log-in links single-use and short-lived, never visible to staff."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from accounts import action_links
from accounts.models import ActionToken, User
from accounts.services import hash_token
from accounts.tests.factories import CustomerFactory, StaffFactory
from focusedroom.errors import NotFound
from focusedroom.testing import run_in_parallel


def token_of(link: str) -> str:
    return link.rstrip("/").split("/")[-2]


@pytest.mark.django_db
class TestTokensAreSecrets:
    def test_only_the_hash_is_stored_and_each_link_has_its_own_token(self):
        user = CustomerFactory()
        login = token_of(action_links.action_link_issue(user=user, action="login"))
        unsubscribe = token_of(action_links.action_link_issue(user=user, action="unsubscribe"))
        assert login != unsubscribe
        rows = {row.purpose: row for row in ActionToken.objects.filter(user=user)}
        assert rows["login"].token_hash == hash_token(login)
        assert rows["unsubscribe"].token_hash == hash_token(unsubscribe)
        # The clear tokens are nowhere in the database.
        with connection.cursor() as cursor:
            cursor.execute("SELECT t::text FROM accounts_action_token t UNION ALL SELECT u::text FROM accounts_user u")
            dump = " ".join(r[0] for r in cursor.fetchall())
        assert login not in dump and unsubscribe not in dump
        assert not hasattr(User, "action_token")

    def test_the_console_and_the_api_never_show_a_link_token(self, client, api_client, staff_with_perms):
        """The attack: staff copy a member's one-click token from the console and log in as them."""
        user = CustomerFactory()
        login = token_of(action_links.action_link_issue(user=user, action="login"))
        row = ActionToken.objects.get(user=user, purpose="login")
        staff = staff_with_perms("accounts.view_customer", "accounts.change_customer", "accounts.view_user")
        client.force_login(staff)
        page = client.get(f"/admin/accounts/customer/{user.pk}/change/")
        assert page.status_code == 200
        assert login.encode() not in page.content and row.token_hash.encode() not in page.content
        assert b"action_token" not in page.content
        assert client.get("/admin/accounts/actiontoken/").status_code == 404  # not in the console at all
        lookup = client.get(f"/admin/accounts/user/{user.pk}/change/")
        assert login.encode() not in lookup.content and row.token_hash.encode() not in lookup.content
        api_client.force_authenticate(staff)
        listing = api_client.get("/api/v1/customers/")
        assert login not in listing.content.decode() and "action" not in listing.json()["results"][0]
        api_client.force_authenticate(user)
        assert login not in api_client.get("/api/v1/me/").content.decode()


@pytest.mark.django_db
class TestLoginLink:
    def test_get_asks_post_logs_in_once(self, client):
        user = CustomerFactory()
        url = urlsplit(action_links.action_link_issue(user=user, action="login")).path
        page = client.get(url)
        assert page.status_code == 200
        assert b"Log me in" in page.content and b"csrfmiddlewaretoken" in page.content
        assert ActionToken.objects.get(user=user).used_at is None  # a scanner following the link changes nothing
        assert client.get("/account/").status_code == 302

        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == "/account/"
        assert client.get("/account/").status_code == 200
        assert ActionToken.objects.get(user=user).used_at is not None

        client.logout()
        reused = client.post(url)
        assert reused.status_code == 404 and b"already been used" in reused.content
        assert client.get("/account/").status_code == 302

    def test_lifetimes_are_separate(self, client, settings):
        settings.ACTION_LOGIN_TTL_HOURS = 24
        settings.ACTION_UNSUBSCRIBE_TTL_DAYS = 365
        user = CustomerFactory(marketing_opt_in=True)
        login = token_of(action_links.action_link_issue(user=user, action="login"))
        unsubscribe = token_of(action_links.action_link_issue(user=user, action="unsubscribe"))
        rows = {row.purpose: row for row in ActionToken.objects.filter(user=user)}
        assert rows["login"].expires_at - rows["login"].created_at == timedelta(hours=24)
        assert rows["unsubscribe"].expires_at - rows["unsubscribe"].created_at == timedelta(days=365)
        ActionToken.objects.filter(user=user).update(created_at=timezone.now() - timedelta(days=3))
        ActionToken.objects.filter(user=user, purpose="login").update(expires_at=timezone.now() - timedelta(days=2))
        response = client.post(f"/a/{login}/login/")
        assert response.status_code == 409 and b"expired" in response.content
        assert client.get("/account/").status_code == 302
        assert client.post(f"/a/{unsubscribe}/unsubscribe/").status_code == 200  # a 3-day-old unsubscribe link works
        user.refresh_from_db()
        assert not user.marketing_opt_in

    def test_an_unsubscribe_token_does_not_log_in(self, client):
        user = CustomerFactory()
        unsubscribe = token_of(action_links.action_link_issue(user=user, action="unsubscribe"))
        assert client.post(f"/a/{unsubscribe}/login/").status_code == 404
        assert client.get("/account/").status_code == 302

    def test_staff_never_get_or_use_a_login_link(self, client):
        staff = StaffFactory()
        with pytest.raises(ValueError):
            action_links.action_link_issue(user=staff, action="login")
        now = timezone.now()
        ActionToken.objects.create(
            user=staff, purpose="login", token_hash=hash_token("x" * 43), expires_at=now + timedelta(hours=1)
        )
        response = client.post(f"/a/{'x' * 43}/login/")
        assert response.status_code == 409
        assert client.get("/admin/").status_code == 302

    @pytest.mark.parametrize("token", ["garbage", "a" * 43])
    def test_unknown_token_is_404(self, client, token):
        assert client.get(f"/a/{token}/login/").status_code == 404
        assert client.post(f"/a/{token}/unsubscribe/").status_code == 404

    def test_deleted_person_link_is_404(self, client):
        user = CustomerFactory()
        login = token_of(action_links.action_link_issue(user=user, action="login"))
        User.objects.filter(pk=user.pk).update(deleted_at=timezone.now())
        assert client.get(f"/a/{login}/login/").status_code == 404
        assert client.post(f"/a/{login}/login/").status_code == 404


@pytest.mark.django_db
class TestUnsubscribeLink:
    def test_get_asks_post_withdraws_consent_and_a_second_click_changes_nothing(self, client):
        user = CustomerFactory(marketing_opt_in=True, marketing_opt_in_at=timezone.now())
        url = f"/a/{token_of(action_links.action_link_issue(user=user, action='unsubscribe'))}/unsubscribe/"
        page = client.get(url)
        assert page.status_code == 200 and b"Unsubscribe" in page.content
        user.refresh_from_db()
        assert user.marketing_opt_in

        done = client.post(url)
        assert done.status_code == 200 and b"You are unsubscribed" in done.content
        user.refresh_from_db()
        assert not user.marketing_opt_in and user.marketing_opt_in_at is None
        assert client.post(url).status_code == 200  # an old email's link still answers; nothing more changes
        assert user.changes.filter(fields__contains=["marketing_opt_in"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_clicks_on_one_login_link_log_in_once():
    user = CustomerFactory()
    token = token_of(action_links.action_link_issue(user=user, action="login"))
    ok, errors = run_in_parallel(6, lambda i: action_links.action_token_use(token=token, action="login"))
    assert len(ok) == 1 and len(errors) == 5
    assert all(isinstance(exc, NotFound) for exc in errors), errors
    assert ActionToken.objects.get(user=user).used_at is not None
