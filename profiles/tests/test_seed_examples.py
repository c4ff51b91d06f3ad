"""Seed 003's usage examples 1–10, run verbatim against the database.

Each query is copied from the seed as written; only its ``$n`` placeholders are replaced by
the values the seed's TypeScript passes (inlined as SQL literals the way ``node-postgres``
sends them: arrays as ``'{"a","b"}'``, objects as JSON text, numbers as they are).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tests.factories import StaffFactory
from profiles.models import Budget, ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import BEHAVIOR, DEMOGRAPHICS, PERSONA, make_budget, make_guidelines, make_profile

pytestmark = pytest.mark.django_db

ACCOUNT = "acct-seed-003"


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list):  # node-postgres sends a JS array as an array literal
        value = "{" + ",".join(json.dumps(str(item)) for item in value) + "}"
    return "'" + str(value).replace("'", "''") + "'"


def run(query: str, *params) -> list[dict]:
    """The seed's query with ``$1``, ``$2`` … inlined; the rows as dicts (``result.rows``)."""
    inlined = re.sub(r"\$(\d+)", lambda m: literal(params[int(m.group(1)) - 1]), query)
    with connection.cursor() as cursor:
        cursor.execute(inlined.replace("%", "%%"))
        if cursor.description is None:
            return []
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


EXAMPLE_1 = """
    INSERT INTO target_customer_profiles (
      name, account_id, demographics, interests, behavior, persona, metadata
    ) VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING *;
  """

EXAMPLE_2 = """
    SELECT *
    FROM target_customer_profiles
    WHERE account_id = $1
      AND deleted_at IS NULL
      AND demographics->'ageRange'->>'min' >= $2
      AND demographics->'ageRange'->>'max' <= $3;
  """

EXAMPLE_3 = """
    INSERT INTO customer_profile_containers (
      account_id, name, customer_profile_id, brand_guidelines_id, budget_id, is_default
    ) VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING *;
  """

EXAMPLE_4 = """
    SELECT
      c.*,
      cp.* as customer_profile,
      bg.* as brand_guidelines,
      b.* as budget
    FROM customer_profile_containers c
    LEFT JOIN target_customer_profiles cp ON c.customer_profile_id = cp.id
    LEFT JOIN brand_guidelines bg ON c.brand_guidelines_id = bg.id
    LEFT JOIN budgets b ON c.budget_id = b.id
    WHERE c.id = $1 AND c.deleted_at IS NULL;
  """

EXAMPLE_5 = """
    INSERT INTO campaign_profile_usage (
      campaign_id, container_id, account_id, usage_type, is_active
    ) VALUES ($1, $2, $3, 'CONTAINER', true)
    ON CONFLICT (campaign_id) WHERE is_active = true
    DO UPDATE SET
      container_id = EXCLUDED.container_id,
      updated_at = CURRENT_TIMESTAMP
    RETURNING *;
  """

EXAMPLE_6 = """
    SELECT
      (SELECT COUNT(*) FROM target_customer_profiles WHERE account_id = $1 AND deleted_at IS NULL) as customer_profiles_count,
      (SELECT COUNT(*) FROM brand_guidelines WHERE account_id = $1 AND deleted_at IS NULL) as brand_guidelines_count,
      (SELECT COUNT(*) FROM budgets WHERE account_id = $1 AND deleted_at IS NULL) as budgets_count;
  """

EXAMPLE_7 = """
    UPDATE budgets
    SET amount_spent = $2
    WHERE id = $1
    RETURNING *;
  """

EXAMPLE_8 = """
    UPDATE target_customer_profiles
    SET deleted_at = CURRENT_TIMESTAMP,
        updated_by = $2
    WHERE id = $1
    RETURNING *;
  """

EXAMPLE_9 = """
    SELECT *
    FROM target_customer_profiles
    WHERE account_id = $1
      AND deleted_at IS NULL
      AND (
        name ILIKE $2
        OR description ILIKE $2
        OR interests && ARRAY[$3]
        OR demographics::text ILIKE $2
      )
    ORDER BY created_at DESC
    LIMIT 20;
  """

EXAMPLE_10 = """
    SELECT
      (SELECT COUNT(*) FROM target_customer_profiles WHERE account_id = $1 AND deleted_at IS NULL) as total_profiles,
      (SELECT COUNT(*) FROM brand_guidelines WHERE account_id = $1 AND deleted_at IS NULL) as total_guidelines,
      (SELECT COUNT(*) FROM budgets WHERE account_id = $1 AND deleted_at IS NULL) as total_budgets,
      (SELECT COUNT(*) FROM customer_profile_containers WHERE account_id = $1 AND deleted_at IS NULL) as total_containers,
      (SELECT SUM(amount) FROM budgets WHERE account_id = $1 AND status = 'ACTIVE' AND deleted_at IS NULL) as total_active_budget,
      (SELECT COUNT(*) FROM campaign_profile_usage WHERE account_id = $1 AND is_active = true) as total_campaign_usage;
  """


