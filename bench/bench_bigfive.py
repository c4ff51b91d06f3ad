"""Big Five: a submission with all its effects applied, against /healthz; the scoring function's cost.

* ``POST /api/v1/assessments/big-five/`` with a new email each time (person created on channel 1,
  120 answers validated and scored, insights written, result + one ``engagement.result_recorded``
  job stored), against ``GET /healthz`` of the same gunicorn server (2 workers, persistent database
  connections, Redis cache) in the same run. **All effects eventually applied**: a task worker
  (``manage.py procrastinate worker``, running during the whole measurement on the same 2 cores)
  applies every other app's reaction — membership and gems, stitching and the conversion, outbox
  rows, the event, the verification email — and the clock stops when the queue is empty. Also
  reported: the rate the requests alone were answered at, and the worker's drain rate.
* Statements per request and per job, counted in this process with Django's query capture (one new
  customer through the test client, then the worker's jobs).
* ``scoring.score`` (raw sums, T-scores, percentiles, levels for 5 domains and 30 facets) per result,
  against serialising the same answers with ``json.dumps``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid

from common import ROOT, Result, live_server, per_call, throughput

SETS = 50
DURATION = 5.0
# Production-like: persistent connections, Redis cache (db 10), email kept in memory (no SMTP here).
ENV = {
    "DB_CONN_MAX_AGE": "600",
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10"),
    "EMAIL_URL": "memorymail://",
}


def _pending_jobs() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        return cursor.fetchone()[0]


def _statements(answers: dict) -> tuple[int, int, int]:
    """(statements of one new customer's request, statements of its jobs, jobs) in this process."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from focusedroom.tasks import run_jobs

    client = Client(HTTP_HOST="127.0.0.1")
    with override_settings(TASKS_EAGER=False):
        while _pending_jobs():
            run_jobs()
        body = {"answers": answers, "email": f"count.{uuid.uuid4().hex[:10]}@example.com", "age": 30, "sex": "F"}
        with CaptureQueriesContext(connection) as request_queries:
            response = client.post("/api/v1/assessments/big-five/", body, content_type="application/json")
        assert response.status_code == 201, response.content
        jobs = _pending_jobs()
        with CaptureQueriesContext(connection) as job_queries:
            run_jobs()
    return len(request_queries.captured_queries), len(job_queries.captured_queries), jobs


def _drain_until_empty(timeout: float = 600) -> float:
    started = time.monotonic()
    while _pending_jobs():
        if time.monotonic() - started > timeout:
            raise RuntimeError("the task worker did not drain the queue")
        time.sleep(0.05)
    return time.monotonic()


def run() -> list[Result]:
    from engagement.bigfive import scoring
    from engagement.bigfive.inventory import ITEMS

    rng = random.Random(5)
    answer_sets = [{item.id: rng.randint(1, 5) for item in ITEMS} for _ in range(SETS)]
    score_s = per_call(lambda: [scoring.score(answers=a, sex="F", age=30) for a in answer_sets], repeat=30) / SETS
    json_s = per_call(lambda: [json.dumps(a) for a in answer_sets], repeat=30) / SETS
    request_statements, job_statements, jobs_per_submission = _statements(answer_sets[0])

    run_id = uuid.uuid4().hex[:8]
    url_path = "/api/v1/assessments/big-five/"
    sent = [0]
    lock = threading.Lock()

    def new_customer(i: int) -> dict:
        with lock:
            sent[0] += 1
        return {"answers": answer_sets[i % SETS], "email": f"bench.{run_id}.{i}@example.com", "age": 30, "sex": "F"}

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "focusedroom.settings", **ENV}
    with live_server(workers=2, env=ENV) as url:
        health = throughput(url + "/healthz", concurrency=4, duration=DURATION)
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker", "--concurrency", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            started = time.monotonic()
            answered = throughput(
                url + url_path, method="POST", body_factory=new_customer, concurrency=4, duration=DURATION
            )
            requests_done = time.monotonic()
            drained = _drain_until_empty()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    submissions = sent[0]
    applied = submissions / (drained - started)
    backlog_s = drained - requests_done
    return [
        Result(
            "POST big-five (new customer, all effects applied)",
            applied,
            "/s",
            "GET /healthz",
            health,
            f"{submissions} submissions from 4 clients for {DURATION:.0f} s, clock stopped when the worker "
            f"(running alongside, same 2 cores) had applied every effect ({backlog_s:.1f} s after the last "
            f"answer); {request_statements} statements per request, {job_statements} in "
            f"{jobs_per_submission}+ jobs per submission",
        ),
        Result(
            "POST big-five (new customer), answers only",
            answered,
            "req/s",
            "GET /healthz",
            health,
            "the request's own rate while the worker runs beside it (effects applied later)",
        ),
        Result(
            "Big Five scoring per result",
            score_s * 1e6,
            "µs",
            "json.dumps(answers)",
            json_s * 1e6,
            "scoring.score: 5 domains + 30 facets; lower is better",
            higher_is_better=False,
        ),
    ]
