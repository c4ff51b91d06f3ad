"""API plumbing: an authenticated API read against the trivial health endpoint."""

from common import Result, live_server, throughput


def run() -> list[Result]:
    from accounts import services
    from accounts.models import User

    user, _ = User.objects.get_or_create(email="bench.member@example.com", defaults={"name": "Bench"})
    _, token = services.api_token_create(user=user, name="bench")
    with live_server(workers=2) as url:
        health = throughput(url + "/healthz", concurrency=4, duration=5)
        me = throughput(url + "/api/v1/me/", headers={"Authorization": f"Token {token}"}, concurrency=4, duration=5)
    return [
        Result("GET /api/v1/me/ (token auth)", me, "req/s", "GET /healthz", health, "hashed-token lookup + serializer"),
    ]
