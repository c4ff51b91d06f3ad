"""The console's "Background work" page: queues, failures, periodic jobs, workers.

Reads procrastinate's own tables (``procrastinate.contrib.django.models``) and the failures the
workers record (``focusedroom.models.TaskFailure``), in a fixed number of queries whatever the
number of jobs. Staff who may view jobs (the Ops role) see it; retrying a failed job needs the
change permission and goes through ``focusedroom.tasks.job_retry``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import (
    ProcrastinateEvent,
    ProcrastinateJob,
    ProcrastinatePeriodicDefer,
    ProcrastinateWorker,
)

from focusedroom import tasks
from focusedroom.errors import ApplicationError
from focusedroom.models import TaskFailure

VIEW_PERMISSION = "procrastinate.view_procrastinatejob"
RETRY_PERMISSION = "procrastinate.change_procrastinatejob"


def background_overview(*, failures: int = 20) -> dict[str, Any]:
    """Queue depth per queue and status, recent failures, the last run of every periodic job, workers."""
    depth: dict[str, dict[str, int]] = {}
    for row in (
        ProcrastinateJob.objects.filter(status__in=["todo", "doing", "failed"])
        .values("queue_name", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        depth.setdefault(row["queue_name"], {"todo": 0, "doing": 0, "failed": 0})[row["status"]] = row["n"]
    periodic = {p.task.name: p for p in app.periodic_registry.periodic_tasks.values()}
    finished = ProcrastinateEvent.objects.filter(job_id=OuterRef("job_id"), type__in=["succeeded", "failed"])
    last = {
        d.task_name: d
        for d in ProcrastinatePeriodicDefer.objects.filter(task_name__in=periodic)
        .order_by("task_name", "-defer_timestamp")
        .distinct("task_name")
        .select_related("job")
        .annotate(finished_at=Subquery(finished.order_by("-at").values("at")[:1]))
    }
    jobs = []
    for name in sorted(periodic):
        defer = last.get(name)
        jobs.append(
            {
                "task_name": name,
                "cron": periodic[name].cron,
                "last_defer": defer.defer_timestamp if defer else None,
                "status": defer.job.status if defer and defer.job else ("cleaned away" if defer else "never run"),
                "finished_at": defer.finished_at if defer else None,
                "job_id": defer.job_id if defer else None,
            }
        )
    return {
        "queues": [{"name": name, **counts} for name, counts in sorted(depth.items())],
        "failures": list(TaskFailure.objects.all()[:failures]),
        "periodic": jobs,
        "workers": list(ProcrastinateWorker.objects.order_by("-last_heartbeat")[:20]),
    }


@staff_member_required
def background_view(request: HttpRequest, admin_site) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    context = {
        **admin_site.each_context(request),
        "title": "Background work",
        "overview": background_overview(),
        "may_retry": request.user.has_perm(RETRY_PERMISSION),
    }
    return render(request, "admin/background.html", context)


@staff_member_required
@require_POST
def retry_view(request: HttpRequest, job_id: int, admin_site) -> HttpResponse:
    if not request.user.has_perm(RETRY_PERMISSION):
        raise PermissionDenied
    try:
        new_id = tasks.job_retry(job_id=job_id, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Job {job_id} queued again as job {new_id}.")
    return HttpResponseRedirect(reverse("admin:background"))
