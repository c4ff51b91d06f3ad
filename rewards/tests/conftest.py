"""Fixtures of the rewards tests."""

from __future__ import annotations

import pytest

from accounts.tests.factories import BrandFactory, CustomerFactory
from rewards import services
from rewards.models import Product, Rank


@pytest.fixture
def default_brand(db):
    """FocusedRoom (the root conftest restores it after a transactional flush)."""
    return services.brand_default()


@pytest.fixture
def product(default_brand):
    return Product.objects.create(
        brand=default_brand, sku="FR-JOURNAL", name="Focus Journal", msrp="24.00", points_award=40, redemption_cost=80
    )


@pytest.fixture
def other_brand(db):
    return BrandFactory(slug="calm-co", name="Calm Co")


@pytest.fixture
def ranks(default_brand):
    return [
        Rank.objects.create(
            brand=default_brand, key="bronze", name="Bronze", points_required=0, point_multiplier="1.00"
        ),
        Rank.objects.create(
            brand=default_brand, key="silver", name="Silver", points_required=500, point_multiplier="1.50"
        ),
        Rank.objects.create(
            brand=default_brand, key="gold", name="Gold", points_required=2000, point_multiplier="2.00"
        ),
    ]


@pytest.fixture
def make_member(db):
    def make(**kwargs):
        return CustomerFactory(**kwargs)

    return make
