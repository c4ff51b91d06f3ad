"""Big Five: submissions through the API against /healthz, and the scoring function's cost per result.

* ``POST /api/v1/assessments/big-five/`` with a new email each time (person created on
  channel 1, 120 answers validated and scored, insights written, result + event stored,
  ``quiz_completed`` receivers run), and with a returning email per client (the person
  row is locked and the next report_id taken), both against ``GET /healthz`` (one
  ``SELECT 1``) of the same gunicorn server in the same run.
* ``scoring.score`` (raw sums, T-scores, percentiles, levels for 5 domains and 30
  facets) per result, against serialising the same answers with ``json.dumps`` — the
  cheapest thing any submission does with its answers.
"""

import json
import random
import uuid

from common import Result, live_server, per_call, throughput

SETS = 50


def run() -> list[Result]:
    from engagement.bigfive import scoring
    from engagement.bigfive.inventory import ITEMS

    rng = random.Random(5)
    answer_sets = [{item.id: rng.randint(1, 5) for item in ITEMS} for _ in range(SETS)]
    score_s = per_call(lambda: [scoring.score(answers=a, sex="F", age=30) for a in answer_sets], repeat=30) / SETS
    json_s = per_call(lambda: [json.dumps(a) for a in answer_sets], repeat=30) / SETS

    run_id = uuid.uuid4().hex[:8]
    url_path = "/api/v1/assessments/big-five/"

    def new_customer(i: int) -> dict:
        return {"answers": answer_sets[i % SETS], "email": f"bench.{run_id}.{i}@example.com", "age": 30, "sex": "F"}

    def returning(i: int) -> dict:
        client = i // 10_000_000  # throughput() numbers requests client * 10_000_000 + n
        return {"answers": answer_sets[i % SETS], "email": f"bench.{run_id}.back{client}@example.com", "age": 41}

    with live_server(workers=2) as url:
        health = throughput(url + "/healthz", concurrency=4, duration=5)
        created = throughput(url + url_path, method="POST", body_factory=new_customer, concurrency=4, duration=5)
        again = throughput(url + url_path, method="POST", body_factory=returning, concurrency=4, duration=5)
    return [
        Result(
            "POST big-five (new customer)",
            created,
            "req/s",
            "GET /healthz",
            health,
            "validate + score + insights + person + result + event, one transaction",
        ),
        Result(
            "POST big-five (returning customer)",
            again,
            "req/s",
            "GET /healthz",
            health,
            "same 4 emails: person row locked, next report_id",
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
