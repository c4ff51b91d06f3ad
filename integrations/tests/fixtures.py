"""Fixtures of the integration tests: fake Customer.io and Kit servers wired into settings."""

from __future__ import annotations

import pytest

from accounts.models import DEFAULT_BRAND_SLUG, Brand
from integrations.fakes import FakeCustomerIO, FakeKit

SITE_ID, API_KEY, KIT_KEY = "site-123", "cio-secret-key", "kit-secret-key"


@pytest.fixture
def default_brand(db):
    """The default brand (the root conftest keeps the migration's row even after transactional flushes)."""
    return Brand.objects.get(slug=DEFAULT_BRAND_SLUG)


@pytest.fixture
def cio(settings, default_brand):
    """A fake Customer.io; the default brand holds matching credentials."""
    settings.INTEGRATIONS_HTTP_TIMEOUT = 0.5
    with FakeCustomerIO(site_id=SITE_ID, api_key=API_KEY) as fake:
        settings.CUSTOMERIO_TRACK_URL = fake.url
        default_brand.customer_io_site_id = SITE_ID
        default_brand.customer_io_api_key = API_KEY
        default_brand.save()
        yield fake


@pytest.fixture
def kit(settings):
    settings.INTEGRATIONS_HTTP_TIMEOUT = 0.5
    with FakeKit(api_key=KIT_KEY) as fake:
        settings.KIT_API_URL = fake.url
        settings.KIT_API_KEY = KIT_KEY
        yield fake
