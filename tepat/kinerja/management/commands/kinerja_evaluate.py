"""Evaluate and store a month for everyone in post (e.g. on the 1st, for the month before,
before TPP is computed), with the policy in force on the month's first day."""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from tepat.kinerja.services import month_evaluation_store
from tepat.org.models import Employee


class Command(BaseCommand):
    help = "Hitung dan simpan kinerja bulanan. (Evaluate and store a month.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="Bulan TTTT-BB (default: bulan lalu).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            first = (
                date.fromisoformat(options["month"] + "-01")
                if options["month"]
                else (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
            )
        except ValueError:
            raise CommandError("Bulan harus berformat TTTT-BB.") from None
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        employees = Employee.objects.filter(
            Q(assignments__valid_to__isnull=True) | Q(assignments__valid_to__gt=first),
            assignments__valid_from__lt=last,
        ).distinct()
        count = 0
        for employee in employees.iterator(chunk_size=500):
            month_evaluation_store(employee=employee, year=first.year, month=first.month)
            count += 1
        self.stdout.write(f"{first:%Y-%m}: {count} pegawai")
