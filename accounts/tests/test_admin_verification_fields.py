"""Console pages: verification links (read-only, hash only) and custom field definitions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Brand, CustomField, EmailVerificationToken
from accounts.tests.factories import CustomerFactory


@pytest.fixture
def admin_client(client, staff_with_perms):
    staff = staff_with_perms(
        "accounts.view_emailverificationtoken",
        "accounts.view_customfield",
        "accounts.add_customfield",
        "accounts.change_customfield",
    )
    client.force_login(staff)
    return client


def make_tokens(count: int, offset: int = 0) -> None:
    now = timezone.now()
    EmailVerificationToken.objects.bulk_create(
        EmailVerificationToken(
            user=CustomerFactory(),
            token=f"{i + offset:064x}",
            email=f"t{i + offset}@example.com",
            created_at=now,
            expires_at=now + timedelta(hours=48),
        )
        for i in range(count)
    )


@pytest.mark.django_db
class TestVerificationTokenAdmin:
    def test_changelist_query_count_does_not_grow(self, admin_client, django_assert_max_num_queries):
        make_tokens(2)
        url = "/admin/accounts/emailverificationtoken/"
        with CaptureQueriesContext(connection) as few:
            assert admin_client.get(url).status_code == 200
        make_tokens(25, offset=100)
        with django_assert_max_num_queries(len(few)):
            response = admin_client.get(url)
        assert response.status_code == 200 and b"t124@example.com" in response.content

    def test_detail_is_read_only_and_shows_only_the_hash(self, admin_client):
        make_tokens(1)
        token = EmailVerificationToken.objects.get()
        page = admin_client.get(f"/admin/accounts/emailverificationtoken/{token.pk}/change/")
        assert page.status_code == 200
        content = page.content.decode()
        assert token.token in content and 'name="email"' not in content
        assert admin_client.get("/admin/accounts/emailverificationtoken/add/").status_code == 403
        assert admin_client.post(f"/admin/accounts/emailverificationtoken/{token.pk}/delete/").status_code == 403


@pytest.mark.django_db
class TestCustomFieldAdmin:
    def test_changelist_query_count_does_not_grow(self, admin_client, django_assert_max_num_queries):
        brand = Brand.objects.get(slug="focusedroom")
        CustomField.objects.create(brand=brand, field_key="a", field_label="A", field_type="text")
        with CaptureQueriesContext(connection) as few:
            assert admin_client.get("/admin/accounts/customfield/").status_code == 200
        for i in range(20):
            CustomField.objects.create(brand=brand, field_key=f"k{i}", field_label=f"K{i}", field_type="text")
        with django_assert_max_num_queries(len(few)):
            assert admin_client.get("/admin/accounts/customfield/").status_code == 200

    def _post(self, admin_client, **overrides):
        data = {
            "brand": Brand.objects.get(slug="focusedroom").pk,
            "field_key": "focus_time",
            "field_label": "Focus time",
            "field_type": "select",
            "field_options": '["Morning", "Evening"]',
            "is_required": "on",
            "field_order": "1",
            "is_active": "on",
        }
        data.update(overrides)
        return admin_client.post("/admin/accounts/customfield/add/", data)

    def test_add_with_options_as_json(self, admin_client):
        response = self._post(admin_client)
        assert response.status_code == 302
        field = CustomField.objects.get(field_key="focus_time")
        assert field.field_options == ["Morning", "Evening"] and field.is_required

    @pytest.mark.parametrize(
        "overrides",
        [
            {"field_options": "[1, 2]"},
            {"field_options": '["A", "A"]'},
            {"field_options": ""},
            {"field_type": "text", "field_options": '["A"]'},
        ],
        ids=["numbers", "duplicates", "missing", "text-with-options"],
    )
    def test_bad_options_are_shown_next_to_the_field(self, admin_client, overrides):
        response = self._post(admin_client, **overrides)
        assert response.status_code == 200
        assert "field_options" in response.context["adminform"].form.errors
        assert not CustomField.objects.filter(field_key="focus_time").exists()
