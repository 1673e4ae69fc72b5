"""Background work for e-Presensi, run by the django-tasks database worker
(``tepat db_worker``), never inside a web request."""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.org.models import Employee
from tepat.presence.attendance import (
    attendance_day_rebuild,
    attendance_days_rebuild,
    attendance_period_rebuild,
)

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


# Verdicts rebuilt by one task after a backlog: a machine back from a week offline sends
# thousands of employee-days, and one queued row (one commit) each made the upload crawl.
REBUILD_CHUNK = 500


@task()
def attendance_day_rebuild_task(employee_id: int, day: str) -> str:
    """Rebuild one verdict after a late event, a review decision or a correction."""
    employee = Employee.objects.get(pk=employee_id)
    row = attendance_day_rebuild(employee, date.fromisoformat(day))
    return "" if row is None else f"{row.day_code} {row.in_code} {row.out_code}".strip()


@task()
def attendance_days_rebuild_task(days: list[list[Any]]) -> str:
    """Rebuild the verdicts of many ``[employee id, "YYYY-MM-DD"]`` pairs (a backlog): each
    day once for all its employees, in a fixed number of queries."""
    known = set(
        Employee.objects.filter(pk__in={int(e) for e, _ in days}).values_list("pk", flat=True)
    )
    by_day: dict[date, list[int]] = {}
    for employee_id, day in days:
        if int(employee_id) in known:
            by_day.setdefault(date.fromisoformat(day), []).append(int(employee_id))
    for day, employee_ids in sorted(by_day.items()):
        attendance_days_rebuild(day, sorted(set(employee_ids)))
    return f"{sum(len(ids) for ids in by_day.values())} days"


@task()
def attendance_period_rebuild_task(first: str, last: str) -> str:
    """Rebuild every verdict of a period (a month after a policy correction) as one job."""
    written = attendance_period_rebuild(date.fromisoformat(first), date.fromisoformat(last))
    return f"{first} s.d. {last}: {written} hari-pegawai"


def days_rebuild_later(
    days: Iterable[tuple[int, date]],
    *,
    before: date | None = None,
    with_caller: bool = False,
    punches: bool = False,
) -> None:
    """Queue the verdict rebuild of each employee-day once the punches are committed. With
    ``before``, only days before it: today's verdict is built by the nightly run, as for a
    phone check-in. Many days go in tasks of REBUILD_CHUNK days, queued in one commit.
    ``with_caller``: queued in the caller's transaction instead, so the task rows commit with
    the events that need them (one commit less for a machine's upload batch). ``punches``: the
    days are those of new or reviewed punches, whose neighbours' verdicts may read them too."""
    wanted_days = {(e, d) for e, d in days if before is None or d < before}
    if punches:
        # The days are punches' own dates: a punch may also belong to the day before (a night
        # shift's window closes the next morning) or after (an early shift's opens before
        # midnight), see `attendance.events_window`. Those are rebuilt too, if already past.
        limit = before or timezone.localdate()
        wanted_days |= {
            (e, d + timedelta(days=n))
            for e, d in wanted_days
            for n in (-1, 1)
            if d + timedelta(days=n) < limit
        }
    wanted = sorted(wanted_days)

    def enqueue() -> None:
        if len(wanted) == 1:
            employee_id, day = wanted[0]
            attendance_day_rebuild_task.enqueue(employee_id, day.isoformat())
            return
        with transaction.atomic(savepoint=False):
            for start in range(0, len(wanted), REBUILD_CHUNK):
                chunk = wanted[start : start + REBUILD_CHUNK]
                attendance_days_rebuild_task.enqueue([[e, d.isoformat()] for e, d in chunk])

    if wanted and with_caller:
        enqueue()
    elif wanted:
        transaction.on_commit(enqueue)
