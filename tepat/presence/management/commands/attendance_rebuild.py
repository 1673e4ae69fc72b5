"""Build the daily verdicts from the ledger: run nightly for yesterday (systemd timer or
cron, see docs/deploy.md), or for a month or a range after a policy correction — a whole
period as one job (`attendance_period_rebuild`: every input read once, employees in chunks
over the worker processes)."""

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tepat.command_args import month_first_day
from tepat.presence.attendance import (
    attendance_days_rebuild,
    attendance_period_rebuild,
    month_days,
)


class Command(BaseCommand):
    help = "Hitung ulang rekap harian dari catatan absen. (Rebuild daily attendance verdicts.)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="Tanggal TTTT-BB-HH (default: kemarin).")
        parser.add_argument("--days", type=int, default=1, help="Jumlah hari mulai --day.")
        parser.add_argument("--month", help="Satu bulan penuh TTTT-BB (menggantikan --day).")
        parser.add_argument(
            "--processes",
            type=int,
            help="Jumlah proses (default: TEPAT_ATTENDANCE_REBUILD_PROCESSES).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["month"]:
            start = month_first_day(options["month"])
            first, last = month_days(start.year, start.month)
        else:
            try:
                first = (
                    date.fromisoformat(options["day"])
                    if options["day"]
                    else timezone.localdate() - timedelta(days=1)
                )
            except ValueError:
                raise CommandError("Tanggal harus berformat TTTT-BB-HH.") from None
            if not 1 <= options["days"] <= 366:
                raise CommandError("--days harus antara 1 dan 366.")
            last = first + timedelta(days=options["days"] - 1)
        if first == last:
            written = attendance_days_rebuild(first)
            self.stdout.write(f"{first.isoformat()}: {written} pegawai")
            return
        try:
            written = attendance_period_rebuild(first, last, processes=options["processes"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{first.isoformat()} s.d. {last.isoformat()}: {written} hari-pegawai")
