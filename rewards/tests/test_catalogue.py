"""Products, reward items, ranks and achievement configurations: the API and the console write
through the same catalogue services, so they refuse the same input with the same messages and
save the same rows."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.tests.factories import StaffFactory
from focusedroom.errors import Conflict
from rewards import services
from rewards.models import AchievementConfig, Product, Rank, RewardItem

MODELS = {
    "product": (Product, "/api/v1/products/"),
    "rewarditem": (RewardItem, "/api/v1/reward-items/"),
    "rank": (Rank, "/api/v1/ranks/"),
    "achievementconfig": (AchievementConfig, "/api/v1/achievement-configs/"),
}
VALID = {
    "product": {
        "brand": "focusedroom",
        "sku": "NEW-1",
        "name": "New journal",
        "msrp": "9.50",
        "points_award": 10,
        "redemption_cost": 90,
        "tags": ["focus"],
        "is_active": True,
    },
    "rewarditem": {"brand": "focusedroom", "key": "call", "name": "Call", "cost": 9, "is_active": True},
    "rank": {
        "brand": "focusedroom",
        "key": "platinum",
        "name": "Platinum",
        "points_required": 9000,
        "point_multiplier": "2.50",
        "is_active": True,
    },
    "achievementconfig": {
        "brand": None,
        "name": "First",
        "achievement_key": "first",
        "achievement_type": "scan_count",
        "criteria": {"metric": "scan_count", "operator": ">=", "value": 1},
        "rewards": {"points": 10},
        "visibility": {},
        "metadata": {},
        "is_active": True,
    },
}
JSON_FIELDS = {"tags", "criteria", "rewards", "visibility", "metadata"}
SERVICE = {"product": "product", "rewarditem": "reward_item", "rank": "rank", "achievementconfig": "achievement_config"}
# model, change to the valid payload, field refused
REFUSALS = [
    ("product", {"sku": "FR-JOURNAL"}, "sku"),
    ("product", {"msrp": "-1.00"}, "msrp"),
    ("product", {"redemption_cost": 0}, "redemption_cost"),
    ("product", {"tags": ["x" * 101]}, "tags"),
    ("product", {"tags": "focus"}, "tags"),
    ("rewarditem", {"cost": 0}, "cost"),
    ("rewarditem", {"key": "existing"}, "key"),
    ("rank", {"point_multiplier": "9.00"}, "point_multiplier"),
    ("rank", {"points_required": 500}, "points_required"),
    ("rank", {"key": "silver"}, "key"),
    ("achievementconfig", {"criteria": {"metric": "nope"}}, "criteria"),
    ("achievementconfig", {"criteria": {"metric": "referral_count", "operator": ">=", "value": 1}}, "criteria"),
    ("achievementconfig", {"rewards": {"points": -5}}, "rewards"),
    ("achievementconfig", {"achievement_key": "existing"}, "achievement_key"),
]


@pytest.fixture
def catalogue(default_brand, product, ranks):
    RewardItem.objects.create(brand=default_brand, key="existing", name="Existing", cost=5)
    AchievementConfig.objects.create(
        name="Existing",
        achievement_key="existing",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
    )
    return default_brand


@pytest.fixture
def console(client, db):
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.fixture
def api(staff_client):
    perms = [f"rewards.{verb}_{name}" for name in MODELS for verb in ("view", "add", "change", "delete")]
    return staff_client(*perms)


def _form_data(payload: dict, brand) -> dict:
    """The console's form fields for an API payload."""
    data = {}
    for field, value in payload.items():
        if field == "brand":
            data[field] = brand.pk if value else ""
        elif isinstance(value, bool):
            if value:
                data[field] = "on"
        elif field in JSON_FIELDS:
            data[field] = json.dumps(value)
        elif value is None:
            data[field] = ""
        else:
            data[field] = str(value)
    return data


def _console_add(console, model: str, payload: dict, brand):
    return console.post(reverse(f"admin:rewards_{model}_add"), _form_data(payload, brand))


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "change", "field"), REFUSALS)
def test_the_api_and_the_console_refuse_the_same_input_with_the_same_messages(
    api, console, catalogue, model, change, field
):
    klass, url = MODELS[model]
    before = klass.objects.count()
    payload = {**VALID[model], **change}
    refused = api.post(url, payload, format="json")
    assert refused.status_code == 400, refused.json()
    api_messages = refused.json()["error"]["fields"]
    page = _console_add(console, model, payload, catalogue)
    assert page.status_code == 200
    form_errors = page.context["adminform"].form.errors
    assert field in api_messages and field in form_errors
    assert api_messages[field] == form_errors[field]
    create = getattr(services, f"{SERVICE[model]}_create")
    with pytest.raises(ValidationError) as info:
        create(data={**payload, "brand": catalogue if payload.get("brand") else None})
    assert info.value.message_dict[field] == api_messages[field]
    assert klass.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(MODELS))
