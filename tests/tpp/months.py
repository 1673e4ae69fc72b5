"""Hand-made months for the e-TPP tests: stored verdicts and e-Kinerja months, as the nightly
rebuild and the monthly evaluation would leave them. November 2026 has 21 weekdays; the world's
schedule groups have no hours set, so Monday to Friday are the working days."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tepat.kinerja.models import MonthlyEvaluation
from tepat.org.models import Employee
from tepat.presence.models import AttendanceDay

YEAR, MONTH = 2026, 11
NOVEMBER = [date(2026, 11, 1) + timedelta(n) for n in range(30)]
WEEKDAYS = [d for d in NOVEMBER if d.weekday() < 5]


def month_store(
    employee: Employee,
    *,
    minutes: int = 6750,
    days: dict[date, dict[str, Any]] | None = None,
    first: date | None = None,
    last: date | None = None,
) -> None:
    """A month present on time every weekday from `first` to `last`, except `days` (fields of
    AttendanceDay), with `minutes` approved in e-Kinerja."""
    days = days or {}
    now = timezone.now()
    rows = []
    for d in WEEKDAYS:
        if (first and d < first) or (last and d > last):
            continue
        fields: dict[str, Any] = {"day_code": "H", "minutes_late": 0, "minutes_early": 0}
        fields.update(days.get(d, {}))
        rows.append(
            AttendanceDay(
                employee=employee, day=d, rules_version="verdict-1", computed_at=now, **fields
            )
        )
    AttendanceDay.objects.filter(employee=employee, day__in=NOVEMBER).delete()
    AttendanceDay.objects.bulk_create(rows)
    MonthlyEvaluation.objects.update_or_create(
        employee=employee,
        year=YEAR,
        month=MONTH,
        defaults={
            "approved_minutes": minutes,
            "productivity_percent": min(Decimal(100), Decimal(minutes * 100) / 6750).quantize(
                Decimal("0.01")
            ),
            "method": "minutes",
            "policy_name": "kinerja_default",
            "policy_version": "1",
            "rules_version": "kinerja-1",
            "computed_at": now,
        },
    )


def world_month_store(world: Any, **changes: dict[str, Any]) -> None:
    """Every employee of the world has a clean month, except the changes named by attribute."""
    for attr in ("kadis", "principal", "teacher", "teacher2", "kadinkes", "nurse"):
        month_store(getattr(world, attr), **changes.get(attr, {}))
