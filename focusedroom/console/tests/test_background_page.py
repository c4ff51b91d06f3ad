"""The console's Background work page: who sees it, what it shows, in a bounded number of queries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.roles import sync_roles
from accounts.tests.factories import StaffFactory
from focusedroom import tasks
from focusedroom.models import TaskFailure

FAILS: list[int] = []


@app.task(name="focusedroom.tests.always_fails", queue="tests")
def always_fails(*, n: int) -> None:
    FAILS.append(n)
    raise RuntimeError(f"provider said no to {n}")


def staff_in(role: str):
    sync_roles()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def ops_client(client, task_queue):
    client.force_login(staff_in("Ops"))
    return client


def test_marketing_and_support_staff_may_not_see_background_work(client, task_queue):
    for role in ("Marketing", "Support"):
        client.force_login(staff_in(role))
        assert client.get(reverse("admin:background")).status_code == 403
    client.logout()
    assert client.get(reverse("admin:background")).status_code == 302  # to the log-in page


def test_a_failed_job_is_shown_with_its_error_and_can_be_retried_by_ops(ops_client):
    FAILS.clear()
    for n in range(3):
        with transaction.atomic():
            tasks.defer("focusedroom.tests.always_fails", n=n)
    tasks.run_jobs(queues=["tests"])
    assert sorted(FAILS) == [0, 1, 2]
    failure = TaskFailure.objects.get(task_name="focusedroom.tests.always_fails", error__contains="no to 1")
    assert (failure.attempt, failure.error) == (1, "RuntimeError: provider said no to 1")
    page = ops_client.get(reverse("admin:background"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "RuntimeError: provider said no to 2" in html
    assert "rewards.audit" in html and "0 3 * * *" in html  # every periodic job with its schedule
    queues = {q["name"]: q for q in page.context["overview"]["queues"]}
    assert queues["tests"] == {"name": "tests", "todo": 0, "doing": 0, "failed": 3}
    response = ops_client.post(reverse("admin:background_retry", args=[failure.job_id]))
    assert response.status_code == 302
    retried = ProcrastinateJob.objects.filter(task_name="focusedroom.tests.always_fails", status="todo").get()
    assert retried.args == {"n": 1}


def test_a_job_that_did_not_fail_cannot_be_retried(ops_client):
    with transaction.atomic():
        tasks.defer("focusedroom.tests.always_fails", n=9)
    job = ProcrastinateJob.objects.get(task_name="focusedroom.tests.always_fails")
    response = ops_client.post(reverse("admin:background_retry", args=[job.pk]), follow=True)
    assert "Only a failed job can be retried." in response.content.decode()
    assert ProcrastinateJob.objects.filter(task_name="focusedroom.tests.always_fails").count() == 1


def test_the_page_reads_in_a_fixed_number_of_queries(ops_client, django_assert_max_num_queries):
    tasks.defer_periodic(timestamp=1_795_996_800)  # 2026-11-30 03:00 UTC: several periodic jobs
    for n in range(30):
        with transaction.atomic():
            tasks.defer("focusedroom.tests.always_fails", n=n)
    tasks.run_jobs()
    with django_assert_max_num_queries(12):
        assert ops_client.get(reverse("admin:background")).status_code == 200
