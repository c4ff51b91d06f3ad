"""API plumbing: ``GET /api/v1/me/`` with a token against the health endpoint of the same server.

Production-like (``common.production_env``): DEBUG off, persistent connections, Redis for the cache
and the throttle counters, gunicorn with 2 workers. Statements per request are counted in this
process on the same code path (a warm token: one read of the person's row, one counter in Redis).
"""

from common import BENCH_REDIS_URL, Result, live_server, statements_per_request, throughput


def run() -> list[Result]:
    from django.test import Client, override_settings

    from accounts import services
    from accounts.models import User

    user, _ = User.objects.get_or_create(email="bench.member@example.com", defaults={"name": "Bench"})
    _, token = services.api_token_create(user=user, name="bench")
    with live_server(workers=2) as url:
        health = throughput(url + "/healthz", concurrency=4, duration=5)
        me = throughput(url + "/api/v1/me/", headers={"Authorization": f"Token {token}"}, concurrency=4, duration=5)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    with override_settings(REDIS_URL=BENCH_REDIS_URL, REDIS_KEY_PREFIX="bench:"):
        me_sql = statements_per_request(lambda i: client.get("/api/v1/me/"))
        health_sql = statements_per_request(lambda i: Client().get("/healthz"))
    return [
        Result(
            "GET /api/v1/me/ (token auth)",
            me,
            "req/s",
            "GET /healthz",
            health,
            f"goal ≥ 0.6×; {me_sql:.1f} SQL statements per request (healthz {health_sql:.1f}); "
            "known token: the person's row only, last use written at most once a minute",
        ),
    ]
