"""Ownership before attachment: a Big Five test joins a person's history only by their proven act.

Each attack is tried through the real entry points (API, page) and fails; the legitimate paths
(a logged-in member, the emailed link, a customer record nobody has claimed) still work.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import PersonChange, User
from accounts.tests.factories import CustomerFactory
from engagement.models import PendingResult, QuizResult
from engagement.tests.helpers import answers, form_post_data, random_answers, submit, submit_now
from focusedroom.context import RequestContext
from focusedroom.testing import run_in_parallel
from integrations.models import OutboxMessage
from rewards import services as rewards_services
from rewards.models import LedgerEntry, Wallet

SUBMIT = "/api/v1/assessments/big-five/"
PASSWORD = "correct-horse-42"
QUIZ_GEMS = 25
PUBLIC_KEYS = {"id", "quiz_type", "quiz_version", "result_type", "norm_group", "scores", "suggestions", "insights"}


@pytest.fixture
def victim(db):
    """A member with a password, a verified address, an earlier report and marketing consent withdrawn."""
    user = CustomerFactory(
        email="victim@example.com",
        password=PASSWORD,
        name="Valentina Quist",
        first_name="Valentina",
        age=41,
        profession="",
        career_stage="senior",
        purpose="Keep my private goals private",
        is_email_verified=True,
        email_verified_at=timezone.now(),
        marketing_opt_in=False,
    )
    rewards_services.member_enrol(user=user)
    client = APIClient()
    client.force_authenticate(user)
    with TestCase.captureOnCommitCallbacks(execute=True):  # and what follows it in the worker
        assert client.post(SUBMIT, {"answers": answers(2), "sex": "F"}, format="json").status_code == 201
    OutboxMessage.objects.all().delete()
    mail.outbox.clear()
    return user


def snapshot(user) -> dict:
    row = User.objects.get(pk=user.pk)
    return {
        "profile": {f: getattr(row, f) for f in ("name", "first_name", "age", "profession", "career_stage", "purpose")},
        "consent": (row.marketing_opt_in, row.marketing_opt_in_at),
        "balance": Wallet.objects.get(user=row).balance,
        "ledger": LedgerEntry.objects.filter(wallet__user=row).count(),
        "reports": sorted(QuizResult.objects.filter(customer=row).values_list("report_id", flat=True)),
        "changes": PersonChange.objects.filter(user=row).count(),
        "outbox": OutboxMessage.objects.filter(user=row).count(),
    }


def pending_link(message) -> str:
    return urlsplit(re.search(r"https?://\S+/big-five/add/\S+/", message.body).group(0)).path


ATTACK = {
    "answers": answers(5),
    "email": "Victim@Example.com",
    "name": "Mallory",
    "age": 19,
    "profession": "Impostor",
    "purpose": "Overwrite her goals",
    "sex": "M",
    "opt_in": True,
}


@pytest.mark.django_db
class TestAnonymousSubmissionWithAMembersEmail:
    def test_api_attack_changes_nothing_and_reveals_nothing(self, victim, django_capture_on_commit_callbacks):
        before = snapshot(victim)
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(SUBMIT, ATTACK, format="json")
        assert response.status_code == 201
        body = response.json()
        # The answer has the shape of an anonymous test's: no person, no number, no gems.
        anonymous = APIClient().post(SUBMIT, {"answers": answers(5)}, format="json").json()
        assert set(body) == set(anonymous) and set(body) >= PUBLIC_KEYS
        assert not {"customer_id", "report_id", "earned_gems"} & set(body)
        text = response.content.decode()
        assert "Valentina" not in text and "private goals" not in text
        # Nothing about the member changed: profile, consent, balance, history, change log, providers.
        assert snapshot(victim) == before
        result = QuizResult.objects.get(public_id=body["id"])
        assert result.customer is None and result.report_id is None and result.earned_gems == 0
        assert result.first_name == "Mallory"  # what the submitter typed, never the member's name
        # The member is offered the report by email.
        pending = PendingResult.objects.get(result=result)
        assert pending.user == victim and pending.attached_at is None
        assert [m.to for m in mail.outbox] == [["victim@example.com"]]
        assert "/big-five/add/" in mail.outbox[0].body

    def test_the_report_page_shows_the_submitters_scores_only(self, victim, client):
        result = submit(**ATTACK)
        html = client.get(reverse("bigfive-result", args=[result.public_id])).content.decode()
        assert "Since report" not in html and "Report 1" not in html and "Report 2" not in html
        assert "Valentina" not in html and 'class="bf-prev"' not in html
        api = APIClient().get(f"/api/v1/assessments/big-five/{result.public_id}/").json()
        assert not {"customer_id", "report_id", "earned_gems"} & set(api)

    def test_page_attack_changes_nothing(self, victim, client):
        before = snapshot(victim)
        data = form_post_data(answers(5), email="victim@example.com", name="Mallory", age=19, opt_in="on")
        response = client.post("/big-five/", data)
        assert response.status_code == 302 and "/big-five/results/" in response["Location"]
        assert snapshot(victim) == before
        report = client.get(response["Location"].split("#")[0]).content.decode()
        assert "Since report" not in report and "Valentina" not in report

    def test_at_most_a_few_offers_a_day(self, victim, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(5):
                submit(email=victim.email, answers=random_answers(i))
        assert PendingResult.objects.filter(user=victim).count() == 3 and len(mail.outbox) == 3
        assert QuizResult.objects.filter(customer__isnull=True).count() == 5


@pytest.mark.django_db
class TestTheEmailedLink:
    def test_get_shows_a_button_post_attaches_once(self, victim, django_capture_on_commit_callbacks):
        before = snapshot(victim)
        with django_capture_on_commit_callbacks(execute=True):
            body = APIClient().post(SUBMIT, ATTACK, format="json").json()
        path = pending_link(mail.outbox[0])
        client = Client()
        page = client.get(path)
        assert page.status_code == 200 and b"Add it to my history" in page.content
        assert snapshot(victim) == before  # a mail scanner opening the link changes nothing

        done = client.post(path)
        assert done.status_code == 200 and b"Added as report 2" in done.content
        result = QuizResult.objects.get(public_id=body["id"])
        assert (result.customer, result.report_id, result.earned_gems) == (victim, 2, QUIZ_GEMS)
        after = snapshot(victim)
        assert after["reports"] == [1, 2]
        assert after["balance"] == before["balance"] + QUIZ_GEMS
        # Only the empty field is filled; consent never changes here although the test asked for it.
        assert after["profile"] == {**before["profile"], "profession": "Impostor"}
        assert after["consent"] == before["consent"]

        again = client.post(path)
        assert again.status_code == 409
        assert snapshot(victim)["balance"] == after["balance"]  # gems once per report

    def test_the_owner_sees_it_numbered_with_the_change_since_last_time(self, victim, client):
        result = submit_now(**ATTACK)
        pending = PendingResult.objects.get(result=result)
        raw = "t" * 43
        PendingResult.objects.filter(pk=pending.pk).update(token_hash=accounts_services.hash_token(raw))
        client.post(reverse("bigfive-pending", args=[raw]))
        client.force_login(victim)
        html = client.get(reverse("bigfive-result", args=[result.public_id])).content.decode()
        assert "Report 2 ·" in html and "Since report 1" in html
        assert "Report 2" in client.get("/account/").content.decode()

    def test_expired_or_unknown_links_attach_nothing(self, victim, client):
        result = submit_now(**ATTACK)
        raw = "e" * 43
        PendingResult.objects.filter(result=result).update(
            token_hash=accounts_services.hash_token(raw),
            created_at=timezone.now() - timedelta(days=20),
            expires_at=timezone.now() - timedelta(days=6),
        )
        assert client.post(reverse("bigfive-pending", args=[raw])).status_code == 409
        assert client.post(reverse("bigfive-pending", args=["nope"])).status_code == 404
        assert QuizResult.objects.get(pk=result.pk).customer is None


@pytest.mark.django_db(transaction=True)
def test_parallel_clicks_on_the_emailed_link_attach_once():
    user = CustomerFactory(email="racer@example.com", password=PASSWORD, is_email_verified=True)
    rewards_services.member_enrol(user=user)
    result = submit(email=user.email)
    raw = "r" * 43
    PendingResult.objects.filter(result=result).update(token_hash=accounts_services.hash_token(raw))
    ok, errors = run_in_parallel(6, lambda i: _confirm(raw))
    assert len(ok) == 1 and len(errors) == 5, errors
    assert QuizResult.objects.get(pk=result.pk).report_id == 1
    assert LedgerEntry.objects.filter(wallet__user=user, reason="quiz_completed").count() == 1


def _confirm(raw: str):
    from engagement import services

    return services.pending_result_confirm(raw_token=raw, context=RequestContext.system(source="page"))


@pytest.mark.django_db
class TestLoggedInMember:
    def test_page_prefills_the_profile_and_attaches_at_once(self, victim, client, django_capture_on_commit_callbacks):
        client.force_login(victim)
        form = client.get("/big-five/").content.decode()
        assert 'value="Valentina Quist"' in form and 'value="41"' in form
        assert 'name="email"' not in form and "Logged in as" in form
        assert re.search(r'value="F"[^>]*checked|checked[^>]*value="F"', form)  # sex of the latest test
        before = snapshot(victim)
        with django_capture_on_commit_callbacks(execute=True):  # the quiz gems come from the worker
            response = client.post("/big-five/", form_post_data(answers(4), name="Valentina Quist", age=41, sex="F"))
        assert response.status_code == 302
        result = QuizResult.objects.filter(customer=victim).order_by("-report_id").first()
        assert result.report_id == 2 and result.norm_group == "F_41_60" and result.age == 41
        assert snapshot(victim)["balance"] == before["balance"] + QUIZ_GEMS
        html = client.get(response["Location"].split("#")[0]).content.decode()
        assert "Report 2 ·" in html and "Since report 1" in html

    def test_norms_use_the_persons_sex_and_age_when_not_given(self, victim, django_capture_on_commit_callbacks):
        client = APIClient()
        client.force_authenticate(victim)
        with django_capture_on_commit_callbacks(execute=True):
            body = client.post(SUBMIT, {"answers": answers(3)}, format="json").json()
        assert body["report_id"] == 2 and body["norm_group"] == "F_41_60"
        assert body["earned_gems"] == 0  # credited by the worker, after the answer
        assert client.get(f"{SUBMIT}{body['id']}/").json()["earned_gems"] == QUIZ_GEMS

    def test_api_with_a_token_attaches_and_answers_with_the_number(self, victim, django_capture_on_commit_callbacks):
        _, raw = accounts_services.api_token_create(user=victim)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        with django_capture_on_commit_callbacks(execute=True):
            body = client.post(SUBMIT, {"answers": answers(3), "opt_in": True}, format="json").json()
        assert body["report_id"] == 2 and "customer_id" not in body
        victim.refresh_from_db()
        assert victim.marketing_opt_in  # their own act, their verified address
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(SUBMIT, {"answers": answers(3)}, format="json").json()["report_id"] == 3
        assert LedgerEntry.objects.filter(wallet__user=victim, reason="quiz_completed").count() == 3

    def test_someone_elses_email_while_logged_in_is_refused(self, victim):
        client = APIClient()
        client.force_authenticate(victim)
        response = client.post(SUBMIT, {"answers": answers(3), "email": "other@example.com"}, format="json")
        assert response.status_code == 400 and "email" in response.json()["error"]["fields"]
        assert not User.objects.filter(email="other@example.com").exists()


@pytest.mark.django_db
class TestCustomerRecordNobodyClaimed:
    """Seed 000's flow: a test with an email makes or finds the customer and numbers their reports."""

    def test_demographics_as_the_seed_has_them_but_never_consent(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            first = APIClient().post(SUBMIT, {**ATTACK, "email": "walkin@example.com"}, format="json")
            second = APIClient().post(
                SUBMIT, {"answers": answers(3), "email": "walkin@example.com", "profession": "Nurse"}, format="json"
            )
        assert first.status_code == second.status_code == 201
        user = User.objects.get(email="walkin@example.com")
        assert (user.name, user.profession) == ("Mallory", "Nurse")
        assert sorted(QuizResult.objects.filter(customer=user).values_list("report_id", flat=True)) == [1, 2]
        assert not user.marketing_opt_in  # an unverified address: the test never switches consent on
        assert not OutboxMessage.objects.filter(user=user, destination="kit").exists()
        # The verification link offers consent; ticking the box is the person's own act.
        link = re.search(r"/verify-email/([^/\s]+)/", mail.outbox[0].body).group(1)
        page = Client().get(f"/verify-email/{link}/").content.decode()
        assert 'name="marketing_opt_in"' in page and "checked" not in page.split('name="marketing_opt_in"')[1][:40]
        assert Client().post(f"/verify-email/{link}/", {"marketing_opt_in": "on"}).status_code == 200
        user.refresh_from_db()
        assert user.is_email_verified and user.marketing_opt_in
        assert PersonChange.objects.filter(user=user, source="link", marketing_opt_in=True).exists()

    def test_once_the_address_is_verified_tests_wait_for_the_person(self):
        submit_now(email="walkin@example.com")
        User.objects.filter(email="walkin@example.com").update(is_email_verified=True)
        later = submit_now(email="walkin@example.com", name="Someone Else")
        assert later.customer is None and PendingResult.objects.filter(result=later).exists()


@pytest.mark.django_db
class TestAccountWhoseAddressNobodyProved:
    """Pre-account hijack: someone registers the victim's address; the victim later takes the test."""

    def test_an_unverified_account_receives_nothing_that_belongs_to_the_address(
        self, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                APIClient()
                .post("/api/v1/auth/register/", {"email": "owner@example.com", "password": "attacker-pass-42"})
                .status_code
                == 202
            )
        squatter = User.objects.get(email="owner@example.com")
        assert not squatter.is_email_verified
        mail.outbox.clear()
        # The real owner takes the test with their address, not logged in.
        with django_capture_on_commit_callbacks(execute=True):
            body = (
                APIClient()
                .post(
                    SUBMIT,
                    {"answers": answers(4), "email": "owner@example.com", "name": "Real Owner", "age": 50},
                    format="json",
                )
                .json()
            )
        result = QuizResult.objects.get(public_id=body["id"])
        assert result.customer is None
        squatter.refresh_from_db()
        assert (squatter.name, squatter.age) == ("", None)  # no demographics flow into the account
        attacker = APIClient()
        attacker.force_authenticate(squatter)
        assert attacker.get("/api/v1/me/export/").json()["parts"]["engagement"]["quiz_results"] == []
        # Following the emailed link does not attach it to an account whose address nobody proved.
        response = Client().post(pending_link(mail.outbox[0]))
        assert response.status_code == 409 and b"not confirmed its email" in response.content
        assert QuizResult.objects.get(pk=result.pk).customer is None


@pytest.mark.django_db
def test_a_referral_made_for_an_unproven_address_pays_nothing_until_the_address_is_verified(
    django_capture_on_commit_callbacks,
):
    from rewards.models import Referral

    referrer = CustomerFactory(password=PASSWORD, is_email_verified=True)
    code = rewards_services.referral_code_ensure(user=referrer)[0].code
    rewards_services.member_enrol(user=referrer)
    balance = Wallet.objects.get(user=referrer).balance
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post(
            "/api/v1/auth/register/",
            {"email": "squatted@example.com", "password": "attacker-pass-42", "referral_code": code},
        )
        # The address's real owner takes the test, not logged in: nothing of it reaches the account.
        APIClient().post(SUBMIT, {"answers": answers(3), "email": "squatted@example.com"}, format="json")
    referral = Referral.objects.get(referee__email="squatted@example.com")
    assert referral.status == Referral.Status.PENDING and referral.points_awarded_to_referrer == 0
    assert Wallet.objects.get(user=referrer).balance == balance
    assert not QuizResult.objects.filter(customer__email="squatted@example.com").exists()