def test_seed_003_usage_examples_1_to_10_run_verbatim():
    staff = StaffFactory()

    # 6 (first): a first-time user has nothing yet.
    counts = run(EXAMPLE_6, ACCOUNT)[0]
    assert counts == {"customer_profiles_count": 0, "brand_guidelines_count": 0, "budgets_count": 0}

    # 1: create a target customer profile (interests as a TEXT[] array, documents as JSON text).
    profile_data = {
        "name": "Yoga lovers",
        "demographics": DEMOGRAPHICS,
        "interests": ["yoga", "wellness"],
        "behavior": BEHAVIOR,
        "persona": PERSONA,
    }
    created = run(
        EXAMPLE_1,
        profile_data["name"],
        ACCOUNT,
        json.dumps(profile_data["demographics"]),
        profile_data["interests"],
        json.dumps(profile_data["behavior"]),
        json.dumps(profile_data["persona"]),
        json.dumps(profile_data.get("metadata") or {}),
    )[0]
    assert created["interests"] == ["yoga", "wellness"] and created["version"] == 1
    assert json.loads(created["demographics"])["ageRange"] == {"min": 25, "max": 40}  # jsonb comes back as text
    assert TargetCustomerProfile.objects.get(pk=created["id"]).persona == PERSONA

    # 2: JSONB filtering by age range (text comparison, as the seed writes it).
    found = run(EXAMPLE_2, ACCOUNT, str(25), str(40))
    assert [row["id"] for row in found] == [created["id"]]

    # 3: a complete container from the three parts.
    guidelines = make_guidelines(account_id=ACCOUNT)
    budget = make_budget(account_id=ACCOUNT)
    container = run(EXAMPLE_3, ACCOUNT, "Default campaign", created["id"], guidelines.pk, budget.pk, False)[0]
    assert container["customer_profile_id"] == created["id"] and container["is_default"] is False
    assert ProfileContainer.objects.get(pk=container["id"]).is_complete

    # 4: the container with every part joined.
    joined = run(EXAMPLE_4, container["id"])
    assert len(joined) == 1 and joined[0]["brand_name"] == guidelines.brand_name
    assert joined[0]["amount"] == budget.amount

    # 5: usage upsert, twice for one campaign: one active row, pointing at the latest container.
    first = run(EXAMPLE_5, "campaign-42", container["id"], ACCOUNT)[0]
    again = run(EXAMPLE_5, "campaign-42", container["id"], ACCOUNT)[0]
    assert first["id"] == again["id"] and again["usage_type"] == "CONTAINER" and again["is_active"] is True

    # 6: no longer a first-time user.
    counts = run(EXAMPLE_6, ACCOUNT)[0]
    assert counts == {"customer_profiles_count": 1, "brand_guidelines_count": 1, "budgets_count": 1}

    # 7: spend; the database derives what remains and the percentage.
    spent = run(EXAMPLE_7, budget.pk, 250)[0]
    assert spent["amount_remaining"] == Decimal("750.00") and spent["percentage_spent"] == Decimal("25.00")
    assert Budget.objects.get(pk=budget.pk).version == 2

    # 8: soft delete a profile no container uses, recording who did it.
    spare = make_profile(account_id=ACCOUNT, name="Spare", interests=["chess"])
    deleted = run(EXAMPLE_8, spare.pk, staff.pk)[0]
    assert deleted["deleted_at"] is not None and deleted["updated_by"] == staff.pk
    assert TargetCustomerProfile.all_objects.get(pk=spare.pk).updated_by == staff

    # 9: full-text search, matching an interest through TEXT[] && ARRAY[text].
    term = "wellness"
    assert [row["id"] for row in run(EXAMPLE_9, ACCOUNT, f"%{term}%", term)] == [created["id"]]
    assert run(EXAMPLE_9, ACCOUNT, "%chess%", "chess") == []  # the spare profile is soft-deleted

    # 10: the account's summary.
    summary = run(EXAMPLE_10, ACCOUNT)[0]
    assert summary == {
        "total_profiles": 1,
        "total_guidelines": 1,
        "total_budgets": 1,
        "total_containers": 1,
        "total_active_budget": budget.amount,
        "total_campaign_usage": 1,
    }


def test_the_array_columns_are_text_arrays_as_the_seed_declares():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, udt_name FROM information_schema.columns "
            "WHERE column_name IN ('interests', 'brand_values', 'campaign_ids') ORDER BY table_name"
        )
        assert cursor.fetchall() == [
            ("brand_guidelines", "brand_values", "_text"),
            ("budgets", "campaign_ids", "_text"),
            ("target_customer_profiles", "interests", "_text"),
        ]
