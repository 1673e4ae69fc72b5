"""Compute a month's TPP for the whole regency now (e.g. on the 5th, after e-Kinerja's month is
stored), through the same service as the page. The run then waits for BKPSDM's acceptance."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.command_args import month_first_day
from tepat.tpp.services import tpp_run_compute, tpp_run_start


class Command(BaseCommand):
    help = "Hitung TPP sebulan untuk seluruh pegawai. (Compute a month's TPP.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", help="Bulan TTTT-BB (default: bulan lalu).")

    def handle(self, *args: Any, **options: Any) -> None:
        first = month_first_day(options["month"])
        try:
            run = tpp_run_start(actor=None, year=first.year, month=first.month, enqueue=False)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        run = tpp_run_compute(run.pk)
        kind = "hitung ulang" if run.is_recompute else "perhitungan"
        self.stdout.write(
            f"{first:%Y-%m}: {kind} #{run.pk}, {run.progress_done} pegawai, "
            f"{run.error_count} tidak dapat dihitung; menunggu diterima BKPSDM"
        )
