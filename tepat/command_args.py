"""Arguments the management commands share."""

from datetime import date, timedelta

from django.core.management.base import CommandError
from django.utils import timezone


def month_first_day(value: str | None) -> date:
    """The first day of the month given as ``--month TTTT-BB``; without one, last month."""
    if not value:
        return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    try:
        return date.fromisoformat(value + "-01")
    except ValueError:
        raise CommandError("Bulan harus berformat TTTT-BB.") from None
