"""Evaluate and store a month for everyone in post (e.g. on the 1st, for the month before,
before TPP is computed), with the policy in force on the month's first day."""

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.kinerja.services import months_evaluation_store


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
        count = months_evaluation_store(year=first.year, month=first.month)
        self.stdout.write(f"{first:%Y-%m}: {count} pegawai")
