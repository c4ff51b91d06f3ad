"""A throwaway PostgreSQL primary with a streaming hot standby, for tests of the read replica.

``PostgresPair.start()`` runs ``initdb`` for a primary in a temporary folder, starts it on a free
loopback port with ``wal_level = replica``, takes ``pg_basebackup -R`` (streaming WAL, standby
configuration written) into a second folder and starts that as a hot standby on another port. The
binaries are the embedded server's (``pgserver``), so any machine that runs FocusedRoom can run
the pair; as root, the servers run as pgserver's own system user, like the embedded server.

A dedicated pair, rather than a standby of the test database's own server: that server may not be
ours (a managed PostgreSQL, the machine's, without a replication slot for us). ``load_from``
copies a database into the primary (``pg_dump | psql``); the standby follows by streaming.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


def _bin_dir() -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresPair:
    database: str = "focusedroom"
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fr-pgpair-")))
    primary_port: int = 0
    standby_port: int = 0

    # ------------------------------------------------------------------ life cycle
    def start(self) -> PostgresPair:
        self._system_user = "pgserver" if os.geteuid() == 0 else None
        if self._system_user:
            import pwd

            entry = pwd.getpwnam(self._system_user)
            os.chmod(self.base, 0o755)  # noqa: S103 (the server's user must reach its folders)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self.primary_port, self.standby_port = _free_port(), _free_port()
        primary, standby = self.base / "primary", self.base / "standby"
        self._run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nfsync = off\nfull_page_writes = off\n"
                "max_connections = 60\nshared_buffers = 64MB\n"
            )
        self._run("pg_ctl", "-D", str(primary), "-l", str(self.base / "primary.log"), "-w", "start")
        self._run(
            "pg_basebackup", "-D", str(standby), "-R", "-X", "stream", "-h", "127.0.0.1",
            "-p", str(self.primary_port), "-U", "postgres", "--no-sync",
        )  # fmt: skip
        with open(standby / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.standby_port}\nhot_standby = on\nhot_standby_feedback = on\n")
        self._run("pg_ctl", "-D", str(standby), "-l", str(self.base / "standby.log"), "-w", "start")
        with psycopg.connect(self.admin_url("primary"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.wait_for_replay()
        return self

    def stop(self) -> None:
        for name in ("standby", "primary"):
            if (self.base / name / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.base / name), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        command = [str(_bin_dir() / program), *args]
        result = subprocess.run(  # noqa: S603 (our argv)
            command, user=self._system_user, capture_output=True, text=True, timeout=300, check=False, **kwargs
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr[-2000:]}")
        return result

    # ------------------------------------------------------------------ addresses
    def admin_url(self, which: str) -> str:
        port = self.primary_port if which == "primary" else self.standby_port
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def url(self, which: str) -> str:
        port = self.primary_port if which == "primary" else self.standby_port
        return f"postgres://postgres@127.0.0.1:{port}/{self.database}"

    # ------------------------------------------------------------------ data
    def load_from(self, source_url: str) -> None:
        """Copy a database (schema and rows) into the primary; the standby follows."""
        dump = subprocess.run(  # noqa: S603 (our argv)
            [str(_bin_dir() / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            capture_output=True, timeout=300, check=True,
        )  # fmt: skip
        # Column options the source server's build may add and the pair's server does not know.
        script = b"\n".join(line for line in dump.stdout.split(b"\n") if b" SET (pg_attver=" not in line)
        restore = subprocess.run(  # noqa: S603 (our argv)
            [str(_bin_dir() / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url("primary")],
            input=script, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
        if restore.returncode != 0:
            raise RuntimeError(f"restore failed: {restore.stderr.decode(errors='replace')[-2000:]}")
        self.wait_for_replay()

    def wait_for_replay(self, timeout: float = 30) -> float:
        """Wait until the standby has replayed everything the primary has written; returns seconds."""
        started = time.monotonic()
        with psycopg.connect(self.admin_url("primary"), autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        with psycopg.connect(self.admin_url("standby"), autocommit=True) as standby:
            while time.monotonic() - started < timeout:
                behind = standby.execute(
                    "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()) > 0", [target]
                ).fetchone()[0]
                if not behind:
                    return time.monotonic() - started
                time.sleep(0.005)
        raise TimeoutError("the standby did not catch up")
