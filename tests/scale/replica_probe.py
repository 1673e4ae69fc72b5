"""Run by test_replica.py in a process whose settings have a primary and a streaming replica
(DATABASE_URL, DATABASE_REPLICA_URL): prints, as JSON, what the recap page showed while the
replica's replay was paused and after it went on, and where a write and a read inside a
transaction went. Not a test module itself: it needs databases the test starts."""

import json
import os
import re
import sys
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.settings")
django.setup()

from django.db import connections, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tepat.accounts.models import Role  # noqa: E402
from tepat.nodes.router import replica_reads  # noqa: E402
from tepat.org.models import Employee, ScheduleGroup  # noqa: E402
from tests.world import _assign, _employee, login, world_build  # noqa: E402

NEWCOMER = "Pegawai Baru Replika"


def _one(alias: str, sql: str, params: list[Any] | None = None) -> Any:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def replica_caught_up(timeout: float = 30) -> None:
    target = _one("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _one("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]):
            return
        time.sleep(0.1)
    raise SystemExit("the replica did not catch up")


def replay(paused: bool) -> None:
    _one("replica", f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()::text")
    wanted = "paused" if paused else "not paused"
    while _one("replica", "SELECT pg_get_wal_replay_pause_state()") != wanted:
        time.sleep(0.05)


def newcomer_in(alias: str) -> bool:
    return bool(_one(alias, "SELECT count(*) FROM org_employee WHERE name = %s", [NEWCOMER]))


def tables_read(client: Client, path: str) -> dict[str, Any]:
    """The tables each database was asked about while the page was built."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        status = client.get(path).status_code

    def tables(queries: list[dict[str, str]]) -> list[str]:
        return sorted({t for q in queries for t in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])})

    return {
        "status": status,
        "primary": tables(primary.captured_queries),
        "replica": tables(replica.captured_queries),
    }


def recap_shows_newcomer(client: Client) -> bool:
    page = client.get("/presensi/rekap/")
    assert page.status_code == 200, page.status_code  # still logged in: session on the primary
    return NEWCOMER in page.content.decode()


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def main() -> dict[str, Any]:
    world = world_build()
    replica_caught_up()
    replay(paused=True)
    # The login happens now: its session exists on the primary only.
    client = login(Client(), world.users[Role.OPERATOR_OPD])
    # A write through the ORM (as every service's): it must land on the primary.
    newcomer = _employee("PNS", 40, NEWCOMER)
    _assign(
        newcomer,
        world.school,
        supervisor=world.principal,
        kelas=8,
        golongan="III/a",
        group=ScheduleGroup.objects.get(code="guru"),
    )
    with replica_reads(), transaction.atomic():
        read_in_transaction = Employee.objects.filter(name=NEWCOMER).exists()
    result = {
        "write_on_primary": newcomer_in("default"),
        "write_on_replica_while_paused": newcomer_in("replica"),
        "read_in_transaction_sees_write": read_in_transaction,
        "recap_while_paused": recap_shows_newcomer(client),
        "teacher_in_recap_while_paused": world.teacher.full_name
        in client.get("/presensi/rekap/").content.decode(),
        # The first poll of the day rebuilds the dashboard's kept table (a write: the
        # primary); the next poll, within the refresh interval, only reads.
        "dashboard_refresh": tables_read(client, "/pantau/data/"),
        "dashboard": tables_read(client, "/pantau/data/"),
    }
    replay(paused=False)
    replica_caught_up()
    result["recap_after_replay"] = recap_shows_newcomer(client)
    return result


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
