"""One-click email links: confirmed by POST, single use (rotated), log-in links expire."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import action_links
from accounts.models import User
from accounts.tests.factories import CustomerFactory, StaffFactory
from focusedroom.errors import NotFound
from focusedroom.testing import run_in_parallel


@pytest.mark.django_db
class TestLoginLink:
    def test_get_asks_post_logs_in_and_rotates(self, client):
        user = CustomerFactory()
        old = user.action_token
        url = f"/a/{old}/login/"
        page = client.get(url)
        assert page.status_code == 200
        assert b"Log me in" in page.content and b"csrfmiddlewaretoken" in page.content
        user.refresh_from_db()
        assert user.action_token == old  # a scanner following the link changes nothing
        assert client.get("/account/").status_code == 302

        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == "/account/"
        assert client.get("/account/").status_code == 200
        user.refresh_from_db()
        assert user.action_token != old
        assert user.action_token_issued_at > timezone.now() - timedelta(minutes=1)

        client.logout()
        reused = client.post(url)
        assert reused.status_code == 404
        assert b"already been used" in reused.content
        assert client.get("/account/").status_code == 302

    def test_link_from_email_helper_points_at_the_current_token(self):
        user = CustomerFactory()
        assert action_links.action_link(user=user, action="login").endswith(f"/a/{user.action_token}/login/")
        assert action_links.action_link(user=user, action="unsubscribe").endswith(
            f"/a/{user.action_token}/unsubscribe/"
        )

    def test_expired_login_link_is_refused_but_unsubscribe_still_works(self, client, settings):
        settings.ACTION_LOGIN_TTL_DAYS = 7
        user = CustomerFactory(marketing_opt_in=True)
        User.objects.filter(pk=user.pk).update(action_token_issued_at=timezone.now() - timedelta(days=8))
        response = client.post(f"/a/{user.action_token}/login/")
        assert response.status_code == 409 and b"expired" in response.content
        assert client.get("/account/").status_code == 302
        assert client.post(f"/a/{user.action_token}/unsubscribe/").status_code == 200
        user.refresh_from_db()
        assert not user.marketing_opt_in

    def test_staff_cannot_log_in_by_link(self, client):
        staff = StaffFactory()
        response = client.post(f"/a/{staff.action_token}/login/")
        assert response.status_code == 409
        assert client.get("/admin/").status_code == 302

    @pytest.mark.parametrize("token", ["garbage", str(uuid.uuid4())])
    def test_unknown_token_is_404(self, client, token):
        assert client.get(f"/a/{token}/login/").status_code == 404
        assert client.post(f"/a/{token}/unsubscribe/").status_code == 404

    def test_erased_person_link_is_404(self, client):
        user = CustomerFactory()
        User.objects.filter(pk=user.pk).update(deleted_at=timezone.now())
        assert client.get(f"/a/{user.action_token}/login/").status_code == 404
        assert client.post(f"/a/{user.action_token}/login/").status_code == 404


@pytest.mark.django_db
class TestUnsubscribeLink:
    def test_get_asks_post_withdraws_consent_once(self, client):
        user = CustomerFactory(marketing_opt_in=True, marketing_opt_in_at=timezone.now())
        url = f"/a/{user.action_token}/unsubscribe/"
        page = client.get(url)
        assert page.status_code == 200 and b"Unsubscribe" in page.content
        user.refresh_from_db()
        assert user.marketing_opt_in

        done = client.post(url)
        assert done.status_code == 200 and b"You are unsubscribed" in done.content
        user.refresh_from_db()
        assert not user.marketing_opt_in and user.marketing_opt_in_at is None
        assert client.post(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_parallel_clicks_on_one_link_succeed_once():
    user = CustomerFactory(marketing_opt_in=True)
    token = user.action_token
    ok, errors = run_in_parallel(6, lambda i: action_links.action_token_use(token=token, action="unsubscribe"))
    assert len(ok) == 1 and len(errors) == 5
    assert all(isinstance(exc, NotFound) for exc in errors), errors
    assert User.objects.get(pk=user.pk).action_token != token
