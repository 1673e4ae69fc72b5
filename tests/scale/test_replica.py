"""The recap reads from a real streaming replica; writes and logins stay on the primary.

The test starts its own PostgreSQL primary (initdb) and a hot-standby replica of it
(pg_basebackup -R), as the ``postgres`` OS user when run as root, in a temporary directory on
ports 5433/5434 (others if taken). It pauses the replica's replay, writes through Django and
shows that the recap page does not see the write (it read the replica) until replay goes on,
while the write itself, the login made meanwhile and a read inside a transaction are on the
primary. Without the PostgreSQL server binaries it skips (fails in CI).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tepat.nodes.router import REPLICA_APPS
from tests.scale.conftest import ROOT, free_port, tool_required

PG_TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def _bindir() -> Path | None:
    wanted = os.environ.get("TEPAT_PG_BINDIR")
    candidates = [Path(wanted)] if wanted else sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    for bindir in reversed(candidates):  # the newest major version
        if all((bindir / tool).exists() for tool in PG_TOOLS):
            return bindir
    return None


def _port(preferred: int) -> int:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return free_port()


@dataclass
class Clusters:
    bindir: Path
    root: Path
    primary_port: int
    replica_port: int

    def run(self, *args: str) -> None:
        # PostgreSQL refuses to run as root: the tests (root in CI) switch to `postgres`.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, f"{args[0]}: {result.stdout}{result.stderr}"

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/tepat"


@pytest.fixture
def clusters() -> Iterator[Clusters]:
    bindir = _bindir()
    tool_required(bindir is not None, "PostgreSQL server binaries (initdb, pg_basebackup)")
    assert bindir is not None
    if connection.vendor != "postgresql":
        pytest.skip("starts its own PostgreSQL clusters once: runs in the PostgreSQL suite")
    root = Path(tempfile.mkdtemp(prefix="tepat-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary, replica = root / "primary", root / "replica"
    c = Clusters(bindir, root, _port(5433), 0)
    c.replica_port = _port(5434) if c.primary_port != 5434 else free_port()
    started: list[Path] = []
    try:
        c.run(
            str(bindir / "initdb"),
            "-D",
            str(primary),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        settings = (
            f"port = {c.primary_port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{root}'\nfsync = off\nwal_level = replica\n"
            "max_wal_senders = 4\nhot_standby = on\nshared_buffers = 32MB\n"
        )
        c.run("sh", "-c", f'printf %s "{settings}" >> {primary / "postgresql.conf"}')
        c.run(
            str(bindir / "pg_ctl"),
            "-D",
            str(primary),
            "-l",
            str(root / "primary.log"),
            "-w",
            "start",
        )
        started.append(primary)
        c.run(
            str(bindir / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(c.primary_port),
            "-U",
            "postgres",
            "-D",
            str(replica),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        )
        c.run("sh", "-c", f"echo 'port = {c.replica_port}' >> {replica / 'postgresql.auto.conf'}")
        c.run(
            str(bindir / "pg_ctl"),
            "-D",
            str(replica),
            "-l",
            str(root / "replica.log"),
            "-w",
            "start",
        )
        started.append(replica)
        c.run(
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(c.primary_port),
            "-U",
            "postgres",
            "-qc",
            "CREATE DATABASE tepat",
        )
        yield c
    finally:
        for data in reversed(started):
            c.run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _tepat(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_recap_reads_the_replica_and_writes_go_to_the_primary(
    clusters: Clusters, tmp_path: Path
) -> None:
    dropped = {"DATABASE_URL", "DATABASE_REPLICA_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"}
    env = {
        **{k: v for k, v in os.environ.items() if k not in dropped},
        "DATABASE_URL": clusters.url(clusters.primary_port),
        "DATABASE_REPLICA_URL": clusters.url(clusters.replica_port),
        "TEPAT_DATA_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
    }
    migrated = _tepat("-m", "tepat.cli", "migrate", "--verbosity", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr

    probe = _tepat("-m", "tests.scale.replica_probe", env=env)
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    # The live dashboard's figures: today's kept presence per person and the OPDs from the
    # replica; the session, the user and the second factor from the primary.
    assert "monitor_presencetoday" in seen.pop("dashboard_refresh")["primary"]
    dashboard = seen.pop("dashboard")
    assert dashboard["status"] == 200
    assert {"monitor_presencetoday", "org_opd"} <= set(dashboard["replica"])
    # Only the refresh's own mark, which decides whether this request must write, is read
    # from the primary.
    read_on_primary = [t for t in dashboard["primary"] if t.split("_")[0] in REPLICA_APPS]
    assert read_on_primary in ([], ["monitor_presencesync"])
    assert "django_session" in dashboard["primary"]
    assert seen == {
        "write_on_primary": True,
        "write_on_replica_while_paused": False,
        "read_in_transaction_sees_write": True,  # a read that may decide a write: primary
        "recap_while_paused": False,  # the recap read the replica, which had not replayed it
        "teacher_in_recap_while_paused": True,  # ... and did show what the replica had
        "recap_after_replay": True,
    }
