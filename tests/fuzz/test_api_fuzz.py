"""The API fuzzer: schemathesis over the whole OpenAPI schema against a live server.

All four phases run — examples, coverage (boundary and invalid values of every field),
fuzzing, and stateful sequences that follow the schema's links from each create to the
record's own operations — with two checks: no answer is a server error (5xx), and every
answer matches the schema documented for its status. Staff operations run with a staff
superuser's token, the member's own operations (wallet, goals, scans, redemptions …) with a
member's token, on the demo data.

Bounded in time: ``FUZZ_MAX_TIME`` seconds (default 210) for the whole run. Not part of the
default test run (marker ``fuzz``): ``make fuzz`` and CI run it as a step of its own.

Left out: ``DELETE /api/v1/me/`` (erasing the fuzzer's own account) and
``DELETE /api/v1/auth/token/`` (revoking its token) would end the run; their own tests cover them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz.data import prepare

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "210"))
SEED = os.environ.get("FUZZ_SEED", "20261129")

MEMBER_OPERATIONS = [
    r"^/api/v1/me/(wallet|transactions|daily-reward|achievements|wishlist|goals|referrals|referral-code)/",
    r"^/api/v1/scans/$",
    r"^/api/v1/redemptions/$",
    r"^/api/v1/redemptions/\{id\}/$",
]
LEFT_OUT = ["v1_me_destroy", "v1_auth_token_destroy"]


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def render_config(data) -> str:
    lines = [
        "# Written by tests/fuzz/test_api_fuzz.py for one run.",
        f"headers = {{ Authorization = {toml_string('Token ' + data.staff_token)} }}",
        "",
    ]
    for pattern in MEMBER_OPERATIONS:
        lines += [
            "[[operations]]",
            f"include-path-regex = {toml_string(pattern)}",
            f"headers = {{ Authorization = {toml_string('Token ' + data.member_token)} }}",
            "",
        ]
    for path, values in data.parameters.items():
        params = ", ".join(f"{name} = {toml_string(value)}" for name, value in values.items())
        lines += [
            "[[operations]]",
            f"include-path = {toml_string(path)}",
            'include-method = "GET"',
            f"parameters = {{ {params} }}",
            "",
        ]
    # Operations without examples in the schema get generated ones, so the examples phase runs for all.
    lines += ["[phases.examples]", "fill-missing = true", ""]
    return "\n".join(lines)


@pytest.fixture
def quiet_request_log():
    """Thousands of 4xx answers are expected: log only server errors while the fuzzer runs."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_the_fuzzer_finds_no_server_error_and_no_answer_outside_the_schema(live_server, tmp_path, quiet_request_log):
    data = prepare()
    config = tmp_path / "schemathesis.toml"
    config.write_text(render_config(data))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-time",
        str(MAX_TIME),
        "--workers",
        "1",
        "--seed",
        SEED,
        "--request-timeout",
        "30",
        *[arg for operation_id in LEFT_OUT for arg in ("--exclude-operation-id", operation_id)],
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=MAX_TIME + 600, check=False
    )
    output = completed.stdout + completed.stderr
    if os.environ.get("FUZZ_LOG"):
        Path(os.environ["FUZZ_LOG"]).write_text(output)
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-4000:]
    print(f"schemathesis ran {time.monotonic() - started:.0f}s (seed {SEED})\n{summary}")
    assert completed.returncode == 0, _failures(output)
    assert re.search(r"Tested: \d+", output), "the fuzzer tested no operation"


def _failures(output: str) -> str:
    """The failures and errors sections of the run (what to fix), not the whole log."""
    start = min((i for i in (output.find("= ERRORS ="), output.find("= FAILURES =")) if i >= 0), default=0)
    return output[start : start + 20000]
