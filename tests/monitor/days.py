"""Stored daily verdicts for the discipline tests, as the nightly rebuild would leave them."""

from datetime import date, timedelta

from django.utils import timezone

from tepat.org.models import Employee
from tepat.presence.models import AttendanceDay


def working_days_until(last: date, count: int) -> list[date]:
    """The ``count`` weekdays ending on ``last`` (a weekday), oldest first."""
    days: list[date] = []
    d = last
    while len(days) < count:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    return days[::-1]


def verdicts(employee: Employee, days: list[date], code: str = "TK") -> None:
    AttendanceDay.objects.bulk_create(
        [
            AttendanceDay(
                employee=employee,
                day=d,
                day_code=code,
                rules_version="verdict-1",
                computed_at=timezone.now(),
            )
            for d in days
        ],
        update_conflicts=True,
        unique_fields=["employee", "day"],
        update_fields=["day_code"],
    )
