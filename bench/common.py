"""Shared benchmark tools.

Every figure is reported against a baseline measured in the same run, on the same
machine, as a ratio — never as an absolute target, which would be flaky on a shared
machine. Each ``bench/bench_*.py`` module defines ``run() -> list[Result]``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    note: str = ""
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("nan")


def database_url() -> str:
    """A libpq URL for the database Django uses (a TCP host or the embedded server's socket)."""
    from django.db import connection

    from focusedroom.embedded_db import database_url_for

    return database_url_for(connection.settings_dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Redis for the benchmarks (a database of its own; keys under "bench:"). Unset BENCH_REDIS_URL=""
# to measure a deployment without Redis.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def production_env(**extra: str) -> dict[str, str]:
    """What a production deployment runs with: DEBUG off, persistent connections (the default),
    Redis for the cache, the counters and (unless EXPOSURE_BUFFER says otherwise) the exposure buffer."""
    env = {"DEBUG": "false", "DB_CONN_MAX_AGE": "600", "REDIS_URL": BENCH_REDIS_URL, "REDIS_KEY_PREFIX": "bench:"}
    if not BENCH_REDIS_URL:
        env.pop("REDIS_URL")
    return {**env, **extra}


@contextlib.contextmanager
def live_server(*, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve FocusedRoom with gunicorn on 127.0.0.1 (same database as this process), production-like
    (``production_env``) unless ``env`` says otherwise."""
    port = free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "focusedroom.settings", **production_env(), **(env or {})}
    full_env.setdefault("THROTTLE_ANON", "1000000/min")
    full_env.setdefault("THROTTLE_USER", "1000000/min")
    full_env.setdefault("THROTTLE_AUTH", "1000000/min")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "focusedroom.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=full_env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(url + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("benchmark server did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def request(url: str, *, method: str = "GET", body: object = None, headers: dict | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data, headers=hdrs)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def throughput(
    url: str,
    *,
    method: str = "GET",
    body_factory: Callable[[int], object] | None = None,
    headers: dict | None = None,
    concurrency: int = 4,
    duration: float = 5.0,
    expect: tuple[int, ...] = (200, 201),
) -> float:
    """Requests per second from ``concurrency`` keep-alive clients for ``duration`` seconds."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    counts = [0] * concurrency
    errors: list[str] = []
    stop = time.monotonic() + duration

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        n = 0
        while time.monotonic() < stop:
            body = body_factory(i * 10_000_000 + n) if body_factory else None
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            response.read()
            if response.status not in expect:
                errors.append(f"{response.status}")
                if len(errors) > 5:
                    return
            n += 1
        counts[i] = n
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"unexpected statuses from {url}: {errors[:5]}")
    return sum(counts) / (time.monotonic() - started)


def per_call(fn: Callable[[], object], *, repeat: int = 20, warmup: int = 2) -> float:
    """Median seconds per call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextlib.contextmanager
def background_process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run ``manage.py <args>`` beside a live server (a worker), stopped with SIGTERM at the end."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "focusedroom.settings", **production_env(), **(env or {})},
    )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextlib.contextmanager
def captured_statements() -> Iterator[SimpleNamespace]:
    """The statements a block sends, as ``.captured_queries`` once the block is over (Django's
    ``CaptureQueriesContext`` on a query log emptied first), and ``.sent``: how many reached the
    server (an atomic block in which nothing ran is logged as BEGIN/COMMIT; psycopg sends nothing).
    The log keeps the last 9,000 statements: once full (``DEBUG`` logs every statement of a long
    benchmark), a capture that starts at its end sees nothing. The list is copied when the block
    ends: a later capture empties the log again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements = SimpleNamespace(captured_queries=[], sent=0)
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        yield statements
    statements.captured_queries = list(queries.captured_queries)
    sqls = [q["sql"] for q in statements.captured_queries]
    empty = sum(1 for pair in zip(sqls, sqls[1:], strict=False) if pair == ("BEGIN", "COMMIT"))
    statements.sent = len(sqls) - 2 * empty


def statements_per_request(make_request: Callable[[int], object], *, n: int = 50) -> float:
    """SQL statements per request, counted in this process (Django's query log) over ``n`` requests
    of the same code path as the server's, after two warm-up requests."""
    make_request(-1)
    make_request(-2)
    with captured_statements() as queries:
        for i in range(n):
            make_request(i)
    return len(queries.captured_queries) / n
