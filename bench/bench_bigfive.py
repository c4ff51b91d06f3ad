"""Big Five: a submission with all its effects applied, against /healthz; the scoring function's cost.

* ``POST /api/v1/assessments/big-five/`` with a new email each time (person created on channel 1,
  120 answers validated and scored, insights written, result + one ``engagement.result_recorded``
  job stored), against ``GET /healthz`` of the same gunicorn server (2 workers, persistent database
  connections, Redis cache db 10) in the same run, 4 keep-alive clients for 5 s each.
* **All effects eventually applied**: two task workers (``manage.py procrastinate worker``, as a
  deployment runs them beside the web processes) apply the effects while the answers come in and
  until the queue is empty — membership and gems, stitching and the conversion, outbox rows, the
  event, the verification email. The headline rate is submissions / (time from the first answer
  until the last job finished); the answers' own rate, the workers stopped, is reported beside it.
* **The floor**: ``bench/bigfive_floor.py`` adds to a second server one view that only scores the
  answers and stores them with one ``INSERT`` — strictly less than a submission — measured against
  that server's ``GET /healthz``. No submission can reach a higher ratio on the same machine.
* Statements per request and per job, counted in this process with Django's query capture (one new
  customer through the test client, then its jobs run in this thread).
* ``scoring.score`` (raw sums, T-scores, percentiles, levels for 5 domains and 30 facets) per result,
  against serialising the same answers with ``json.dumps``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
import uuid

from common import ROOT, Result, background_process, captured_statements, live_server, per_call, throughput

SETS = 50
WORKERS = 2
# The queues of a submission's effects (the result's announcement, its emails, the outbox deliveries
# it wakes). The benchmark's workers listen to these only, so a periodic job of another queue (an
# audience refresh over a million people) does not run in the middle of the measurement.
QUEUES = ["engagement", "email", "outbox"]
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
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND queue_name = ANY(%s)",
            [QUEUES],
        )
        return cursor.fetchone()[0]


def _statements(answers: dict) -> tuple[int, int, int, float]:
    """(statements of one new customer's request, statements of its jobs, jobs, seconds of the jobs),
    counted in this process: the jobs are run here, in this thread, one by one as a worker would."""
    from django.db import connection
    from django.test import Client, override_settings
    from procrastinate.contrib.django import app

    from focusedroom.tasks import run_jobs

    client = Client(HTTP_HOST="127.0.0.1")
    with override_settings(TASKS_EAGER=False, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        while _pending_jobs():
            run_jobs(queues=QUEUES)
        body = {"answers": answers, "email": f"count.{uuid.uuid4().hex[:10]}@example.com", "age": 30, "sex": "F"}
        with captured_statements() as request_queries:
            response = client.post("/api/v1/assessments/big-five/", body, content_type="application/json")
        assert response.status_code == 201, response.content
        jobs, statements, seconds = 0, 0, 0.0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM procrastinate_jobs WHERE id = (SELECT min(id) FROM procrastinate_jobs "
                    "WHERE status = 'todo' AND queue_name = ANY(%s)) RETURNING task_name, args",
                    [QUEUES],
                )
                row = cursor.fetchone()
            if row is None:
                break
            name, args = row
            started = time.perf_counter()
            with captured_statements() as job_queries:
                app.tasks[name](**(json.loads(args) if isinstance(args, str) else args))
            seconds += time.perf_counter() - started
            jobs += 1
            statements += len(job_queries.captured_queries)
    return len(request_queries.captured_queries), statements, jobs, seconds


def run() -> list[Result]:
    from django.test import override_settings

    from engagement.bigfive import scoring
    from engagement.bigfive.inventory import ITEMS

    rng = random.Random(5)
    answer_sets = [{item.id: rng.randint(1, 5) for item in ITEMS} for _ in range(SETS)]
    score_s = per_call(lambda: [scoring.score(answers=a, sex="F", age=30) for a in answer_sets], repeat=30) / SETS
    json_s = per_call(lambda: [json.dumps(a) for a in answer_sets], repeat=30) / SETS
    request_statements, job_statements, jobs_per_submission, job_seconds = _statements(answer_sets[0])

    run_id = uuid.uuid4().hex[:8]
    url_path = "/api/v1/assessments/big-five/"
    sent = [0]
    lock = threading.Lock()

    def new_customer(i: int) -> dict:
        # Numbered by the submissions sent so far, not by the client's index: the answer-alone phase
        # reuses the indexes, and each submission must be a new customer's.
        with lock:
            sent[0] += 1
            n = sent[0]
        return {"answers": answer_sets[i % SETS], "email": f"bench.{run_id}.{n}@example.com", "age": 30, "sex": "F"}

    from focusedroom.tasks import run_jobs

    def drain() -> None:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            while _pending_jobs():
                run_jobs(queues=QUEUES)

    drain()
    with live_server(workers=2, env=ENV) as url:
        with contextlib.ExitStack() as workers:
            for _ in range(WORKERS):
                workers.enter_context(
                    background_process(
                        "procrastinate", "worker", "--queues", ",".join(QUEUES), env={**ENV, "LOG_LEVEL": "WARNING"}
                    )
                )
            time.sleep(2)  # the workers are listening
            health = throughput(url + "/healthz", concurrency=4, duration=DURATION)
            started = time.monotonic()
            answered = throughput(
                url + url_path, method="POST", body_factory=new_customer, concurrency=4, duration=DURATION
            )
            answering = time.monotonic() - started
            queued = _pending_jobs()
            while _pending_jobs():
                time.sleep(0.05)
            total = time.monotonic() - started
        submissions = sent[0]
        # The workers are stopped: the answers alone, their jobs left waiting (applied below).
        alone = throughput(url + url_path, method="POST", body_factory=new_customer, concurrency=4, duration=DURATION)
    floor_env = {**ENV, "DJANGO_SETTINGS_MODULE": "bigfive_floor_settings", "PYTHONPATH": str(ROOT / "bench")}
    with live_server(workers=2, env=floor_env) as url:
        floor_health = throughput(url + "/healthz", concurrency=4, duration=DURATION)
        floor = throughput(
            url + "/bench-floor/big-five/",
            method="POST",
            body_factory=lambda i: {"answers": answer_sets[i % SETS], "age": 30, "sex": "F"},
            concurrency=4,
            duration=DURATION,
        )
    drain()
    applied = submissions / total
    return [
        Result(
            "POST big-five (new customer, all effects applied)",
            applied,
            "/s",
            "GET /healthz",
            health,
            f"{submissions} submissions (4 clients, {answering:.1f} s) and {WORKERS} task workers applying all "
            f"their effects meanwhile and after ({queued} jobs left when the answers stopped; all done after "
            f"{total:.1f} s); {request_statements} statements per request (throttles included), {job_statements} "
            f"in its {jobs_per_submission} jobs ({job_seconds * 1000:.0f} ms measured in-process)",
        ),
        Result(
            "POST big-five (new customer), the answer only",
            alone,
            "req/s",
            "GET /healthz",
            health,
            f"the request's own rate (person, result, one job) with no task worker running; {answered:,.0f} req/s "
            "while the workers applied the effects",
        ),
        Result(
            "Big Five floor: scoring and one INSERT, nothing else",
            floor,
            "req/s",
            "GET /healthz",
            floor_health,
            "bench/bigfive_floor.py: strictly less than a submission (no person, insights, job, throttle or "
            "serializer; no effects), so no submission can beat this ratio on this machine; baseline from "
            "the same server",
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
