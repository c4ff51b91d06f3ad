"""``make bench``: run every ``bench/bench_*.py`` and print the README's table.

Benchmarks run against their own database (``<name>_bench`` next to the configured
one) so they never touch development data. ``python bench/run.py NAME…`` runs only
the named modules (e.g. ``api``).
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _bench_database_url() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusedroom.settings")
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        from focusedroom.embedded_db import embedded_database_url

        return embedded_database_url(ROOT / ".pgdata", database="focusedroom_bench")
    import psycopg
    from psycopg import sql

    head, _, tail = base.rpartition("/")
    name, sep, query = tail.partition("?")
    with psycopg.connect(base, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{name}_bench"]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(f"{name}_bench")))
    return f"{head}/{name}_bench{sep}{query}"


def main(selected: list[str]) -> int:
    os.environ["DATABASE_URL"] = _bench_database_url()
    # Limits would refuse a benchmark's traffic (the servers set the same, see common.live_server).
    for scope in ("ANON", "USER", "AUTH"):
        os.environ.setdefault(f"THROTTLE_{scope}", "1000000/min")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    modules = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    if selected:
        modules = [m for m in modules if m.removeprefix("bench_") in selected]
    rows = []
    for name in modules:
        print(f"running {name} …", flush=True)
        rows.extend(importlib.import_module(name).run())

    lines = [
        "| benchmark | result | baseline (same run) | ratio | note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = (
            "n/a" if math.isnan(r.ratio) else f"{r.ratio:.2f}×" + ("" if r.higher_is_better else " (lower is better)")
        )
        lines.append(
            f"| {r.name} | {r.value:,.2f} {r.unit} | {r.baseline_name}: {r.baseline_value:,.2f} {r.unit} | {ratio} | {r.note} |"
        )
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
