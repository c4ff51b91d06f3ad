import json

import pytest
from django.db import connections


@pytest.mark.django_db
def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    connection = connections["default"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "unavailable"
    connection.close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/admin/login/", "/api/docs/", "/api/schema/", "/accounts/signup/", "/accounts/login/"]
)
def test_public_pages_open(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_schema_documents_the_error_shape_on_every_operation(client):
    response = client.get("/api/schema/?format=json")
    schema = json.loads(response.content)
    assert "Error" in schema["components"]["schemas"]
    operations = [op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations
    for operation in operations:
        assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


@pytest.mark.django_db
def test_swagger_ui_uses_no_cdn(client):
    html = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.django_db
def test_unknown_api_path_answers_json_error(client):
    response = client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_unknown_page_answers_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_templates_load_nothing_from_the_internet():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for template in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]:
        text = template.read_text()
        for marker in ("https://cdn", "//cdn.", "unpkg.com", "googleapis.com", "jsdelivr"):
            assert marker not in text, f"{template} loads {marker}"
