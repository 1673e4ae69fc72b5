"""Monthly range partitions on PostgreSQL: the attendance ledger and the e-Kinerja daily
reports (plain tables on SQLite).

``presence_checkinevent`` is partitioned by ``taken_at`` (the time of the check-in, not of its
arrival): the verdicts, the TPP month, exports and live views all ask for a range of
``taken_at``, so PostgreSQL reads only the months asked for, and a month's partition is the
unit of archiving once its TPP is paid (docs/adr/0002-ledger-partitioned-by-month.md).
``kinerja_dailyreport`` is partitioned by ``day`` the same way.

One partition per calendar month in ``settings.TIME_ZONE`` (``presence_checkinevent_y2026m12``)
and a DEFAULT partition (``presence_checkinevent_default``) for whatever no month takes — a
machine whose clock reset to 2000, a month not created yet — so a check-in never fails for want
of a partition. ``partitions_ensure`` creates the coming months ahead of time (``tepat
partitions ensure``, also after every ``migrate``) and moves rows the DEFAULT partition holds
for a month it creates; ``partitions_detach`` detaches old months for archiving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

LEDGER = "presence_checkinevent"
REPORTS = "kinerja_dailyreport"
# The partitioned tables and their partition keys: a timestamp (months cut in the regency's
# zone) or a date (the report's day).
PARTITION_KEYS = {LEDGER: "taken_at", REPORTS: "day"}
DATE_KEYED = {REPORTS}
MONTHS_AHEAD = 3
_MONTH_NAME = re.compile(r"_y(\d{4})m(\d{2})$")


@dataclass(frozen=True)
class Partition:
    name: str
    month: tuple[int, int] | None  # (year, month); None for the DEFAULT partition
    rows: int  # PostgreSQL's estimate (pg_class.reltuples), -1 before the first ANALYZE


def month_add(month: tuple[int, int], n: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + n
    return index // 12, index % 12 + 1


def month_name(table: str, month: tuple[int, int]) -> str:
    return f"{table}_y{month[0]:04d}m{month[1]:02d}"


def month_bounds(month: tuple[int, int], table: str = LEDGER) -> tuple[str, str]:
    """The month's first day (or instant, in the regency's zone) and the next month's."""
    end_month = month_add(month, 1)
    if table in DATE_KEYED:
        return date(*month, 1).isoformat(), date(*end_month, 1).isoformat()
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime(month[0], month[1], 1, tzinfo=zone)
    end = datetime(end_month[0], end_month[1], 1, tzinfo=zone)
    return start.isoformat(), end.isoformat()


def partitions_supported() -> bool:
    return connection.vendor == "postgresql"


def partitions_list(table: str = LEDGER) -> list[Partition]:
    """The partitions of ``table``: months in order, DEFAULT last; [] if not partitioned."""
    if not partitions_supported():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.relname = %s AND p.relkind = 'p'",
            [table],
        )
        found = cursor.fetchall()
    parts = []
    for name, rows in found:
        match = _MONTH_NAME.search(name)
        month = (int(match[1]), int(match[2])) if match else None
        parts.append(Partition(name, month, rows))
    return sorted(parts, key=lambda p: (p.month is None, p.month or (0, 0)))


def partition_month_create(cursor, table: str, month: tuple[int, int]) -> str:  # type: ignore[no-untyped-def]
    """Create one month's partition; rows the DEFAULT partition holds for it move into it.

    PostgreSQL refuses a new partition whose range the DEFAULT partition has rows for, so
    those rows move in the same transaction: the DEFAULT partition is detached (its copies of
    the ledger's triggers go with it), the month is filled from it as a plain table and both
    are attached again. Nothing is lost: it all commits or nothing does.
    """
    name = month_name(table, month)
    start, end = month_bounds(month, table)
    default = f"{table}_default"
    key = PARTITION_KEYS[table]
    where = f"{key} >= %s AND {key} < %s"
    # Names from this module only, never from input; the bounds are parameters.
    exists = f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {where})"  # noqa: S608  # nosec B608
    cursor.execute(exists, [start, end])
    if not cursor.fetchone()[0]:
        cursor.execute(
            f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%s) TO (%s)", [start, end]
        )
        return name
    cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
    cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    move = f"INSERT INTO {name} SELECT * FROM {default} WHERE {where}"  # noqa: S608  # nosec B608
    cursor.execute(move, [start, end])
    cursor.execute(f"DELETE FROM {default} WHERE {where}", [start, end])  # noqa: S608  # nosec B608
    cursor.execute(
        f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end]
    )
    cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
    return name


def partitions_ensure(
    tables: tuple[str, ...] = tuple(PARTITION_KEYS),
    *,
    today: date | None = None,
    ahead: int = MONTHS_AHEAD,
) -> list[str]:
    """Create this month's partition and the next ``ahead`` months' of each of ``tables`` (the
    partitioned ones) if missing; their names."""
    if not partitions_supported():
        return []
    today = today or datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    this_month = (today.year, today.month)
    created = []
    for table in tables:
        existing = partitions_list(table)
        if not existing:
            continue  # not partitioned (yet): nothing to do
        have = {p.month for p in existing}
        with transaction.atomic(), connection.cursor() as cursor:
            for n in range(ahead + 1):
                month = month_add(this_month, n)
                if month not in have:
                    created.append(partition_month_create(cursor, table, month))
    return created


def partitions_detach(
    tables: tuple[str, ...] = tuple(PARTITION_KEYS),
    *,
    before: tuple[int, int],
    dry_run: bool = False,
) -> list[str]:
    """Detach every month before ``before``: each stays a plain table of its own name, out of
    the ledger, to be dumped (``pg_dump -t NAME``) and dropped once the archive is checked."""
    old = [
        (table, p.name)
        for table in tables
        for p in partitions_list(table)
        if p.month is not None and p.month < before
    ]
    if not dry_run:
        with transaction.atomic(), connection.cursor() as cursor:
            for table, name in old:
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {name}")
    return [name for _table, name in old]


def partitions_after_migrate(using: str = "default", **kwargs: object) -> None:
    """post_migrate: the coming months' partitions, on the database just migrated."""
    if using == "default":
        partitions_ensure()
