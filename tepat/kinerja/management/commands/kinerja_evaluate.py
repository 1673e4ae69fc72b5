"""Evaluate and store a month for everyone in post (e.g. on the 1st, for the month before,
before TPP is computed), with the policy in force on the month's first day."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.command_args import month_first_day
from tepat.kinerja.services import months_evaluation_store


class Command(BaseCommand):
    help = "Hitung dan simpan kinerja bulanan. (Evaluate and store a month.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="Bulan TTTT-BB (default: bulan lalu).")

    def handle(self, *args: Any, **options: Any) -> None:
        first = month_first_day(options["month"])
        count = months_evaluation_store(year=first.year, month=first.month)
        self.stdout.write(f"{first:%Y-%m}: {count} pegawai")
