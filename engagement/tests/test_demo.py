"""engagement/demo.py is idempotent and covers returning, anonymous and blog data."""

import pytest
from django.core.management import call_command

from engagement.models import BlogEngagement, QuizResult
from engagement.selectors import data_quality_report

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_is_idempotent(capsys):
    call_command("seed_demo", "--scale", "40")
    counts = (QuizResult.objects.count(), BlogEngagement.objects.count())
    call_command("seed_demo", "--scale", "40")
    assert (QuizResult.objects.count(), BlogEngagement.objects.count()) == counts
    assert QuizResult.objects.filter(customer__isnull=True).count() >= 3
    assert QuizResult.objects.filter(report_id=2).exists()
    assert BlogEngagement.objects.filter(engagement_type="helpful_no").exists()
    assert data_quality_report()["problems"] == []
