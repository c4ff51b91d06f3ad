import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import AccountClaim, ApiToken, User

PASSWORD = "correct-horse-42"


@pytest.mark.django_db
class TestTokenLifecycle:
    def test_obtain_use_and_revoke(self, member):
        client = APIClient()
        response = client.post("/api/v1/auth/token/", {"email": member.email.upper(), "password": PASSWORD})
        assert response.status_code == 201
        raw = response.json()["token"]

        stored = ApiToken.objects.get(user=member)
        assert raw not in (stored.key_hash, stored.prefix)
        assert len(stored.key_hash) == 64

        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        me = client.get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["email"] == member.email

        assert client.delete("/api/v1/auth/token/").status_code == 204
        stored.refresh_from_db()
        assert stored.revoked_at is not None
        again = client.get("/api/v1/me/")
        assert again.status_code == 401
        assert again.json()["error"]["code"] == "authentication_failed"

    def test_wrong_password_is_a_400_with_the_error_shape(self, member):
        response = APIClient().post("/api/v1/auth/token/", {"email": member.email, "password": "nope"})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["status"] == 400 and error["message"] == "Email or password is incorrect."
        assert not ApiToken.objects.exists()

    def test_missing_fields_give_field_messages(self):
        response = APIClient().post("/api/v1/auth/token/", {"email": ""})
        assert response.status_code == 400
        fields = response.json()["error"]["fields"]
        assert set(fields) == {"email", "password"}

    def test_garbage_token_is_401(self):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        assert client.get("/api/v1/me/").status_code == 401

    def test_revoking_needs_a_token(self, member_client):
        response = member_client.delete("/api/v1/auth/token/")
        assert response.status_code == 400


@pytest.mark.django_db
class TestMe:
    def test_anonymous_gets_401(self):
        response = APIClient().get("/api/v1/me/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_patch_updates_profile_with_validation(self, member_client, member):
        response = member_client.patch("/api/v1/me/", {"age": 9, "time_zone": "Mars/Olympus"}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"age", "time_zone"}
        ok = member_client.patch("/api/v1/me/", {"profession": "Pilot", "time_zone": "Europe/Paris"}, format="json")
        assert ok.status_code == 200
        member.refresh_from_db()
        assert (member.profession, member.time_zone) == ("Pilot", "Europe/Paris")


@pytest.mark.django_db
class TestRegister:
    def test_register_creates_a_member(self):
        response = APIClient().post("/api/v1/auth/register/", {"email": "New@Example.com", "password": PASSWORD})
        assert response.status_code == 202
        assert response.json() == {
            "email": "new@example.com",
            "detail": "Check your inbox: we sent a link to new@example.com to finish creating your account.",
        }
        user = User.objects.get(email="new@example.com")
        assert user.check_password(PASSWORD) and not user.is_email_verified

    def test_register_rejects_weak_password_and_bad_email(self):
        response = APIClient().post("/api/v1/auth/register/", {"email": "not-an-email", "password": "123"})
        assert response.status_code == 400
        assert "password" in response.json()["error"]["fields"] or "email" in response.json()["error"]["fields"]
        assert not User.objects.exists()

    def test_existing_member_cannot_register_again_and_the_answer_does_not_say_so(
        self, member, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post("/api/v1/auth/register/", {"email": member.email, "password": "other-horse-42"})
        assert response.status_code == 202 and set(response.json()) == {"email", "detail"}
        member.refresh_from_db()
        assert member.check_password(PASSWORD)  # nothing changed
        assert len(mail.outbox) == 1 and "already has an account" in mail.outbox[0].body

    def test_existing_customer_claims_their_record_after_proving_the_email(
        self, client, settings, django_capture_on_commit_callbacks
    ):
        settings.ACCOUNT_CLAIM_TTL_HOURS = 36
        customer = User.objects.create_user("taker@example.com", name="Test Taker")  # took the test, no password
        with django_capture_on_commit_callbacks() as callbacks:
            response = APIClient().post("/api/v1/auth/register/", {"email": "TAKER@example.com", "password": PASSWORD})
        assert response.status_code == 202
        assert mail.outbox == []  # the link leaves only once the claim is committed
        for callback in callbacks:
            callback()
        assert set(response.json()) == {"email", "detail"}
        customer.refresh_from_db()
        assert not customer.has_usable_password()  # nothing changes before the email is proven
        assert User.all_objects.filter(email="taker@example.com").count() == 1

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["taker@example.com"]
        assert message.alternatives and message.alternatives[0][1] == "text/html"
        assert "expires in 36 hours" in message.body and "expires in 36 hours" in message.alternatives[0][0]
        link = next(line for line in message.body.splitlines() if "/accounts/claim/" in line).strip()
        path = link.split("127.0.0.1:8000", 1)[-1]

        assert client.get(path).status_code == 200  # confirmation page; GET changes nothing
        customer.refresh_from_db()
        assert not customer.has_usable_password()
        response = client.post(path)
        assert response.status_code == 302
        customer.refresh_from_db()
        assert customer.check_password(PASSWORD)
        assert customer.is_email_verified
        assert User.all_objects.filter(email="taker@example.com").count() == 1

        reused = client.post(path)
        assert reused.status_code == 409
        assert AccountClaim.objects.get().used_at is not None

    def test_unknown_claim_link_shows_a_clear_page(self, client):
        response = client.get("/accounts/claim/not-a-token/")
        assert response.status_code == 404
        assert b"This link cannot be used" in response.content
