"""Background work for e-Presensi, run by the django-tasks database worker
(``tepat db_worker``), never inside a web request."""

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from tepat.org.models import Employee
from tepat.presence.attendance import attendance_day_rebuild

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the django-tasks backport
    from django_tasks import task  # type: ignore[no-redef]


@task()
def attendance_day_rebuild_task(employee_id: int, day: str) -> str:
    """Rebuild one verdict after a late event, a review decision or a correction."""
    employee = Employee.objects.get(pk=employee_id)
    row = attendance_day_rebuild(employee, date.fromisoformat(day))
    return "" if row is None else f"{row.day_code} {row.in_code} {row.out_code}".strip()


def days_rebuild_later(days: Iterable[tuple[int, date]], *, before: date | None = None) -> None:
    """Queue the verdict rebuild of each employee-day once the punches are committed. With
    ``before``, only days before it: today's verdict is built by the nightly run, as for a
    phone check-in."""
    wanted = sorted({(e, d) for e, d in days if before is None or d < before})

    def enqueue() -> None:
        for employee_id, day in wanted:
            attendance_day_rebuild_task.enqueue(employee_id, day.isoformat())

    if wanted:
        transaction.on_commit(enqueue)
