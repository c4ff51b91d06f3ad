"""The cluster: two web processes behind a round-robin proxy, two task workers, a primary with a
streaming standby, and traffic over both web processes while one worker is killed mid-delivery.

Afterwards nothing is lost or duplicated: every outbox message was applied exactly once per
idempotency key by the fake Customer.io, the ledger audit is clean, participations are unique.
Runs in CI (``make test``) in about two minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from engagement.tests.helpers import random_answers
from focusedroom.processes import ROOT, RoundRobinProxy, child_env, free_port, start_web, start_worker, wait_for_port
from integrations.fakes import FakeCustomerIO
from integrations.models import ulid

pytestmark = pytest.mark.cluster
TIMEOUT = 150  # seconds per request: the machine running CI may be busy with other work

SETUP = r"""
import json
import django
django.setup()
from decimal import Decimal
from accounts.models import Brand
from accounts.selectors import DEFAULT_BRAND_SLUG
from accounts.services import reference_data_ensure
from accounts.tests.factories import CustomerFactory
from experiments import services as experiments
from rewards.models import Product

reference_data_ensure()
brand = Brand.objects.get(slug=DEFAULT_BRAND_SLUG)
brand.customer_io_site_id, brand.customer_io_api_key = "cluster-site", "cluster-key"
brand.save()
experiment = experiments.experiment_create(
    data={"name": "Cluster landing", "key": "cluster-landing"},
    variants=[{"name": "control", "weight": Decimal("0.5")}, {"name": "b", "weight": Decimal("0.5")}],
)
experiments.experiment_start(experiment=experiment)
Product.objects.create(brand=brand, sku="CLUSTER-1", name="Cluster mug", msrp=10, points_award=5)
members = [CustomerFactory(password="correct-horse-42", marketing_opt_in=True).email for _ in range(6)]
print(json.dumps({"members": members, "brand": brand.slug}))
"""

WAKE = r"""
import django
django.setup()
from focusedroom import tasks
tasks.defer_once("focusedroom.retry_stalled_jobs", queueing_lock="focusedroom.retry_stalled_jobs", timestamp=0)
tasks.defer_once("integrations.sweep_outbox", queueing_lock="integrations.sweep_outbox", timestamp=0)
"""


def _wait_in_flight(cio: FakeCustomerIO, worker, *, timeout: float) -> bool:
    """Wait until ``worker`` has a request that the fake applied and is holding the answer of."""
    import psutil

    deadline = time.monotonic() + timeout
    process = psutil.Process(worker.process.pid)
    while time.monotonic() < deadline:
        ports = {c.laddr.port for c in process.net_connections(kind="tcp") if c.laddr}
        if ports & cio.in_flight:
            return True
        time.sleep(0.02)
    return False


def _python(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_traffic_over_two_web_processes_with_a_worker_killed_loses_and_duplicates_nothing(pg_pair, tmp_path):
    started = time.monotonic()
    with FakeCustomerIO(site_id="cluster-site", api_key="cluster-key") as cio:
        env = child_env(
            database_url=pg_pair.url("primary"),
            replica_url=pg_pair.url("standby"),
            settings_module="focusedroom.settings",
            DJANGO_ENV="test",
            TASKS_EAGER="false",
            CUSTOMERIO_TRACK_URL=cio.url,
            INTEGRATIONS_HTTP_TIMEOUT=2,
            OUTBOX_LEASE_SECONDS=6,
            TASKS_HEARTBEAT_SECONDS=0.5,
            TASKS_STALLED_SECONDS=2,
            ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        setup = json.loads(_python(SETUP, env).strip().splitlines()[-1])
        timings = {"setup": time.monotonic() - started}
        ports = [free_port(), free_port()]
        webs = [
            start_web(name=f"web-{i}", env=env, log_dir=tmp_path, port=port, workers=1) for i, port in enumerate(ports)
        ]
        workers = [
            start_worker(name=f"worker-{i}", env=env, log_dir=tmp_path, queues="outbox,maintenance") for i in (1, 2)
        ]
        children = [*webs, *workers]
        try:
            for web, port in zip(webs, ports, strict=True):
                wait_for_port(port, child=web)
            timings["web up"] = time.monotonic() - started
            with RoundRobinProxy(ports) as proxy:
                base = f"http://127.0.0.1:{proxy.port}/api/v1"
                statuses: list[int] = []

                def bigfive(i: int) -> None:
                    email = f"cluster{i % 14}@example.com"  # 6 of them come back for a second test
                    body = {"answers": {str(k): v for k, v in random_answers(i).items()}, "email": email}
                    statuses.append(
                        requests.post(f"{base}/assessments/big-five/", json=body, timeout=TIMEOUT).status_code
                    )

                def visitor(i: int) -> None:
                    with requests.Session() as session:  # the visitor's cookie: two exposures, one participation
                        session.headers["Connection"] = "close"  # each request a new connection: either web process
                        for _ in range(2):
                            r = session.post(f"{base}/experiments/cluster-landing/exposures/", json={}, timeout=TIMEOUT)
                            statuses.append(r.status_code)

                def member(email: str) -> None:
                    r = requests.post(
                        f"{base}/auth/token/", json={"email": email, "password": "correct-horse-42"}, timeout=60
                    )
                    statuses.append(r.status_code)
                    headers = {"Authorization": f"Token {r.json().get('token')}"}
                    for _ in range(2):  # the second scan the same day awards nothing
                        scan = {"sku": "CLUSTER-1", "brand": setup["brand"]}
                        statuses.append(
                            requests.post(f"{base}/scans/", json=scan, headers=headers, timeout=TIMEOUT).status_code
                        )

                cio.reply_delay = 1.5  # under the 2 s HTTP timeout: a request is applied, its answer waits
                with ThreadPoolExecutor(8) as pool:
                    traffic = [pool.submit(bigfive, i) for i in range(20)] + [
                        pool.submit(visitor, i) for i in range(12)
                    ]
                    traffic += [pool.submit(member, email) for email in setup["members"][:4]]
                    assert _wait_in_flight(cio, workers[0], timeout=90), workers[0].output()[-3000:]
                    workers[0].kill()  # SIGKILL mid-delivery: its request was applied, it never heard back
                    cio.reply_delay = 0
                    [f.result() for f in traffic]
                timings["traffic"] = time.monotonic() - started
                assert all(200 <= s < 300 for s in statuses), sorted(set(statuses))
                assert min(proxy.counts) > 0, proxy.counts  # both web processes served
            time.sleep(6.5)  # the dead worker's heartbeat is stale and its leases expired
            workers.append(start_worker(name="worker-3", env=env, log_dir=tmp_path, queues="outbox,maintenance"))
            children.append(workers[-1])
            _python(WAKE, env)  # what the every-minute schedule would do, without waiting for the minute
            with psycopg.connect(pg_pair.url("primary"), autocommit=True) as db:
                deadline = time.monotonic() + 90
                query = "SELECT count(*) FROM customer_io_event_queue WHERE status IN ('pending', 'processing')"
                while db.execute(query).fetchone()[0] and time.monotonic() < deadline:
                    time.sleep(0.3)
                assert db.execute(query).fetchone()[0] == 0, workers[-1].output()[-3000:]
                timings["delivered"] = time.monotonic() - started
                rows = db.execute("SELECT id, created_at, status FROM customer_io_event_queue").fetchall()
                duplicates = db.execute(
                    "SELECT count(*) - count(DISTINCT (experiment_id, user_id, anonymous_id)) "
                    "FROM user_experiment_participation"  # (a unique index would refuse them anyway)
                ).fetchone()[0]
                participations = db.execute(
                    "SELECT count(*) FROM user_experiment_participation p JOIN experiments e ON e.id = p.experiment_id "
                    "WHERE e.key = 'cluster-landing'"
                ).fetchone()[0]
        finally:
            for child in children:
                child.stop(5)
        keys = {ulid(timestamp_ms=int(created.timestamp() * 1000), entropy=pk) for pk, created, _ in rows}
        assert {status for _, _, status in rows} == {"sent"}
        assert set(cio.applied_keys) == keys  # nothing lost …
        assert set(cio.applied_keys.values()) == {1}  # … nothing applied twice
        assert sum(cio.replayed_keys.values()) >= 1  # the killed worker's request came again, and changed nothing
        assert duplicates == 0 and participations == 12
    audit = subprocess.run(
        [sys.executable, "manage.py", "rewards_audit", "--no-store"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert pg_pair.wait_for_replay() < 5  # the standby followed all of it
    print(
        f"cluster: {len(rows)} outbox messages, {sum(cio.replayed_keys.values())} redelivered after the kill and "
        f"deduplicated, {participations} participations, {time.monotonic() - started:.0f} s "
        f"({', '.join(f'{k} at {v:.0f} s' for k, v in timings.items())})"
    )