def test_the_api_and_the_console_save_the_same_rows(api, console, catalogue, model):
    klass, url = MODELS[model]
    key_field = {"product": "sku", "rewarditem": "key", "rank": "key", "achievementconfig": "achievement_key"}[model]
    by_api = {**VALID[model], key_field: "by-api"}
    by_console = {**VALID[model], key_field: "by-console"}
    if model == "rank":
        by_console["points_required"] = 9001
    assert api.post(url, by_api, format="json").status_code == 201
    assert _console_add(console, model, by_console, catalogue).status_code == 302
    fields = [f for f in services.CATALOGUE_FIELDS[klass] if f not in (key_field, "points_required")]
    rows = [klass.objects.filter(**{key_field: key}).values(*fields).get() for key in ("by-api", "by-console")]
    assert rows[0] == rows[1]


@pytest.mark.django_db
def test_updates_through_both_doors_are_validated_by_the_service(api, console, catalogue, ranks):
    silver = ranks[1]
    patched = api.patch(f"/api/v1/ranks/{silver.pk}/", {"point_multiplier": "7.00"}, format="json")
    assert patched.status_code == 400 and "point_multiplier" in patched.json()["error"]["fields"]
    data = _form_data({**VALID["rank"], "key": "silver", "points_required": 500, "point_multiplier": "7.00"}, catalogue)
    page = console.post(reverse("admin:rewards_rank_change", args=[silver.pk]), data)
    assert page.status_code == 200 and "point_multiplier" in page.context["adminform"].form.errors
    silver.refresh_from_db()
    assert str(silver.point_multiplier) == "1.50"
    ok = api.patch(f"/api/v1/ranks/{silver.pk}/", {"name": "Silver+"}, format="json")
    assert ok.status_code == 200 and Rank.objects.get(pk=silver.pk).name == "Silver+"
    data["point_multiplier"] = "1.75"
    assert console.post(reverse("admin:rewards_rank_change", args=[silver.pk]), data).status_code == 302
    assert str(Rank.objects.get(pk=silver.pk).point_multiplier) == "1.75"


@pytest.mark.django_db
def test_the_console_list_toggle_goes_through_the_service(console, catalogue, product):
    url = reverse("admin:rewards_product_changelist")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "_save": "Save",
    }  # is_active unchecked
    assert console.post(url, data).status_code == 302
    assert Product.objects.get(pk=product.pk).is_active is False


@pytest.mark.django_db
def test_a_product_in_use_is_not_deleted_through_either_door(api, console, catalogue, product, make_member):
    services.product_scan(user=make_member(), sku=product.sku)
    refused = api.delete(f"/api/v1/products/{product.pk}/")
    assert refused.status_code == 409 and "deactivate it instead" in refused.json()["error"]["message"]
    console.post(reverse("admin:rewards_product_delete", args=[product.pk]), {"post": "yes"})
    with pytest.raises(Conflict):
        services.product_delete(product=product)
    assert Product.objects.filter(pk=product.pk).exists()
    spare = services.product_create(data={**VALID["product"], "brand": catalogue})
    assert console.post(reverse("admin:rewards_product_delete", args=[spare.pk]), {"post": "yes"}).status_code == 302
    assert not Product.objects.filter(pk=spare.pk).exists()
    other = services.product_create(data={**VALID["product"], "sku": "NEW-2", "brand": catalogue})
    assert api.delete(f"/api/v1/products/{other.pk}/").status_code == 204
    assert not Product.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_a_rank_members_hold_is_not_deleted(api, catalogue, ranks, make_member):
    services.member_enrol(user=make_member())
    refused = api.delete(f"/api/v1/ranks/{ranks[0].pk}/")
    assert refused.status_code == 409 and "Members hold this rank" in refused.json()["error"]["message"]
    assert api.delete(f"/api/v1/ranks/{ranks[2].pk}/").status_code == 204


@pytest.mark.django_db
def test_unknown_fields_are_refused_by_the_service(catalogue):
    with pytest.raises(ValidationError) as info:
        services.product_create(data={**VALID["product"], "brand": catalogue, "id": 5})
    assert info.value.message_dict == {"id": ["Unknown field."]}
