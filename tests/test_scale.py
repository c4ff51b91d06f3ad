"""Realistic scale: the bulk (set-based SQL) path of ``seed_demo`` and the console over big tables.

The bulk path normally starts at ``focusedroom.bulk.BULK_MIN_SCALE`` customers; these tests
lower the threshold to run it on 200 customers.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import focusedroom.admin_tools
import focusedroom.bulk
from accounts.models import User
from engagement.models import Event, QuizResult
from experiments.models import Conversion, Impression, Participation
from rewards import services as rewards_services
from rewards.models import LedgerEntry, Referral, Wallet

SCALE = 200


@pytest.fixture
def bulk(monkeypatch):
    monkeypatch.setattr(focusedroom.bulk, "BULK_MIN_SCALE", 0)


def _counts() -> dict[str, int]:
    models = [User, QuizResult, Event, Participation, Impression, Conversion, Wallet, LedgerEntry, Referral]
    return {m._meta.label: m._default_manager.count() for m in models}


def _one(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


@pytest.mark.django_db
def test_bulk_seed_is_coherent_and_idempotent(bulk):
    call_command("seed_demo", scale=SCALE, stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("seed_demo", scale=SCALE, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first  # running twice adds nothing

    customers = User.all_objects.filter(email__startswith="demo.customer")
    assert customers.count() == SCALE
    assert customers.filter(email="demo.customer00200@example.com").exists()

    # Big Five: most customers, some returning, report_id 1..k per customer, anonymous tests.
    tested, bad_numbering = _one(
        """
        SELECT count(*), count(*) FILTER (WHERE min_id <> 1 OR max_id <> n)
        FROM (SELECT customer_id, min(report_id) AS min_id, max(report_id) AS max_id, count(*) AS n
              FROM engagement_quizresult WHERE customer_id IS NOT NULL GROUP BY customer_id) AS per_customer
        """
    )
    assert SCALE * 0.6 < tested < SCALE
    assert bad_numbering == 0
    assert QuizResult.objects.filter(customer__isnull=False, report_id__gte=2).exists()
    assert QuizResult.objects.filter(customer__isnull=True).count() == SCALE // 5
    assert QuizResult.objects.values("public_id").distinct().count() == QuizResult.objects.count()

    # About ten events per customer, every customer has some, one quiz_completed per result.
    per_customer = Event.objects.filter(user__isnull=False).count() / SCALE
    assert 8 <= per_customer <= 12
    assert (
        _one(
            "SELECT count(*) FROM accounts_user u WHERE NOT EXISTS "
            "(SELECT 1 FROM engagement_event e WHERE e.user_id = u.id)"
        )[0]
        == 0
    )
    assert (
        Event.objects.filter(event_type="quiz_completed").count()
        == QuizResult.objects.filter(customer__isnull=False).count()
    )

    # Experiment traffic: impressions for every participant, conversions only for participants.
    assert Participation.objects.count() > 0
    assert Impression.objects.count() >= Participation.objects.count()
    assert Conversion.objects.count() == Participation.objects.filter(has_converted=True).count()

    # Gems: every wallet matches its ledger; converted referrals credited both sides.
    run = rewards_services.rewards_audit(store=False)
    assert run.is_clean, run.details
    assert run.wallets_checked == Wallet.objects.count() > 0
    converted = Referral.objects.filter(status="converted").count()
    assert converted > 0
    assert LedgerEntry.objects.filter(reason__startswith="referral_").count() == 2 * converted


BIG_TABLES = [
    "admin:accounts_customer_changelist",
    "admin:accounts_user_changelist",
    "admin:engagement_event_changelist",
    "admin:engagement_quizresult_changelist",
    "admin:experiments_participation_changelist",
    "admin:experiments_impression_changelist",
    "admin:experiments_conversion_changelist",
    "admin:rewards_wallet_changelist",
    "admin:rewards_ledgerentry_changelist",
    "admin:rewards_referral_changelist",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", BIG_TABLES)
def test_big_changelists_run_fixed_queries_without_count(bulk, monkeypatch, client, name):
    monkeypatch.setattr(focusedroom.admin_tools, "EXACT_COUNT_LIMIT", 0)  # behave as with millions of rows
    admin = User.objects.create_superuser(email="scale.admin@example.com", password="x")
    client.force_login(admin)
    url = reverse(name)

    def measure() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    call_command("seed_demo", scale=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    small = measure()
    call_command("seed_demo", scale=120, stdout=open("/dev/null", "w"))  # noqa: SIM115
    large = measure()
    assert len(large) == len(small)
    assert not [sql for sql in large if 'COUNT(*) AS "__COUNT"' in sql.upper()]  # no paginator count
    assert any(sql.startswith("EXPLAIN") for sql in large)  # the estimate replaced the count
