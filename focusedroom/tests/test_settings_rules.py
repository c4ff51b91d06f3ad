"""Settings rules, checked in fresh interpreters with controlled environments."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables of the test process that must not leak into the fresh interpreters.
LEAKY = {
    "DATABASE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_ENV",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
}


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in LEAKY}


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-tests",
    "DATABASE_URL": "postgres://focusedroom:pw@127.0.0.1:5432/focusedroom",
    "ALLOWED_HOSTS": "focusedroom.example.com",
}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = clean_environ()
    base["DJANGO_SETTINGS_MODULE"] = "focusedroom.settings"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_with_all_variables_passes_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean_environ(), "DJANGO_SETTINGS_MODULE": "focusedroom.settings", **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_secure():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
        "s.EMAIL_BACKEND.rsplit('.', 1)[-1], s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = run_python(code, PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "EmailBackend", "DatabaseCache"]


def test_email_url_and_redis_cache_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    env = {**PRODUCTION, "EMAIL_URL": "smtp://mailer:pw@smtp.example.com:2525", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    backend, host, port, cache, location = result.stdout.split()
    assert backend == "django.core.mail.backends.smtp.EmailBackend"
    assert (host, port) == ("smtp.example.com", "2525")
    assert cache == "django.core.cache.backends.redis.RedisCache"
    assert "127.0.0.1:6379/3" in location


def test_development_defaults_console_email_and_database_cache():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.EMAIL_BACKEND.rsplit('.', 1)[-1], s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    env = {"DJANGO_ENV": "development", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "EmailBackend", "DatabaseCache"]
    assert (
        "console"
        in run_python(
            "import django; django.setup(); from django.conf import settings as s; print(s.EMAIL_BACKEND)", env
        ).stdout
    )


def test_unknown_environment_name_is_refused():
    result = run_python("import django; django.setup()", {"DJANGO_ENV": "staging"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be" in result.stderr


def test_embedded_database_is_reused_by_a_second_process(tmp_path):
    """Two processes asking for the embedded server get the same running server."""
    code = (
        "from pathlib import Path; from focusedroom.embedded_db import embedded_database_url; import psycopg, sys; "
        "url = embedded_database_url(Path(sys.argv[1])); "
        "print(psycopg.connect(url).execute('select pg_postmaster_start_time()').fetchone()[0])"
    )
    data_dir = str(tmp_path / "pg")
    holder = subprocess.Popen(
        [sys.executable, "-c", code + "; sys.stdout.flush(); sys.stdin.read()", data_dir],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = holder.stdout.readline().strip()
        second = subprocess.run(
            [sys.executable, "-c", code, data_dir], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0, second.stderr
        assert first and second.stdout.strip() == first
    finally:
        holder.communicate(input="", timeout=120)


@pytest.mark.parametrize(
    "settings_dict",
    [
        {
            "NAME": "test_fr",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "OPTIONS": {"host": "/tmp/pg dir"},
        },
        {"NAME": "test_fr", "USER": "app", "PASSWORD": "p@ss", "HOST": "127.0.0.1", "PORT": 5432, "OPTIONS": {}},
    ],
)
def test_database_url_for_round_trips_through_django_environ(settings_dict):
    import environ

    from focusedroom.embedded_db import database_url_for

    parsed = environ.Env.db_url_config(database_url_for(settings_dict))
    host = parsed["HOST"] or parsed.get("OPTIONS", {}).get("host")
    assert (parsed["NAME"], parsed["USER"], str(parsed["PASSWORD"])) == (
        "test_fr",
        settings_dict["USER"],
        settings_dict["PASSWORD"],
    )
    assert host == (settings_dict["HOST"] or settings_dict["OPTIONS"]["host"])


DATABASE_SETTINGS = (
    "import json; from django.conf import settings as s; d = s.DATABASES['default'];"
    "print(json.dumps({k: d.get(k) for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'OPTIONS',"
    " 'DISABLE_SERVER_SIDE_CURSORS')}))"
)


def _database_settings(env: dict[str, str]) -> dict:
    import json

    result = run_python(DATABASE_SETTINGS, {**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_connections_are_persistent_and_health_checked_by_default():
    found = _database_settings({})
    assert found["CONN_MAX_AGE"] == 600 and found["CONN_HEALTH_CHECKS"] is True
    assert "pool" not in (found["OPTIONS"] or {})
    # psycopg prepares only the statements that ask for it (focusedroom.db.fetch_prepared).
    assert found["OPTIONS"]["prepare_threshold"] == 2**31 - 1
    assert _database_settings({"DB_CONN_MAX_AGE": "0"})["CONN_MAX_AGE"] == 0


def test_the_psycopg_pool_option_parses():
    found = _database_settings({"DB_POOL": "true", "DB_POOL_MAX_SIZE": "7"})
    # Django refuses persistent connections together with a pool: the pool keeps them instead.
    assert found["CONN_MAX_AGE"] == 0
    assert found["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 7, "timeout": 10.0}


def test_the_pgbouncer_option_parses():
    found = _database_settings({"DB_PGBOUNCER": "true"})
    assert found["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert found["OPTIONS"]["prepare_threshold"] is None
    assert found["CONN_MAX_AGE"] == 600


def test_two_poolers_at_once_are_refused():
    result = run_python("import django; django.setup()", {**PRODUCTION, "DB_POOL": "1", "DB_PGBOUNCER": "1"})
    assert result.returncode != 0 and "choose one" in result.stderr


@pytest.mark.django_db
def test_the_pool_opens_real_connections():
    """With DB_POOL, Django's psycopg pool serves queries (psycopg-pool is installed and pinned)."""
    from django.db import connection

    from focusedroom.embedded_db import database_url_for

    url = database_url_for(connection.settings_dict)
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('select 1'); print(c.fetchone()[0], connection.pool is not None)"
    )
    result = run_python(code, {"DATABASE_URL": url, "DB_POOL": "true", "DB_POOL_MIN_SIZE": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]


def test_the_web_process_freezes_what_set_up_created():
    """``focusedroom.wsgi`` (what gunicorn loads) takes set-up's objects out of the collector's full passes."""
    result = run_python("import gc, focusedroom.wsgi; print(gc.get_freeze_count())", {})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 50_000
