"""Child processes for tests that run FocusedRoom for real: task workers and web servers.

``child_env(database_url=..., **settings)`` is the environment of a child that reaches the given
database with the test settings; ``start_worker`` runs ``manage.py procrastinate worker``,
``start_web`` a gunicorn web process. Every child is a ``Child``: ``kill()`` is SIGKILL (nothing
is cleaned up, as when a machine dies), ``stop()`` SIGTERM then wait.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_env(*, database_url: str, replica_url: str = "", **overrides: str | float | int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DJANGO_SETTINGS_MODULE"}}
    keep.pop("DATABASE_REPLICA_URL", None)
    env = {**keep, "DJANGO_SETTINGS_MODULE": "focusedroom.test_settings", "DATABASE_URL": database_url}
    if replica_url:
        env["DATABASE_REPLICA_URL"] = replica_url
    env.update({key: str(value) for key, value in overrides.items()})
    return env


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log = log_dir / f"{name}.log"
    handle = log.open("wb")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)  # noqa: S603 (our argv)
    handle.close()
    return Child(name=name, process=process, log=log)


def start_worker(*, name: str, env: dict[str, str], log_dir: Path, queues: str = "", concurrency: int = 1) -> Child:
    args = [sys.executable, "manage.py", "procrastinate", "worker", f"--name={name}", f"--concurrency={concurrency}"]
    if queues:
        args.append(f"--queues={queues}")
    return _spawn(name, args, env, log_dir)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(*, name: str, env: dict[str, str], log_dir: Path, port: int, workers: int = 2) -> Child:
    args = [
        sys.executable, "-m", "gunicorn", "focusedroom.wsgi", f"--bind=127.0.0.1:{port}",
        f"--workers={workers}", "--threads=2", "--access-logfile=-", "--timeout=60",
    ]  # fmt: skip
    return _spawn(name, args, env, log_dir)


def wait_for_port(port: int, *, timeout: float = 60, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited: {child.output()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
