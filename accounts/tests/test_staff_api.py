import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Brand, User
from accounts.tests.factories import CustomerFactory

STAFF_ENDPOINTS = ["/api/v1/customers/", "/api/v1/brands/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_anonymous_cannot_reach_staff_endpoints(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_members_cannot_reach_staff_endpoints(member_client, path):
    assert member_client.get(path).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_staff_without_the_model_permission_are_refused(staff_client, path):
    assert staff_client().get(path).status_code == 403


@pytest.mark.django_db
def test_staff_with_view_permission_list_customers_with_filters(staff_client):
    CustomerFactory(channel_id=2, career_stage="student", marketing_opt_in=True)
    CustomerFactory(channel_id=1, career_stage="executive")
    client = staff_client("accounts.view_customer")
    response = client.get("/api/v1/customers/", {"channel": 2, "opt_in": "true"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 1 and results[0]["channel"] == 2 and results[0]["career_stage"] == "student"


@pytest.mark.django_db
def test_customer_list_query_count_does_not_grow_with_rows(staff_client, django_assert_max_num_queries):
    client = staff_client("accounts.view_customer")
    CustomerFactory.create_batch(3)
    with django_assert_max_num_queries(10) as small:
        client.get("/api/v1/customers/")
    CustomerFactory.create_batch(40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/api/v1/customers/").status_code == 200


@pytest.mark.django_db
def test_brand_api_key_is_write_only_and_encrypted_at_rest(staff_client):
    client = staff_client("accounts.view_brand", "accounts.add_brand", "accounts.change_brand")
    response = client.post(
        "/api/v1/brands/",
        {
            "name": "Calm Co",
            "slug": "calm-co",
            "customer_io_site_id": "site-1",
            "customer_io_api_key": "cio-secret-123",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "customer_io_api_key" not in body and body["has_customer_io_credentials"] is True
    assert "cio-secret-123" not in client.get("/api/v1/brands/calm-co/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_io_api_key FROM accounts_brand WHERE slug = 'calm-co'")
        stored = cursor.fetchone()[0]
    assert stored and "cio-secret-123" not in stored
    assert Brand.objects.get(slug="calm-co").customer_io_api_key == "cio-secret-123"


@pytest.mark.django_db
def test_default_brand_exists():
    assert Brand.objects.filter(slug="focusedroom", name="FocusedRoom").exists()


@pytest.mark.django_db
def test_admin_never_shows_the_api_key(client):
    admin = User.objects.create_superuser("root@example.com", "s3cret-pass!")
    brand = Brand.objects.create(
        name="Key Co", slug="key-co", customer_io_site_id="s", customer_io_api_key="cio-top-secret"
    )
    client.force_login(admin)
    page = client.get(f"/admin/accounts/brand/{brand.pk}/change/")
    assert page.status_code == 200
    assert b"cio-top-secret" not in page.content


@pytest.mark.django_db
def test_console_refuses_invalid_brand_settings_with_a_field_error(client):
    admin = User.objects.create_superuser("root2@example.com", "s3cret-pass!")
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/brand/add/",
        {"name": "Bad", "slug": "bad", "settings": '{"rewards": {"welcome": -5}}', "is_active": "on"},
    )
    assert response.status_code == 200  # the form again, not a 500
    assert "rewards:" in response.content.decode()
    assert not Brand.objects.filter(slug="bad").exists()


@pytest.mark.django_db
def test_channels_are_listed_for_authenticated_clients_only(member_client):
    assert APIClient().get("/api/v1/channels/").status_code == 401
    response = member_client.get("/api/v1/channels/")
    assert response.status_code == 200
    assert [(c["id"], c["name"]) for c in response.json()] == [
        (1, "Big Five Test"),
        (2, "eBook Download"),
        (3, "Mobile App"),
    ]


@pytest.mark.django_db
def test_brand_patch_keeps_the_key_unless_a_new_one_is_sent(staff_client):
    Brand.objects.create(name="Keep Co", slug="keep-co", customer_io_site_id="s", customer_io_api_key="old-key")
    assert staff_client("accounts.view_brand").patch("/api/v1/brands/keep-co/", {"name": "X"}).status_code == 403
    client = staff_client("accounts.view_brand", "accounts.change_brand")
    response = client.patch("/api/v1/brands/keep-co/", {"name": "Keep Co Ltd"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Keep Co Ltd"
    assert Brand.objects.get(slug="keep-co").customer_io_api_key == "old-key"
    client.patch("/api/v1/brands/keep-co/", {"customer_io_api_key": "new-key"}, format="json")
    assert Brand.objects.get(slug="keep-co").customer_io_api_key == "new-key"
