"""Child processes for tests that run FocusedRoom for real: task workers and web servers.

``child_env(database_url=..., **settings)`` is the environment of a child that reaches the given
database with the test settings; ``start_worker`` runs ``manage.py procrastinate worker``,
``start_web`` a gunicorn web process. Every child is a ``Child``: ``kill()`` is SIGKILL (nothing
is cleaned up, as when a machine dies), ``stop()`` SIGTERM then wait.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_env(
    *,
    database_url: str,
    replica_url: str = "",
    settings_module: str = "focusedroom.test_settings",
    **overrides: str | float | int,
) -> dict[str, str]:
    """The environment of a child process; ``settings_module="focusedroom.settings"`` with
    ``DJANGO_ENV=test`` runs the production code paths (tasks queued, not run at commit)."""
    keep = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DJANGO_SETTINGS_MODULE"}}
    keep.pop("DATABASE_REPLICA_URL", None)
    env = {**keep, "DJANGO_SETTINGS_MODULE": settings_module, "DATABASE_URL": database_url}
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
        f"--workers={workers}", "--threads=4", "--access-logfile=-", "--timeout=60",
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


class RoundRobinProxy:
    """A tiny TCP load balancer on loopback: each new connection goes to the next backend port."""

    def __init__(self, backends: list[int]):
        self.backends = backends
        self.counts = [0] * len(backends)
        self._next = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RoundRobinProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            index = self._next % len(self.backends)
            self._next += 1
            self.counts[index] += 1
            threading.Thread(target=self._pipe, args=(client, self.backends[index]), daemon=True).start()

    @staticmethod
    def _pipe(client: socket.socket, port: int) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", port))
        except OSError:
            client.close()
            return
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=60):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            client.close()
            upstream.close()
